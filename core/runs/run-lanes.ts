/**
 * Execution modes. A PARALLEL pipeline starts each run at once. A QUEUED or SUPERSEDED pipeline has
 * one lane: a run waits in it (in push order) until the lane is free, and the run that takes the lane
 * is started. Both the starter (a run arrives) and the recorder (a run ends, however it ends) move
 * the lane forward with `advanceLane`, which any number of them may run at once: each step is one
 * conditional write (core/ports.ts RunLanes), and each step a crash interrupts is completed by the
 * next call — a held lane whose run is still QUEUED is started again (StartExecution is idempotent
 * by name), a lane held by an ended run is freed, a waiting run that is no longer QUEUED is dropped.
 */
import { InvalidTransitionError } from '../errors';
import type { Clock, ExecutionStarter, RunLanes, RunRepository } from '../ports';
import { ACTIVE_RUN_STATUSES, type ExecutionMode, type WaitingRun } from '../records';

export interface LaneDeps {
  readonly runs: RunRepository;
  readonly lanes: RunLanes;
  readonly executions: ExecutionStarter;
  readonly now: Clock;
}

export interface LaneStart {
  readonly runId: string;
  readonly executionArn: string;
  readonly alreadyStarted: boolean;
}

/** More concurrent movers than this would each find the lane taken; the last one standing moves it. */
const MAX_STEPS = 20;

/**
 * A run's place in the lane: its push's time, then when the starter received it, then its id
 * (sortable, unique). CodeCommit stamps its events to the second: pushes within one second wait in
 * the order the starter received them.
 */
export function laneOrder(eventTime: string, receivedAt: string, runId: string): string {
  return `${eventTime}#${receivedAt}#${runId}`;
}

/**
 * Lets a run in: starts it at once in a PARALLEL pipeline; otherwise adds it to the lane and moves
 * the lane, which starts it if its turn has come. Safe to repeat for the same run.
 */
export async function admitRun(
  run: WaitingRun,
  mode: ExecutionMode,
  deps: LaneDeps,
): Promise<{ readonly started?: LaneStart }> {
  if (mode === 'PARALLEL') {
    const started = await deps.executions.start({
      stateMachineArn: run.stateMachineArn,
      name: run.runId,
      input: run.input,
    });
    return { started: { runId: run.runId, ...started } };
  }
  await deps.lanes.enqueue(run);
  const started = await advanceLane(run.pipeline, mode, deps);
  return started?.runId === run.runId ? { started } : {};
}

/** After a run ended: frees its lane if it held it, and starts the next run. */
export async function leaveLane(
  pipeline: string,
  runId: string,
  mode: ExecutionMode,
  deps: LaneDeps,
): Promise<LaneStart | undefined> {
  if (mode === 'PARALLEL') return undefined;
  await deps.lanes.release(pipeline, runId);
  return advanceLane(pipeline, mode, deps);
}

/**
 * Moves a pipeline's lane forward as far as it can go: resolves with the run it started (or found
 * started but not yet running), or undefined when the lane's run is running or no run waits.
 */
export async function advanceLane(
  pipeline: string,
  mode: ExecutionMode,
  deps: LaneDeps,
): Promise<LaneStart | undefined> {
  for (let step = 0; step < MAX_STEPS; step++) {
    // Read together: both are what the lane was a moment ago, and each step below is a conditional write.
    const [holding, waiting] = await Promise.all([deps.lanes.holder(pipeline), deps.lanes.waiting(pipeline)]);
    if (holding) {
      const run = await deps.runs.getRun(holding.runId);
      if (run?.status === 'RUNNING') return undefined;
      // Taken but maybe never started (a crash between the two): start it; a repeat is a no-op.
      if (run?.status === 'QUEUED') return start(holding, deps);
      await deps.lanes.release(pipeline, holding.runId);
      continue;
    }
    const next = mode === 'SUPERSEDED' ? waiting.at(-1) : waiting[0];
    if (!next) return undefined;
    const run = await deps.runs.getRun(next.runId);
    if (run && !ACTIVE_RUN_STATUSES.includes(run.status)) {
      await deps.lanes.dequeue(next);
      continue;
    }
    if (!(await deps.lanes.acquire(next))) continue;
    const started = await start(next, deps);
    if (mode === 'SUPERSEDED') await supersede(waiting.slice(0, -1), next, deps);
    return started;
  }
  return undefined;
}

async function start(run: WaitingRun, deps: LaneDeps): Promise<LaneStart> {
  const started = await deps.executions.start({
    stateMachineArn: run.stateMachineArn,
    name: run.runId,
    input: run.input,
  });
  await deps.lanes.dequeue(run);
  return { runId: run.runId, ...started };
}

/**
 * Records the runs that waited behind the newest one as SUPERSEDED by it. Only the lane's holder
 * does this, so no one can be starting them: the record moves first, then the waiting item goes.
 */
async function supersede(older: readonly WaitingRun[], newest: WaitingRun, deps: LaneDeps): Promise<void> {
  for (const run of older) {
    try {
      await deps.runs.transitionRun(run.runId, 'SUPERSEDED', {
        endedAt: deps.now().toISOString(),
        supersededBy: newest.runId,
      });
    } catch (error) {
      // Already ended some other way (a stop of local mode): nothing to supersede.
      if (!(error instanceof InvalidTransitionError)) throw error;
    }
    await deps.lanes.dequeue(run);
  }
}
