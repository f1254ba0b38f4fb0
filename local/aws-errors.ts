/**
 * The errors local mode answers as AWS: one class, whose `name` is the error name AWS gives and a caller
 * matches — an SDK client maps a JSON-protocol answer's `__type` to its exception class by it, an ASL
 * Retry or Catch matches a Task's error by it. `message` is what AWS says with it (a Task error's is the
 * Catch's `Cause`).
 *
 * Two kinds, made one way each, typed by the names each service uses:
 * - a service API's answer to a request (`serviceError`): the local endpoint turns it into the JSON
 *   protocol's error answer (local/aws-endpoint.ts), Lambda's REST route into its status (lambda-api.ts);
 * - the error a Task fails with (`taskError`): its name is open — a `States.*` name, an integration's
 *   `<Service>.<code>`, a function's own `errorType`, or whatever SendTaskFailure named — as Step Functions
 *   reports it ("Error handling in Step Functions",
 *   https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
 */

/** Step Functions API errors (API reference, each action's "Errors"). */
export type SfnErrorCode =
  | 'ExecutionAlreadyExists'
  | 'StateMachineDoesNotExist'
  | 'InvalidName'
  | 'ExecutionDoesNotExist'
  | 'InvalidExecutionInput'
  | 'TaskDoesNotExist'
  | 'InvalidToken'
  | 'InvalidOutput';

/** Lambda API errors local mode answers with (lambda-api.ts gives each its HTTP status). */
export type LambdaErrorCode =
  | 'ResourceNotFoundException'
  | 'ResourceConflictException'
  | 'PreconditionFailedException'
  | 'InvalidParameterValueException'
  | 'InvalidRequestContentException';

/** Systems Manager GetParameter's error for a name it does not have. */
export type SsmErrorCode = 'ParameterNotFound';
/** Secrets Manager, EventBridge, CodeBuild and CloudWatch Logs: a named thing that does not exist. */
export type NotFoundErrorCode = 'ResourceNotFoundException';
/**
 * CodeCommit: a commit the repository does not have (GetDifferences names it CommitDoesNotExistException,
 * GetCommit CommitIdDoesNotExistException), a branch (GetBranch), the repository itself (every operation).
 */
export type CodeCommitErrorCode =
  | 'CommitDoesNotExistException'
  | 'CommitIdDoesNotExistException'
  | 'InvalidCommitIdException'
  | 'BranchDoesNotExistException'
  | 'RepositoryDoesNotExistException';
/** CloudWatch DescribeAlarms; CloudWatch Logs GetLogEvents' answer to a token it did not give. */
export type CloudWatchErrorCode =
  'InvalidParameterCombinationException' | 'InvalidNextToken' | 'InvalidParameterException';

/** STS (AssumeRole, GetCallerIdentity) and the checks of a request's key every service makes (local/iam.ts). */
export type StsErrorCode =
  'AccessDenied' | 'ValidationError' | 'InvalidClientTokenId' | 'ExpiredToken' | 'MissingAuthenticationToken';
/** IAM's answers on roles (CreateRole, UpdateAssumeRolePolicy). */
export type IamErrorCode = 'EntityAlreadyExists' | 'NoSuchEntity' | 'MalformedPolicyDocument';

/** Every API error code local mode answers with. */
export type ServiceErrorCode =
  | SfnErrorCode
  | LambdaErrorCode
  | SsmErrorCode
  | NotFoundErrorCode
  | CodeCommitErrorCode
  | CloudWatchErrorCode
  | StsErrorCode
  | IamErrorCode;

export class AwsError<Name extends string = string> extends Error {
  declare readonly name: Name;

  constructor(name: Name, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = name;
  }
}

/** A service API's answer to a request it refuses. */
export function serviceError<Code extends ServiceErrorCode>(
  code: Code,
  message: string,
  options?: ErrorOptions,
): AwsError<Code> {
  return new AwsError(code, message, options);
}

/** The error a Task fails with: `name` what Retry and Catch match, `cause` the Catch's Cause. */
export function taskError(name: string, cause: string): AwsError {
  return new AwsError(name, cause);
}
