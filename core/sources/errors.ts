/**
 * The failures of turning a push into a run's start: event patterns EventBridge would refuse, input templates
 * that do not fit their event, and names that cannot be derived from a push.
 */
import { SteplineError } from '../errors';

/** An event pattern EventBridge would refuse, or this module cannot evaluate; `path` says where in it. */
export class EventPatternError extends SteplineError {
  constructor(
    /** Where in the pattern the problem is, e.g. `$.detail.state[0].anything-but`. */
    readonly path: string,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: ${problem}`, options);
  }
}

/** An input path the event does not have. */
export class MissingEventPathError extends SteplineError {
  constructor(
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(
      `the event has no ${path}: EventBridge creates no variable for a missing path, and what an unquoted ` +
        'placeholder then becomes is not specified; map only paths every matched event has',
      options,
    );
  }
}

/** An input template's path is not one this module renders (only `$.field.field`). */
export class UnsupportedInputPathError extends SteplineError {
  constructor(
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(`unsupported input path "${path}": use $.field.field`, options);
  }
}

/** A push's pipeline and commit make no valid Step Functions execution name (1-80 of `[0-9A-Za-z_-]`). */
export class InvalidExecutionNameError extends SteplineError {
  constructor(
    readonly pipeline: string,
    readonly commitId: string,
    options?: ErrorOptions,
  ) {
    super(`cannot derive a valid execution name from pipeline "${pipeline}" and commit "${commitId}"`, options);
  }
}
