/**
 * What local mode does about a session that ended: a run that was active when it stopped has no
 * execution any more (aborted at a stop, lost with the process at a kill), so it is recorded as AWS
 * records a run whose execution ended without recording it — by the same core code
 * (core/runs/progress.ts, recordUnfinishedRun): FAILED naming why (LocalModeStopped), its stages as the
 * execution left them, its end announced on the platform bus (RunEnded, through the same publisher the
 * recorder uses). At a stop, and at the next start for a local mode that could not stop.
 *
 * Two differences from AWS, both deliberate for now: a run waiting at a release gate is left RUNNING,
 * its execution resumes there at the next start; and the lane does not move on — at a stop that would
 * start the next waiting run, which is itself recorded FAILED here (issue 23 changes what happens to
 * waiting runs).
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SOURCE_BUS_NAME } from '../core/platform';
import type { Clock } from '../core/ports';
import { recordUnfinishedRun } from '../core/runs/progress';
import { EventBridgeRunEventPublisher } from '../lambdas/adapters/bus-publishers';
import type { RunStore } from '../store/run-store';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './constants';
import { endInterruptedDeployments } from './interrupted-deployments';

/** Why a run local mode's stop interrupted failed. */
export const LOCAL_MODE_STOPPED = {
  error: 'LocalModeStopped',
  cause: 'local mode stopped while this run was in progress; local executions do not survive a restart',
} as const;

/**
 * The runs a session left active (QUEUED or RUNNING), but for those whose executions resume at their
 * release gate (`resumable`, by execution name). List them before anything can start a run.
 */
export async function interruptedRunsOf(store: RunStore, resumable: ReadonlySet<string>): Promise<string[]> {
  const interrupted: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listActiveRuns({ cursor });
    for (const run of page.items) {
      if (run.executionName && resumable.has(run.executionName)) continue;
      interrupted.push(run.runId);
    }
    cursor = page.cursor;
  } while (cursor);
  return interrupted;
}

/**
 * Records each interrupted run FAILED (LocalModeStopped) and announces its end through the local
 * endpoint's EventBridge, onto the platform bus, where the run-event rule hands it to the notifier.
 */
export async function recordInterruptedRuns(
  runIds: readonly string[],
  deps: { readonly store: RunStore; readonly now: Clock; readonly endpointUrl: string },
): Promise<void> {
  if (runIds.length === 0) return;
  const eventbridge = new EventBridgeClient({
    endpoint: deps.endpointUrl,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    const events = new EventBridgeRunEventPublisher(eventbridge, SOURCE_BUS_NAME);
    // Its release first, so that the run's end is announced with its deployment ended.
    await endInterruptedDeployments(runIds, deps);
    for (const runId of runIds) {
      await recordUnfinishedRun(runId, LOCAL_MODE_STOPPED, { runs: deps.store, events, now: deps.now });
    }
  } finally {
    eventbridge.destroy();
  }
}
