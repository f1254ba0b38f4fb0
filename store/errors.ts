import type { RunRecord } from '../core/records';

/** Base class of the run store's domain errors. */
export class RunStoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A run with this id was created before: a duplicate delivery of the event that started it. */
export class RunAlreadyExistsError extends RunStoreError {
  constructor(
    readonly existing: RunRecord,
    options?: ErrorOptions,
  ) {
    super(`run ${existing.runId} already exists (status ${existing.status})`, options);
  }
}

export class RunNotFoundError extends RunStoreError {
  constructor(readonly runId: string) {
    super(`run ${runId} does not exist`);
  }
}

/** A status change the record's current status does not allow: records only move forward. */
export class InvalidTransitionError extends RunStoreError {
  constructor(
    readonly item: string,
    readonly from: string | undefined,
    readonly to: string,
    options?: ErrorOptions,
  ) {
    super(`${item} cannot move from ${from ?? 'nothing'} to ${to}`, options);
  }
}
