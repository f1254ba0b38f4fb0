/**
 * Controlling a run by hand: `stepline cancel` and `stepline redrive` (the run-control function, lambdas/run-control.ts,
 * behind the IAM-authorized `/cli/runs/<run>/…` routes; locally the same handler on the local endpoint).
 *
 * Cancel records first, then stops: the run is CANCELLED (who, why, when) by a conditional write from QUEUED or
 * RUNNING, so whatever its execution still records afterwards cannot end it otherwise; then its execution is
 * stopped (a build's processes end with it), its stages still in progress are recorded as ended by the cancel, its
 * gate's audit trail says so, its lane moves on and RunEnded is announced. The execution's own end (ABORTED) then
 * finds the run ended and only moves the lane and announces again, as for any execution that ends
 * (core/runs/progress.ts executionEnded); a release under way is rolled back by the deploy function's rule on every
 * execution's end (`rollBackAbandoned`, docs/deployments.md).
 *
 * Redrive resumes a FAILED run at the state that failed (core/runs/redrive.ts says where and why not with Step
 * Functions' RedriveExecution): the run is reopened by its own conditional write (FAILED and the number of redrives so
 * far, so two redrives at once start one), the failed stages go back to PENDING, and a new execution named
 * `<run>-redrive-<n>` starts at that state. If it cannot be started, the reopen is undone (the run FAILED again with
 * its failure, its stages as they were; the redrive stays listed, naming the execution that never ran).
 */
import { InvalidTransitionError } from '../errors';
import type { ApprovalStore, Clock, PipelineCatalog, RunEventPublisher, RunRepository } from '../ports';
import { OPEN_APPROVAL_STATUSES, type Redrive, type RunRecord, type StageRecord } from '../records';
import type { ExecutionEvent } from './execution-history';
import { moveLane, type LaneMoveDeps } from './progress';
import {
  NotResumableError,
  ExecutionHistoryGoneError,
  RunNotControllableError,
  RunToControlNotFoundError,
} from './errors';
import { redriveExecutionName, redriveInput, resumePointOf } from './redrive';

/** What run control does with executions (Step Functions on AWS, local Step Functions locally). */
export interface ExecutionControl {
  /** Starts an execution; resolves with its ARN. */
  start(request: { stateMachineArn: string; name: string; input: Record<string, unknown> }): Promise<string>;
  /** Stops a running execution; an execution that does not exist (never started) is not an error. */
  stop(executionArn: string): Promise<void>;
  /** An execution's history, oldest first; undefined when Step Functions no longer has the execution. */
  history(executionArn: string): Promise<readonly ExecutionEvent[] | undefined>;
}

/** The run store's writes only run control makes (store/run-store.ts). */
export interface RunControlStore {
  reopenRun(run: RunRecord, redrive: Redrive): Promise<boolean>;
  resetStage(runId: string, stage: string): Promise<boolean>;
  waiting: LaneMoveDeps['lanes']['waiting'];
  dequeue: LaneMoveDeps['lanes']['dequeue'];
}

export interface RunControlDeps extends LaneMoveDeps {
  readonly runs: RunRepository;
  readonly control: RunControlStore;
  readonly approvals: Pick<ApprovalStore, 'getApproval' | 'appendAudit'>;
  readonly catalog: PipelineCatalog;
  readonly executionControl: ExecutionControl;
  readonly events: RunEventPublisher;
  readonly now: Clock;
}

/** Why a stage still in progress when its run was cancelled ended. */
const CANCELLED_STAGE_ERROR = 'RunCancelled';

export async function cancelRun(
  request: { readonly runId: string; readonly by: string; readonly reason: string },
  deps: RunControlDeps,
): Promise<RunRecord> {
  const { runId, by, reason } = request;
  const run = await deps.runs.getRun(runId);
  if (!run) throw new RunToControlNotFoundError(runId);
  if (run.status !== 'QUEUED' && run.status !== 'RUNNING')
    throw new RunNotControllableError(runId, run.status, 'cancelled');
  const at = deps.now();
  let cancelled: RunRecord;
  try {
    cancelled = await deps.runs.transitionRun(runId, 'CANCELLED', {
      cancelled: { by, reason, at: at.toISOString() },
      endedAt: at.toISOString(),
      durationMs: at.getTime() - Date.parse(run.startedAt ?? run.createdAt),
    });
  } catch (error) {
    if (!(error instanceof InvalidTransitionError)) throw error;
    // It ended between the read and the write.
    const now = (await deps.runs.getRun(runId))!;
    throw new RunNotControllableError(runId, now.status, 'cancelled', { cause: error });
  }
  if (cancelled.cancelled?.at !== at.toISOString()) {
    // Cancelled already (a repeated request): the first cancel's record stands, and it did the rest.
    return cancelled;
  }
  const pipeline = await deps.catalog.lookup(run.pipeline);
  // A QUEUED run may have taken its lane and be starting: its execution is stopped too.
  const executionArn =
    run.executionArn ??
    (pipeline && `${pipeline.stateMachineArn.replace(':stateMachine:', ':execution:')}:${run.runId}`);
  if (executionArn) await deps.executionControl.stop(executionArn);
  if (run.status === 'QUEUED') {
    for (const waiting of await deps.control.waiting(run.pipeline))
      if (waiting.runId === runId) await deps.control.dequeue(waiting);
  }
  await endOpenStages(cancelled, deps);
  await closeGate(runId, by, reason, deps);
  await moveLane(cancelled, deps);
  await deps.events.publish({ kind: 'RunEnded', runId, pipeline: run.pipeline });
  return cancelled;
}

/** A stage its build was running when the run was cancelled ends FAILED with why (its build was stopped). */
async function endOpenStages(run: RunRecord, deps: RunControlDeps): Promise<void> {
  const stages = await deps.runs.listStages(run.runId);
  for (const stage of stages.filter((s) => s.status === 'IN_PROGRESS')) {
    await deps.runs
      .transitionStage(run.runId, stage.name, 'FAILED', {
        endedAt: run.endedAt,
        failure: {
          stage: stage.name,
          error: CANCELLED_STAGE_ERROR,
          cause: `run cancelled by ${run.cancelled!.by}: ${run.cancelled!.reason}`,
        },
      })
      // It ended meanwhile (its build finished before the stop): its own record stands.
      .catch((error: unknown) => {
        if (!(error instanceof InvalidTransitionError)) throw error;
      });
  }
}

/**
 * A run cancelled at its release gate: the gate's record keeps its status (its task token died with the execution,
 * and a decision on it is refused since its run is no longer RUNNING: core/approval/gate.ts decide), and its audit
 * trail says who cancelled the run and why.
 */
async function closeGate(runId: string, by: string, reason: string, deps: RunControlDeps): Promise<void> {
  const approval = await deps.approvals.getApproval(runId);
  if (!approval || !OPEN_APPROVAL_STATUSES.includes(approval.status)) return;
  await deps.approvals.appendAudit({
    runId,
    at: deps.now().toISOString(),
    event: 'run-cancelled',
    actor: by,
    detail: `the run was cancelled while its gate was ${approval.status}: ${reason}`,
  });
}

export interface RedriveOutcome {
  readonly run: RunRecord;
  readonly redrive: Redrive;
  /** The state that failed (the redrive resumes at `redrive.fromState`). */
  readonly failedState: string;
  /** The test stages that run again, when it resumes at the test stages. */
  readonly stages: readonly string[];
}

export async function redriveRun(
  request: { readonly runId: string; readonly by: string },
  deps: RunControlDeps,
): Promise<RedriveOutcome> {
  const { runId, by } = request;
  const run = await deps.runs.getRun(runId);
  if (!run) throw new RunToControlNotFoundError(runId);
  if (run.status !== 'FAILED') throw new RunNotControllableError(runId, run.status, 'redriven');
  if (!run.executionArn)
    throw new NotResumableError(
      runId,
      `it never started an execution (${run.failure?.error ?? 'FAILED'}: ${run.failure?.cause ?? 'no cause recorded'})`,
    );
  const pipeline = await deps.catalog.lookup(run.pipeline);
  if (!pipeline) throw new NotResumableError(runId, `its pipeline ${run.pipeline} is not deployed`);
  const history = await deps.executionControl.history(run.executionArn);
  if (!history) throw new ExecutionHistoryGoneError(runId, run.executionArn);
  const point = resumePointOf(runId, history);
  const n = (run.redrives?.length ?? 0) + 1;
  const name = redriveExecutionName(runId, n);
  if (!name) throw new NotResumableError(runId, 'its id is too long to name a redrive execution (80 characters)');

  const stages = await deps.runs.listStages(runId);
  const statusOf = (stage: string) => stages.find((s) => s.name === stage)?.status;
  const input = redriveInput(point, (tests) => tests.filter((t) => statusOf(t.name) !== 'SUCCEEDED'));
  const rerun =
    point.resumeAt === 'Run test stages'
      ? ((input.stages as { tests: { name: string }[] }).tests.map((t) => t.name) ?? [])
      : point.failedState === 'Build'
        ? run.stageNames.slice(0, 1)
        : [];
  const redrive: Redrive = {
    by,
    at: deps.now().toISOString(),
    fromState: point.resumeAt,
    executionArn: `${pipeline.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
  };
  if (!(await deps.control.reopenRun(run, redrive))) {
    const now = (await deps.runs.getRun(runId))!;
    throw new RunNotControllableError(runId, now.status, 'redriven');
  }
  const reset = stages.filter((s) => rerun.includes(s.name) && s.status === 'FAILED');
  for (const stage of reset) await deps.control.resetStage(runId, stage.name);
  try {
    await deps.executionControl.start({ stateMachineArn: pipeline.stateMachineArn, name, input });
  } catch (error) {
    await undoReopen(run, reset, deps);
    throw error;
  }
  return { run: (await deps.runs.getRun(runId))!, redrive, failedState: point.failedState, stages: rerun };
}

/** The redrive's execution could not start: the run and its stages go back to how the failure left them. */
async function undoReopen(run: RunRecord, reset: readonly StageRecord[], deps: RunControlDeps): Promise<void> {
  await deps.runs.transitionRun(run.runId, 'FAILED', {
    endedAt: run.endedAt,
    durationMs: run.durationMs,
    failure: run.failure,
    executionArn: run.executionArn,
  });
  for (const { runId: _run, name, status: _status, ...fields } of reset)
    await deps.runs.transitionStage(run.runId, name, 'FAILED', fields);
}
