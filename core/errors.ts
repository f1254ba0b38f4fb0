import { pipelineStackName } from './platform';
import type { RunRecord } from './records';

/** Base class of stepline's domain errors; `name` is the class name, which Step Functions sees as the error. */
export class SteplineError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A run with this id was created before: a duplicate delivery of the event that started it. */
export class RunAlreadyExistsError extends SteplineError {
  constructor(
    readonly existing: RunRecord,
    options?: ErrorOptions,
  ) {
    super(`run ${existing.runId} already exists (status ${existing.status})`, options);
  }
}

export class RunNotFoundError extends SteplineError {
  constructor(readonly runId: string) {
    super(`run ${runId} does not exist`);
  }
}

/** A status change the record's current status does not allow: records only move forward. */
export class InvalidTransitionError extends SteplineError {
  constructor(
    readonly item: string,
    readonly from: string | undefined,
    readonly to: string,
    options?: ErrorOptions,
  ) {
    super(`${item} cannot move from ${from ?? 'nothing'} to ${to}`, options);
  }
}

/** A run request named a pipeline this deployment does not know. */
export class UnknownPipelineError extends SteplineError {
  constructor(readonly pipeline: string) {
    super(
      `unknown pipeline "${pipeline}": the catalog has no entry for it; is it declared in stepline.config.ts and its stack (${pipelineStackName(pipeline)}) deployed?`,
    );
  }
}

/** The commit a push names is not in its repository (a force-push removed it, or the event is stale). */
export class CommitNotFoundError extends SteplineError {
  constructor(
    readonly repository: string,
    readonly commitId: string,
    options?: ErrorOptions,
  ) {
    super(`commit ${commitId} does not exist in repository ${repository}`, options);
  }
}

/** A pipeline's catalog entry exists but cannot be read as one (edited by hand, or from another version). */
export class InvalidCatalogEntryError extends SteplineError {
  constructor(
    readonly pipeline: string,
    readonly location: string,
    options?: ErrorOptions,
  ) {
    const reason = options?.cause instanceof Error ? ` (${options.cause.message})` : '';
    super(
      `the catalog entry of pipeline "${pipeline}" at ${location} is not valid${reason}; redeploy its stack`,
      options,
    );
  }
}

/** An event or request that does not have the shape it must have. */
export class InvalidRequestError extends SteplineError {
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(problems.length ? `${message}: ${problems.join('; ')}` : message);
  }
}

/** EventBridge refused some events put on the platform's bus (PutEvents answered with failed entries). */
export class BusEventsRefusedError extends SteplineError {
  constructor(
    readonly detailType: string,
    readonly failures: readonly string[],
  ) {
    super(`the platform's bus refused ${failures.length} ${detailType} event(s): ${failures.join('; ')}`);
  }
}

/** A notification was not delivered: whether trying again may help, and when. Never carries a secret. */
export class DeliveryError extends SteplineError {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Some of a run's notifications were not delivered this time; they are recorded FAILED, to be tried again. */
export class NotificationsUndeliveredError extends SteplineError {
  constructor(readonly failures: readonly string[]) {
    super(`${failures.length} notification(s) not delivered: ${failures.join('; ')}`);
  }
}

/**
 * A decision the release gate does not take: the gate is not open, the person may not decide, the
 * link was used, a reason is missing. `status` is the HTTP status that says so.
 */
export class DecisionRefusedError extends SteplineError {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 410,
    message: string,
  ) {
    super(message);
  }
}
