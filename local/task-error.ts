/**
 * An error a local task adapter raises; `name` is the Step Functions error name that Retry and Catch
 * match, `message` becomes the Catch's Cause — so both must be what AWS would produce.
 */
export class TaskError extends Error {
  constructor(errorName: string, cause: string) {
    super(cause);
    this.name = errorName;
  }
}
