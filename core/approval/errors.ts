/**
 * The release gate's failures: the errors it fails its waiting Task with (the state machine's Catch matches
 * their names), a decision it refuses, and what stops its channels (signed links, Slack's response URLs).
 */
import { SteplineError } from '../errors';

/**
 * The approvers rejected the release: the gate fails "Wait for release approval" with this error, which the
 * state machine catches by its name `Approval.Rejected` (statemachines/pipeline.asl.json) to record the run REJECTED.
 */
export class ApprovalRejectedError extends SteplineError {
  static override readonly name = 'Approval.Rejected';
}

/**
 * Nobody decided before the gate's deadline: the gate fails "Wait for release approval" with this error, which the
 * state machine catches by its name `Approval.Expired` (beside States.Timeout) to record the run EXPIRED.
 */
export class ApprovalExpiredError extends SteplineError {
  static override readonly name = 'Approval.Expired';
}

/**
 * A decision the release gate does not take: the gate is not open, the person may not decide, the
 * link was used, a reason is missing. `status` is the HTTP status that says so.
 */
export class DecisionRefusedError extends SteplineError {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 410,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A decision link that would be refused as malformed is never minted: its claims or its length do not pass. */
export class DecisionLinkNotSignedError extends SteplineError {
  constructor(
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`signDecisionLink: ${problem}`, options);
  }
}

/** A signed Slack payload names a response URL that is not Slack's: it is not followed. */
export class SlackResponseUrlRefusedError extends SteplineError {
  constructor(
    readonly origin: string,
    options?: ErrorOptions,
  ) {
    super(`not a Slack response URL: ${origin}`, options);
  }
}

/** Slack did not take the answer posted to its response URL. */
export class SlackResponseFailedError extends SteplineError {
  constructor(
    readonly status: number,
    options?: ErrorOptions,
  ) {
    super(`Slack answered ${status} to the response URL`, options);
  }
}
