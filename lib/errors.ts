/**
 * The CDK app's errors, raised at synth: a configuration past a limit of AWS, a construct prop that fails
 * validation, a grant stepline's permission rules refuse, a state machine definition whose Tasks cannot be granted.
 */
import { SteplineError } from '../core/errors';

/** One limit a configuration would cross: where, and what to change. */
export interface LimitProblem {
  readonly where: string;
  readonly message: string;
}

/** The configuration would cross limits `cdk synth` does not check; each problem names where and what to change. */
export class PlatformLimitError extends SteplineError {
  constructor(
    readonly problems: readonly LimitProblem[],
    options?: ErrorOptions,
  ) {
    super(
      `stepline cannot deploy this configuration:\n${problems.map((p) => `  - ${p.where}: ${p.message}`).join('\n')}`,
      options,
    );
  }
}

/** A construct's prop fails validation; the message names the construct and the prop. */
export class InvalidPropError extends SteplineError {
  constructor(
    readonly prop: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A grant stepline's permission rules refuse (lib/permissions.ts): an action pattern, a grant that names no
 * resource, `*` outside allowOnAnyResource, a resource pattern without its reason.
 */
export class GrantRefusedError extends SteplineError {}

/** A Task of a state machine definition whose grant cannot be derived exactly from the definition. */
export class UngrantableTaskError extends SteplineError {
  constructor(
    /** The definition file. */
    readonly file: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${message}`, options);
  }
}
