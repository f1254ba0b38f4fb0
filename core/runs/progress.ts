/**
 * The progress recorder: turns each step the state machine reports into a forward-only write to the
 * run store. A failure is recorded with the failing stage, a readable cause and the tail of its log.
 * When a run ends — recorded by its state machine, or reported by the execution status rule however
 * the execution ended (aborted, timed out) — the pipeline's lane moves on to the next run.
 */
import { closeExpiredGate } from '../approval/gate';
import type {
  ApprovalStore,
  BuildDetails,
  BuildInspector,
  Clock,
  PipelineCatalog,
  RunEventPublisher,
  RunHistory,
  RunLanes,
  RunRepository,
} from '../ports';
import {
  ACTIVE_RUN_STATUSES,
  type ExecutionEndStatus,
  type FailedTest,
  type Failure,
  type ProgressEvent,
  type RunEvent,
  type RunRecord,
  type StageRecord,
  type TaskError,
  type TestSummary,
} from '../records';
import { advanceLane, leaveLane, type LaneDeps } from './run-lanes';
import { runIdOfExecution } from './redrive';
import { excerpt, plainText } from '../text';

export const LOG_TAIL_LINES = 30;
/** How many failing test cases a stage record names: enough to act on, few enough for a message. */
export const MAX_FAILED_TESTS = 10;
const MAX_CAUSE_LENGTH = 2000;
const FAILURE_MESSAGE_LINES = 5;
const FAILURE_MESSAGE_LENGTH = 500;

export interface ProgressDeps extends LaneDeps {
  readonly runs: RunRepository & RunHistory;
  /** Release gates: an expired run's gate is closed too. */
  readonly approvals: ApprovalStore;
  readonly lanes: RunLanes;
  readonly builds: BuildInspector;
  readonly catalog: PipelineCatalog;
  /** Tells the notifier a run started or ended (RunStarted, RunEnded on the platform's bus), live consoles a stage changed. */
  readonly events: RunEventPublisher;
  readonly now: Clock;
}

export async function recordProgress(
  event: ProgressEvent,
  deps: ProgressDeps,
): Promise<RunRecord | StageRecord | undefined> {
  const { runs } = deps;
  const now = deps.now().toISOString();
  switch (event.kind) {
    case 'runStarted': {
      const run = await runs.transitionRun(event.runId, 'RUNNING', {
        executionArn: event.executionArn,
        startedAt: event.startedAt,
      });
      await announce({ kind: 'RunStarted', runId: run.runId, pipeline: run.pipeline }, deps);
      return run;
    }
    case 'stageStarted':
      return stageChanged(
        await runs.transitionStage(event.runId, event.stage, 'IN_PROGRESS', { startedAt: now }),
        deps,
      );
    case 'stageSucceeded': {
      const build = await deps.builds.describeBuild(event.buildId);
      const fields = { ...stageFieldsOf(build), endedAt: now };
      return stageChanged(await runs.transitionStage(event.runId, event.stage, 'SUCCEEDED', fields), deps);
    }
    case 'stageFailed': {
      const build = await buildOfFailure(event.error, deps.builds);
      const failure = build
        ? await buildFailure(build, event.error, deps.builds)
        : { error: event.error.Error, cause: truncate(event.error.Cause ?? '') };
      const stage = await runs.transitionStage(event.runId, event.stage, 'FAILED', {
        ...(build ? stageFieldsOf(build) : {}),
        endedAt: now,
        failure: { ...failure, stage: event.stage },
      });
      return stageChanged(stage, deps);
    }
    case 'runRejected':
    case 'runExpired':
    case 'runSucceeded':
    case 'runFailed': {
      // The execution's own timeout ended the gate (nobody decided): the gate records that too.
      if (event.kind === 'runExpired') await closeExpiredGate(event.runId, deps);
      const status = RUN_END_STATUS[event.kind];
      const run = await finishRun(event.runId, status, 'error' in event ? event.error : undefined, deps);
      // Neither waits for the other: the announcement never fails, and is made again at the execution's end.
      await Promise.all([
        moveLane(run, deps),
        announce({ kind: 'RunEnded', runId: run.runId, pipeline: run.pipeline }, deps),
      ]);
      return run;
    }
    case 'executionEnded':
      // The event names the execution: a redrive's (`<run>-redrive-<n>`) belongs to its run.
      return executionEnded(runIdOfExecution(event.runId), event.status, deps, event.runId);
    case 'sweep':
      await sweep(deps);
      return undefined;
  }
}

/** Runs younger than this are left alone by the sweep: their own steps are still moving them. */
const SWEEP_GRACE_MS = 10 * 60_000;

/**
 * Catches up with what a lost event left behind (Step Functions sends status events best effort):
 * an active run whose execution has ended is recorded as its status event would have recorded it
 * (FAILED, lane moved on, RunEnded announced); a pipeline whose runs wait in a free lane moves on.
 */
async function sweep(deps: ProgressDeps): Promise<void> {
  const cutoff = deps.now().getTime() - SWEEP_GRACE_MS;
  const waitingPipelines = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await deps.runs.listActiveRuns({ limit: 50, cursor });
    for (const run of page.items) {
      if (Date.parse(run.createdAt) > cutoff) continue;
      const pipeline = await deps.catalog.lookup(run.pipeline);
      if (!pipeline) continue;
      const executionArn =
        run.executionArn ?? `${pipeline.stateMachineArn.replace(':stateMachine:', ':execution:')}:${run.runId}`;
      const status = await deps.executions.status(executionArn);
      if (status === undefined) {
        // Never started: it waits in its pipeline's lane.
        if (pipeline.executionMode !== 'PARALLEL') waitingPipelines.add(run.pipeline);
      } else if (status !== 'RUNNING') {
        await executionEnded(run.runId, status, deps);
      }
    }
    cursor = page.cursor;
  } while (cursor);
  for (const name of waitingPipelines) {
    const pipeline = await deps.catalog.lookup(name);
    if (pipeline) await advanceLane(name, pipeline.executionMode, deps);
  }
}

/**
 * An execution ended: a run it leaves active (it was aborted or timed out before it could record its
 * end) is recorded FAILED with the reason, and the lane moves on. An event for an execution that is
 * not a run's (a test execution started by hand) changes nothing.
 */
async function executionEnded(
  runId: string,
  status: ExecutionEndStatus,
  deps: ProgressDeps,
  executionName = runId,
): Promise<RunRecord | undefined> {
  // An earlier execution of a redriven run (its end told late) does not end the redrive's execution running it now.
  const run = await deps.runs.getRun(runId);
  const current = run?.redrives?.at(-1)?.executionArn;
  if (current && !current.endsWith(`:${executionName}`)) return run;
  const how = { SUCCEEDED: 'succeeded', FAILED: 'failed', TIMED_OUT: 'timed out', ABORTED: 'was aborted' }[status];
  const failure = {
    error: `Execution${status === 'TIMED_OUT' ? 'TimedOut' : status.charAt(0) + status.slice(1).toLowerCase()}`,
    cause: `the run's execution ${how} before the run recorded its end`,
  };
  return recordUnfinishedRun(runId, failure, deps, (run) => moveLane(run, deps));
}

/** What recording a run whose execution ended without it needs. */
export type UnfinishedRunDeps = Pick<ProgressDeps, 'runs' | 'events' | 'now'>;

/**
 * Records a run whose execution ended without the run recording its end — aborted or timed out on AWS,
 * lost with a stopped or killed local mode — the one way both runtimes record it: a run still active is
 * FAILED with `failure` (why), its stages are left as the execution left them, and its end is announced
 * (RunEnded). `beforeAnnouncing` runs between the two (the lane moving on, on AWS). The announcement is
 * not passed over: a failure to make it throws, so that a retried delivery announces it again.
 */
export async function recordUnfinishedRun(
  runId: string,
  failure: Pick<Failure, 'error' | 'cause'>,
  deps: UnfinishedRunDeps,
  beforeAnnouncing?: (run: RunRecord) => Promise<unknown>,
): Promise<RunRecord | undefined> {
  let run = await deps.runs.getRun(runId);
  if (!run) return undefined;
  if (ACTIVE_RUN_STATUSES.includes(run.status)) {
    const endedAt = deps.now();
    const started = run.startedAt ?? run.createdAt;
    run = await deps.runs.transitionRun(runId, 'FAILED', {
      endedAt: endedAt.toISOString(),
      durationMs: endedAt.getTime() - Date.parse(started),
      failure,
    });
  }
  await beforeAnnouncing?.(run);
  // Thrown on failure: the status rule's delivery is retried, and this is the only announcement of
  // an execution that ended without recording its end.
  await deps.events.publish({ kind: 'RunEnded', runId: run.runId, pipeline: run.pipeline });
  return run;
}

/**
 * Tells the notifier from inside the run's own steps. A failure to tell must not fail the run: it is
 * passed over, and the execution status rule announces the run's end again (executionEnded).
 */
async function announce(event: RunEvent, deps: ProgressDeps): Promise<void> {
  await deps.events.publish(event).catch(() => undefined);
}

/** Tells live consoles a stage's record changed (StageChanged), as `announce` tells: never failing the step. */
async function stageChanged(stage: StageRecord, deps: ProgressDeps): Promise<StageRecord> {
  const run = await deps.runs.getRun(stage.runId);
  if (run) await announce({ kind: 'StageChanged', runId: stage.runId, pipeline: run.pipeline }, deps);
  return stage;
}

/** What moving an ended run's lane on needs. */
export type LaneMoveDeps = LaneDeps & Pick<ProgressDeps, 'catalog'>;

/**
 * Lets the next run of an ended run's pipeline take its lane: the recorder's move when a run ends,
 * and local mode's at a start, for a lane whose holder a stop or a kill ended (local/recovery.ts).
 */
export async function moveLane(run: RunRecord, deps: LaneMoveDeps): Promise<RunRecord> {
  const pipeline = await deps.catalog.lookup(run.pipeline);
  if (pipeline) await leaveLane(run.pipeline, run.runId, pipeline.executionMode, deps);
  return run;
}

const RUN_END_STATUS = {
  runSucceeded: 'SUCCEEDED',
  runFailed: 'FAILED',
  runRejected: 'REJECTED',
  runExpired: 'EXPIRED',
} as const;

async function finishRun(
  runId: string,
  status: (typeof RUN_END_STATUS)[keyof typeof RUN_END_STATUS],
  error: TaskError | undefined,
  deps: ProgressDeps,
): Promise<RunRecord> {
  const run = await deps.runs.getRun(runId);
  const endedAt = deps.now();
  const started = run?.startedAt ?? run?.createdAt;
  const failure =
    status === 'FAILED' && run
      ? await runFailure(run, error, deps.runs)
      : status !== 'SUCCEEDED' && error
        ? { error: error.Error, cause: truncate(error.Cause ?? '') }
        : undefined;
  return deps.runs.transitionRun(runId, status, {
    endedAt: endedAt.toISOString(),
    durationMs: started ? endedAt.getTime() - Date.parse(started) : undefined,
    failure,
  });
}

/** A run's failure is its first failed stage's, in plan order; else the error that stopped it. */
async function runFailure(run: RunRecord, error: TaskError | undefined, runs: RunRepository): Promise<Failure> {
  const stages = await runs.listStages(run.runId);
  const failed = run.stageNames
    .map((name) => stages.find((s) => s.name === name))
    .filter((s): s is StageRecord => s?.status === 'FAILED');
  const first = failed[0]?.failure;
  if (first) {
    const others = failed.slice(1).map((s) => s.name);
    return others.length ? { ...first, cause: `${first.cause} (also failed: ${others.join(', ')})` } : first;
  }
  return {
    error: error?.Error ?? 'RunFailed',
    cause: truncate(error?.Cause ?? 'the run stopped before any stage failed'),
  };
}

function stageFieldsOf(build: BuildDetails) {
  return {
    buildId: build.id,
    logs: build.logs,
    tests: build.tests && testsToKeep(build.tests),
    durationMs: build.startTime && build.endTime ? build.endTime.getTime() - build.startTime.getTime() : undefined,
  };
}

/** A failed `startBuild.sync` task carries the build as JSON in its Cause: `{"Build":{"Id":…}}`. */
async function buildOfFailure(error: TaskError, builds: BuildInspector): Promise<BuildDetails | undefined> {
  const buildId = buildIdOfCause(error.Cause);
  return buildId ? builds.describeBuild(buildId) : undefined;
}

export function buildIdOfCause(cause: string | undefined): string | undefined {
  if (!cause?.trimStart().startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(cause) as { Build?: { Id?: unknown } };
    return typeof parsed.Build?.Id === 'string' ? parsed.Build.Id : undefined;
  } catch {
    return undefined;
  }
}

async function buildFailure(build: BuildDetails, error: TaskError, builds: BuildInspector): Promise<Failure> {
  const phase = build.failedPhase;
  const cause = phase
    ? `build ${build.id} ${build.status} in phase ${phase.type}${phase.context ? `: ${phase.context}` : ''}`
    : `build ${build.id} ${build.status}`;
  const logTail = build.logs ? (await builds.logTail(build.logs, LOG_TAIL_LINES)).map(plainText) : [];
  const failedTests = build.tests && testsToKeep(build.tests).failures;
  return { error: error.Error, cause: truncate(cause), logTail, ...(failedTests ? { failedTests } : {}) };
}

/** Test results as the store keeps them: at most MAX_FAILED_TESTS failures, messages short and plain. */
function testsToKeep(tests: TestSummary): TestSummary {
  if (!tests.failures) return tests;
  const failures = tests.failures.slice(0, MAX_FAILED_TESTS).map((test): FailedTest => ({
    ...test,
    ...(test.message
      ? { message: excerpt(plainText(test.message).trim(), FAILURE_MESSAGE_LINES, FAILURE_MESSAGE_LENGTH) }
      : {}),
  }));
  return { ...tests, failures };
}

function truncate(text: string): string {
  return text.length > MAX_CAUSE_LENGTH ? `${text.slice(0, MAX_CAUSE_LENGTH)}…` : text;
}
