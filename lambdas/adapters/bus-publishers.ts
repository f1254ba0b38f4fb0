/** What puts stepline's own events on the platform's bus: SourceChanged, and run starts and ends. */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { BusEventsRefusedError } from '../../core/errors';
import type { RunEventPublisher, SourceEventPublisher } from '../../core/ports';
import type { RunEvent, SourceChanged } from '../../core/records';
import { RUN_EVENTS, SOURCE_CHANGED } from '../../core/sources/source-events';

/** PutEvents takes at most 10 entries per call. */
const PUT_EVENTS_BATCH = 10;

/** Puts SourceChanged events on the platform's bus; an entry EventBridge refuses fails the call, so the caller retries. */
export class EventBridgeSourcePublisher implements SourceEventPublisher {
  constructor(
    private readonly events: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: readonly SourceChanged[]): Promise<void> {
    const failures: string[] = [];
    for (let i = 0; i < events.length; i += PUT_EVENTS_BATCH) {
      const batch = events.slice(i, i + PUT_EVENTS_BATCH);
      const answer = await this.events.send(
        new PutEventsCommand({
          Entries: batch.map((event) => ({
            EventBusName: this.busName,
            Source: SOURCE_CHANGED.source,
            DetailType: SOURCE_CHANGED.detailType,
            Detail: JSON.stringify(event),
          })),
        }),
      );
      answer.Entries?.forEach((entry, index) => {
        if (entry.ErrorCode) {
          failures.push(`${batch[index]!.pipeline}: ${entry.ErrorCode} ${entry.ErrorMessage ?? ''}`.trim());
        }
      });
    }
    // Publishing again is harmless: the starter names the run by the delivery, so a repeat is a duplicate.
    if (failures.length) throw new BusEventsRefusedError(SOURCE_CHANGED.detailType, failures);
  }
}

/** Puts run events on the platform's bus (detail-type RunStarted or RunEnded); a refused entry throws. */
export class EventBridgeRunEventPublisher implements RunEventPublisher {
  constructor(
    private readonly events: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(event: RunEvent): Promise<void> {
    const answer = await this.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.busName,
            Source: RUN_EVENTS.source,
            DetailType: event.kind,
            Detail: JSON.stringify(event),
          },
        ],
      }),
    );
    const refused = answer.Entries?.find((entry) => entry.ErrorCode);
    if (refused)
      throw new BusEventsRefusedError(event.kind, [
        `${event.runId}: ${refused.ErrorCode} ${refused.ErrorMessage ?? ''}`.trim(),
      ]);
  }
}
