/**
 * The names the deployed pieces of stepline agree on without importing each other: the CDK app
 * writes them, the handlers and local mode read them. Pure data, so `lib/` can use them without
 * loading handler code or SDK clients.
 */

/** Prefix of every named resource stepline creates (projects, state machines, rules); reserved. */
export const RESOURCE_PREFIX = 'stepline-';

/** Environment variables of the platform's functions. */
export const ENV = {
  /** The run store table. */
  tableName: 'RUN_TABLE_NAME',
  /** Where pipeline catalog entries live: an SSM parameter path, one parameter per pipeline below it. */
  catalogPath: 'PIPELINE_CATALOG_PATH',
} as const;

/** The SSM path under which each pipeline stack publishes its catalog entry. */
export const CATALOG_PATH = '/stepline/pipelines';

/** The SSM parameter holding a pipeline's catalog entry (state machine and stage plan). */
export function catalogParameterName(pipeline: string, path: string = CATALOG_PATH): string {
  return `${path}/${pipeline}`;
}

/**
 * SSM parameters through which the platform stack hands its shared resources to the pipeline
 * stacks: read at deploy time by name, so no CloudFormation export ties a pipeline stack to the
 * platform and removing a pipeline never waits on one.
 */
export const PLATFORM_PARAMETERS = {
  recordProgressFunctionArn: '/stepline/platform/record-progress-function-arn',
  startRunFunctionArn: '/stepline/platform/start-run-function-arn',
  artifactBucketName: '/stepline/platform/artifact-bucket-name',
  platformKeyArn: '/stepline/platform/platform-key-arn',
} as const;

/** The CDK stack ids (and CloudFormation stack names). Renaming one replaces what it holds. */
export const PLATFORM_STACK = 'Stepline';
export function pipelineStackName(pipeline: string): string {
  return `${PLATFORM_STACK}-${pipeline}`;
}

/** The name of the EventBridge rule that starts a pipeline's runs from its source's pushes. */
export function pushRuleName(pipeline: string): string {
  return `${RESOURCE_PREFIX}${pipeline}-push`;
}
