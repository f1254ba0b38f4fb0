/** The failures of notifying people of a run: a message not delivered, a run's notifications left undelivered. */
import { SteplineError } from '../errors';

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
  constructor(
    readonly failures: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`${failures.length} notification(s) not delivered: ${failures.join('; ')}`, options);
  }
}
