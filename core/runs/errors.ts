/**
 * The failures of controlling a run by hand (`stepline cancel`, `stepline redrive`: core/runs/run-control.ts), each
 * with the HTTP status its refusal is answered with.
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
