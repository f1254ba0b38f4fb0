/**
 * What local mode does about a session that ended: a run that was active when it stopped has no
 * execution any more (aborted at a stop, lost with the process at a kill), so it is recorded as AWS
 * records a run whose execution ended without recording it — by the same core code
 * (core/runs/progress.ts, recordUnfinishedRun): FAILED naming why (LocalModeStopped), its stages as the
 * execution left them, its end announced on the platform bus (RunEnded, through the same publisher the
 * recorder uses). At a stop, and at the next start for a local mode that could not stop.
 *
 * A run waiting at a release gate is left RUNNING: its execution resumes there at the next start. A run
 * waiting in its pipeline's lane (QUEUED, never started) had no execution to lose: it keeps its place,
 * as it would in DynamoDB on AWS. The lanes move on at the next start, not at a stop (that would start
 * runs as local mode closes): each lane whose holder ended moves as the recorder moves it when a run
 * ends (core/runs/progress.ts, moveLane), so the waiting runs start in push order (moveLanesOn).
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { PipelineConfig } from '../core/config/stepline-config';
import { SOURCE_BUS_NAME } from '../core/platform';
import { ACTIVE_RUN_STATUSES, type RunRecord } from '../core/records';
import { moveLane, recordUnfinishedRun, type LaneMoveDeps } from '../core/runs/progress';
import { advanceLane } from '../core/runs/run-lanes';
import { EventBridgeRunEventPublisher } from '../lambdas/adapters/bus-publishers';
import type { RunStore } from '../store/run-store';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './constants';
import { endInterruptedDeployments } from './interrupted-deployments';

/** Why a run local mode's stop interrupted failed. */
export const LOCAL_MODE_STOPPED = {
  error: 'LocalModeStopped',
  cause: 'local mode stopped while this run was in progress; local executions do not survive a restart',
} as const;

/** The local executions, as far as recovery needs them: which exist, which resume at their gate. */
export interface KeptExecutions {
  listExecutions(): readonly { readonly name: string }[];
  /** Names of the executions that resume at their task token on the next start. */
  suspendedExecutions(): readonly string[];
}

/**
 * The runs a session left active (QUEUED or RUNNING) whose executions it ended: not those whose
 * executions resume at their release gate, nor those waiting in their pipeline's lane that never
 * started (QUEUED with no execution), which keep their place. List them before anything can start a run.
 */
export async function interruptedRunsOf(store: RunStore, executions: KeptExecutions): Promise<string[]> {
  const resumable = new Set(executions.suspendedExecutions());
  const started = new Set([...executions.listExecutions().map((e) => e.name), ...resumable]);
  const lanes = new Map<string, Promise<ReadonlySet<string>>>();
  const inLane = async (run: RunRecord) => {
    if (!lanes.has(run.pipeline)) lanes.set(run.pipeline, runsInLane(store, run.pipeline));
    return (await lanes.get(run.pipeline)!).has(run.runId);
  };
  const interrupted: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listActiveRuns({ cursor });
    for (const run of page.items) {
      // A redriven run's execution is its last redrive's (`<run>-redrive-<n>`).
      const current = run.executionArn
        ? run.executionArn.slice(run.executionArn.lastIndexOf(':') + 1)
        : run.executionName;
      if (current && resumable.has(current)) continue;
      if (run.status === 'QUEUED' && !started.has(run.executionName) && (await inLane(run))) continue;
      interrupted.push(run.runId);
    }
    cursor = page.cursor;
  } while (cursor);
  return interrupted;
}

/** The runs in a pipeline's lane: its holder and the runs waiting behind it. */
async function runsInLane(store: RunStore, pipeline: string): Promise<ReadonlySet<string>> {
  const holder = await store.holder(pipeline);
  const waiting = await store.waiting(pipeline);
  return new Set([...(holder ? [holder.runId] : []), ...waiting.map((run) => run.runId)]);
}

/**
 * Records each interrupted run FAILED (LocalModeStopped) and announces its end through the local
 * endpoint's EventBridge, onto the platform bus, where the run-event rule hands it to the notifier.
 */
export async function recordInterruptedRuns(
  runIds: readonly string[],
  deps: Parameters<typeof endInterruptedDeployments>[1],
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

/**
 * At a start, once the interrupted runs are recorded: moves on each lane whose holder has ended, as the
 * recorder does when a run ends (core/runs/progress.ts, moveLane: the lane freed, the next run in push
 * order — the newest in a SUPERSEDED pipeline, the others superseded — taking it and started). A lane
 * held by a run that resumes at its release gate keeps it. Any other lane is moved as far as it can go
 * (core/runs/run-lanes.ts, advanceLane), which finishes a move a kill interrupted between two steps.
 * Resolves with the runs that took a lane (they waited in it over the restart, and run now).
 */
export async function moveLanesOn(pipelines: readonly PipelineConfig[], deps: LaneMoveDeps): Promise<string[]> {
  const started: string[] = [];
  for (const pipeline of pipelines) {
    if (pipeline.executionMode === 'PARALLEL') continue;
    const holding = await deps.lanes.holder(pipeline.name);
    const holder = holding && (await deps.runs.getRun(holding.runId));
    if (holder && !ACTIVE_RUN_STATUSES.includes(holder.status)) await moveLane(holder, deps);
    else await advanceLane(pipeline.name, pipeline.executionMode, deps);
    const next = await deps.lanes.holder(pipeline.name);
    if (next && next.runId !== holding?.runId) started.push(next.runId);
  }
  return started;
}
