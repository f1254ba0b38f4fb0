/**
 * The runs area's failures: controlling a run by hand (`stepline cancel`, `stepline redrive`: core/runs/run-control.ts),
 * each with the HTTP status its refusal is answered with, and a run asked for by hand that was not started
 * (`stepline rerun`, `stepline release`: core/runs/manual-runs.ts), each naming what the caller can do about it.
 */
import { SteplineError } from '../errors';
import type { RunStatus } from '../records';

/** Base class of a run control's refusals; `status` is the HTTP status the endpoint answers with. */
export class RunControlRefusedError extends SteplineError {
  constructor(
    readonly status: 404 | 409 | 410,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class RunToControlNotFoundError extends RunControlRefusedError {
  constructor(
    readonly runId: string,
    options?: ErrorOptions,
  ) {
    super(404, `run ${runId} does not exist`, options);
  }
}

/** The run is not in a status the control applies to (cancel: QUEUED or RUNNING; redrive: FAILED). */
export class RunNotControllableError extends RunControlRefusedError {
  constructor(
    readonly runId: string,
    readonly runStatus: RunStatus,
    action: 'cancelled' | 'redriven',
    options?: ErrorOptions,
  ) {
    super(
      409,
      action === 'cancelled'
        ? `run ${runId} is ${runStatus}: only a QUEUED or RUNNING run can be cancelled`
        : `run ${runId} is ${runStatus}: only a FAILED run can be redriven${runStatus === 'RUNNING' ? ' (it is running now; another redrive may have started it)' : ''}`,
      options,
    );
  }
}

/** The failed execution's history shows no state a redrive can resume at; `why` says what it shows. */
export class NotResumableError extends RunControlRefusedError {
  constructor(
    readonly runId: string,
    readonly why: string,
    options?: ErrorOptions,
  ) {
    super(409, `run ${runId} cannot be redriven: ${why}`, options);
  }
}

/** The failed execution's history is gone (Step Functions keeps a closed execution's history 90 days). */
export class ExecutionHistoryGoneError extends RunControlRefusedError {
  constructor(
    readonly runId: string,
    readonly executionArn: string,
    options?: ErrorOptions,
  ) {
    super(
      410,
      `run ${runId} cannot be redriven: the history of its execution ${executionArn} is gone (Step Functions keeps a closed execution's history for 90 days); \`stepline rerun ${runId}\` runs its commit again`,
      options,
    );
  }
}

/** The base of every refusal of a run asked for by hand. */
export class ManualRunError extends SteplineError {}

/** `rerun RUN` of a run the store does not have. */
export class RunToRerunNotFoundError extends ManualRunError {
  constructor(
    readonly runId: string,
    options?: ErrorOptions,
  ) {
    super(`run ${runId} does not exist: \`stepline runs\` lists the runs`, options);
  }
}

/** `rerun RUN` of a run that has not ended: a re-run is of a finished run. */
export class RunNotEndedError extends ManualRunError {
  constructor(
    readonly runId: string,
    readonly status: RunStatus,
    options?: ErrorOptions,
  ) {
    super(
      `run ${runId} is ${status}: only a run that has ended can be re-run (wait for it, or \`stepline cancel ${runId}\`)`,
      options,
    );
  }
}

/** A pipeline the catalog has no entry for: not declared, or its stack not deployed. */
export class PipelineNotDeployedError extends ManualRunError {
  constructor(
    readonly pipeline: string,
    options?: ErrorOptions,
  ) {
    super(
      `unknown pipeline "${pipeline}": no pipeline of that name is deployed (is it in stepline.config.ts, and its stack deployed?)`,
      options,
    );
  }
}

/** `release --commit SHA` of a commit the pipeline's repository does not have (or stepline cannot see). */
export class ReleaseCommitNotFoundError extends ManualRunError {
  constructor(
    readonly pipeline: string,
    readonly repository: string,
    readonly commitId: string,
    why: string,
    options?: ErrorOptions,
  ) {
    super(`commit ${commitId} cannot be released by ${pipeline}: ${why}`, options);
  }
}

/** `release` without `--commit` when the branch head cannot be read. */
export class BranchHeadUnknownError extends ManualRunError {
  constructor(
    readonly pipeline: string,
    why: string,
    options?: ErrorOptions,
  ) {
    super(`cannot release ${pipeline} without --commit: ${why}`, options);
  }
}
