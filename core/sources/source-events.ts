/**
 * The one event every source produces: `SourceChanged`, put on the platform's own EventBridge bus.
 * A CodeCommit push reaches it through the one push rule and the source-change publisher; a GitHub push
 * through the webhook receiver (core/sources/github-webhook.ts); both publish one event per pipeline
 * following the repository (core/sources/followers.ts). One rule on the bus hands every event to the run
 * starter: what starts runs does not depend on where the push came from.
 */
import type { RunEvent } from '../records';
import type { SourceTrigger } from './triggers';

/** The `source` and `detail-type` of every SourceChanged event. */
export const SOURCE_CHANGED = { source: 'stepline.sources', detailType: 'SourceChanged' } as const;

/** Run events (RunStarted, RunEnded; core/records.ts RunEvent) on the platform's bus, sent by the recorder. */
export const RUN_EVENTS = { source: 'stepline.runs' } as const;

/** Every run event's detail type: each is the notifier's to deliver. */
const RUN_EVENT_KINDS = [
  'RunStarted',
  'RunEnded',
  'ApprovalRequested',
  'ApprovalDecided',
] as const satisfies readonly RunEvent['kind'][];

/** The rule on the platform's bus that hands every run event to the notifier, the detail as input. */
export function runEventTrigger(): SourceTrigger {
  return {
    pattern: { source: [RUN_EVENTS.source], 'detail-type': [...RUN_EVENT_KINDS] },
    input: { path: '$.detail' },
  };
}

/**
 * The one rule on the platform's bus that starts runs: every SourceChanged event, the detail (which names
 * its pipeline) as input, to the run starter. It names no pipeline: adding one changes no rule.
 */
export function sourceChangedTrigger(): SourceTrigger {
  return {
    pattern: { source: [SOURCE_CHANGED.source], 'detail-type': [SOURCE_CHANGED.detailType] },
    input: { path: '$.detail' },
  };
}
