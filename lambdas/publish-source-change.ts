/**
 * Target of each CodeCommit pipeline's push rule: puts the push, shaped by the rule's input transformer
 * (core/sources/triggers.ts), on the platform's bus as a SourceChanged event, where the pipeline's run rule
 * picks it up.
 */
import type { SourceEventPublisher } from '../core/ports';
import { codeCommitPushSchema, parseInput } from '../core/schemas';
import { sourceChangedFromPush } from '../core/sources/triggers';
import { EventBridgeSourcePublisher } from './adapters/bus-publishers';
import { awsPlatform, once, stdoutLog, type HandlerPlatform, type LogLine } from './environment';

export interface PublishSourceChangeDeps {
  readonly publisher: SourceEventPublisher;
}

export function createHandler(deps: PublishSourceChangeDeps, log: LogLine = stdoutLog) {
  return async (event: unknown) => {
    try {
      const change = sourceChangedFromPush(parseInput(codeCommitPushSchema, event, 'SourceChanged event'));
      await deps.publisher.publish([change]);
      const { pipeline, commitId, trigger } = change;
      log({ message: 'source change published', pipeline, commitId, deliveryId: trigger.deliveryId });
      return { published: 1 };
    } catch (error) {
      // Thrown on, so that Lambda retries the asynchronous invocation and then keeps it in the DLQ;
      // the line says why.
      const failure = error instanceof Error ? error : new Error(String(error));
      log({ message: 'source change not published', error: failure.name, cause: failure.message, event });
      throw error;
    }
  };
}

export function handlerOn(platform: HandlerPlatform, log: LogLine) {
  return createHandler(
    { publisher: new EventBridgeSourcePublisher(platform.clients.eventbridge(), platform.sourceBusName) },
    log,
  );
}

const awsHandler = once(() => handlerOn(awsPlatform(), stdoutLog));

export const handler = (event: unknown) => awsHandler()(event);
