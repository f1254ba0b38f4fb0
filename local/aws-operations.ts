/**
 * The local endpoint's AWS operations, keyed by X-Amz-Target: one table put together from the local
 * services, each of which owns the operations it stands in for (its state and its answers in one place):
 * EventBridge PutEvents (event-bus.ts), Secrets Manager (secrets.ts), Step Functions (step-functions.ts),
 * Parameter Store (parameter-store.ts), CodeBuild and CloudWatch Logs (codebuild.ts), CodeCommit
 * (codecommit.ts) and CloudWatch DescribeAlarms (alarms.ts, over the caller's account: accounts.ts). Lambda's
 * REST API is a route of its own (functions/lambda-api.ts, per account: accounts.ts); STS speaks the Query
 * protocol (iam.ts, aws-query.ts).
 */
import type { LocalAccounts } from './accounts';
import { DESCRIBE_ALARMS_TARGET } from './describe-alarms';
import { codeBuildOperations, type LocalCodeBuild } from './codebuild';
import { codeCommitOperations } from './codecommit';
import { putEventsOperation, type LocalEventBus } from './event-bus';
import type { LocalGitSource } from './git-source';
import type { LocalParameterStore } from './parameter-store';
import { secretsOperations } from './secrets';
import { stepFunctionsOperations, type LocalStepFunctions } from './step-functions';

export interface LocalServices {
  readonly stepFunctions: LocalStepFunctions;
  readonly codebuild: LocalCodeBuild;
  readonly git: LocalGitSource;
  readonly parameters: LocalParameterStore;
  /** The buses PutEvents may name. */
  readonly buses: Readonly<Record<string, LocalEventBus>>;
  /** The secrets local mode made, by name. */
  readonly generatedSecrets: Readonly<Record<string, string>>;
  /** Where a user's own secrets are (`<stateDir>/secrets`). */
  readonly secretsDir: string;
  /** The accounts local mode stands in for: DescribeAlarms answers the caller's account's alarms. */
  readonly accounts: LocalAccounts;
}

export function awsOperations(services: LocalServices) {
  return {
    [DESCRIBE_ALARMS_TARGET]: services.accounts.describeAlarmsOperation(),
    ...putEventsOperation(services.buses),
    ...secretsOperations(services.generatedSecrets, services.secretsDir),
    ...stepFunctionsOperations(services.stepFunctions),
    ...services.parameters.operations(),
    ...codeBuildOperations(services.codebuild),
    ...codeCommitOperations(services.git),
  };
}
