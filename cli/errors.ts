/**
 * The command line's errors reaching AWS: no credentials, no Region, an action the caller may not take. Each says what
 * to do, and the command exits 1 with it.
 */
import { SteplineError } from '../core/errors';

/** The AWS account cannot be reached from this shell. */
export class AwsUnreachableError extends SteplineError {}

/** No credentials in the default chain (variables, profiles, SSO, the container or instance role). */
export class NoAwsCredentialsError extends AwsUnreachableError {
  constructor(options?: ErrorOptions) {
    super(
      'no AWS credentials: stepline looked in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws, SSO, and a container or instance role; sign in (e.g. `aws sso login` or `aws configure`) and run it again',
      options,
    );
  }
}

/** The credentials name no Region. */
export class NoAwsRegionError extends AwsUnreachableError {
  constructor(options?: ErrorOptions) {
    super('no AWS Region: set AWS_REGION, or a region in your AWS profile', options);
  }
}

/** An action the credentials may not take; the message names it. */
export class AwsAccessDeniedError extends AwsUnreachableError {
  constructor(
    readonly action: string,
    options?: ErrorOptions,
  ) {
    super(`access denied: this identity may not call ${action}; allow it (read-only) and run it again`, options);
  }
}
