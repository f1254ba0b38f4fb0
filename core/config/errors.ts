/**
 * The failures of stepline's configuration: the config file a user writes, and what a deployed function
 * needs of its own configuration (its environment, its secrets).
 */
import { SteplineError } from '../errors';

/** The config does not pass validation: each problem named by pipeline and field, and the file when there is one. */
export class ConfigError extends SteplineError {
  constructor(
    readonly problems: readonly string[],
    /** The config file, when the config came from one. */
    readonly file?: string,
    options?: ErrorOptions,
  ) {
    super(
      `Invalid stepline config${file ? ` (${file})` : ''}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      options,
    );
  }
}

/** A platform function's environment lacks a variable its stack sets: it was deployed by another version. */
export class MissingEnvironmentVariableError extends SteplineError {
  constructor(
    readonly variable: string,
    options?: ErrorOptions,
  ) {
    super(`environment variable ${variable} is not set`, options);
  }
}

/** A secret in Secrets Manager holds no string (a binary secret, or one created without a value). */
export class SecretValueMissingError extends SteplineError {
  constructor(
    readonly secretId: string,
    options?: ErrorOptions,
  ) {
    super(`secret ${secretId} has no string value`, options);
  }
}

/** A key to sign or verify with is empty: nothing is signed or accepted with it. */
export class EmptySigningKeyError extends SteplineError {
  constructor(
    /** Which key, as a sentence names it: "the Slack signing secret", "the decision link key". */
    readonly key: string,
    options?: ErrorOptions,
  ) {
    super(`${key} is empty: refusing to sign or verify with it`, options);
  }
}
