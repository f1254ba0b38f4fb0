/**
 * One platform function made from its declaration (core/platform-functions.ts): its log group, its
 * ExplicitRole, the NodejsFunction, its dead-letter queue when EventBridge invokes it, every declared
 * grant and every declared invocation but the two its owner builds around it (the approvals HTTP API,
 * ReleaseApprovals) or the pipeline stacks make (the state machines' Tasks, through SSM parameters).
 * What a declared resource kind is on AWS is written once, in `resourceArns`.
 */
import { join } from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { NOTIFICATION_SECRET_PREFIX } from '../core/config/stepline-config';
import { CATALOG_PATH, ENV, RESOURCE_PREFIX, deployRoleName } from '../core/platform';
import type {
  PlatformFunctionDeclaration,
  PlatformInvocation,
  PlatformResource,
  PlatformSetting,
} from '../core/platform-functions';
import { INDEXES } from '../store/schema';
import { acknowledgeRule } from './nag';
import { ExplicitRole } from './permissions';
import { stackArnOf, triggerRule } from './source-triggers';

/** The project's root, which declared entries are relative to. */
const PROJECT_ROOT = join(__dirname, '..');

/**
 * Bundling of every handler. The AWS SDK v3 is taken from the Lambda runtime (nodejs22.x ships it)
 * instead of bundled: a bundled client set costs 400-520 KB even minified and tree-shaken, against
 * about 100 KB of our own code and zod, and the runtime's copy is patched by AWS without a redeploy.
 */
const BUNDLING: nodejs.BundlingOptions = {
  forceDockerBundling: false,
  target: 'node22',
  format: nodejs.OutputFormat.CJS,
  mainFields: ['module', 'main'],
  minify: true,
  // Minified, but with class and function names kept: Lambda reports a thrown error's `name` as its
  // errorType, which Step Functions' Retry/Catch and the decision endpoint match, and SteplineError
  // names itself after its class (core/errors.ts). Without it, ControlRefusedError becomes `Ft`.
  keepNames: true,
  sourceMap: true,
  sourcesContent: false,
  externalModules: ['@aws-sdk/*'],
};

/** What the platform's functions are made with: the resources their grants and settings name. */
export interface PlatformFunctionContext {
  /** The run store table; every platform function gets its name (ENV.tableName). */
  readonly table: dynamodb.ITable;
  /** The platform's bus. */
  readonly sourceBus: events.IEventBus;
  /**
   * Where the events go that a function EventBridge invokes failed on after Lambda's retries, and the
   * events its rules and schedules could not deliver.
   */
  readonly deadLetterQueue: sqs.IQueue;
  /** @default - none: a function whose grants or settings name it cannot be made */
  readonly webhookSecret?: secretsmanager.ISecret;
  /** @default - none: a function whose grants or settings name it cannot be made */
  readonly linkKeySecret?: secretsmanager.ISecret;
  /** @default - none: a function whose grants or settings name it cannot be made */
  readonly slackSigningSecret?: secretsmanager.ISecret;
  /** @default - none: a function whose grants or settings name it cannot be made */
  readonly deployFunction?: lambda.IFunction;
  /**
   * The deploy roles of targets in other accounts (core/deployment/targets.ts targetDeployRoles), by ARN.
   * @default - none: a grant on `targetDeployRoles` names only its other kinds' resources
   */
  readonly targetDeployRoleArns?: readonly string[];
  /** The decision endpoint's base URL. @default - none: a function whose settings name it cannot be made */
  readonly approvalsUrl?: string;
  /**
   * How often a declared schedule invokes its function.
   * @default - the schedule's declared `everyMinutes`
   */
  readonly scheduleInterval?: Duration;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/** A platform function as made on AWS, with what its invocations made. */
export interface MadePlatformFunction {
  readonly fn: nodejs.NodejsFunction;
  readonly role: ExplicitRole;
  /** Its rules and schedules, by their declared ids. */
  readonly rules: ReadonlyMap<string, events.Rule>;
  /** Its function URL, when it is invoked through one. */
  readonly url?: lambda.FunctionUrl;
}

/**
 * Makes `declaration`'s function under `scope`, as every stepline function is made: Node.js 22 on
 * arm64, esbuild bundle with the SDK from the runtime, active tracing, its own log group (kept), and
 * an ExplicitRole holding its logs, X-Ray, its dead-letter queue (when invoked asynchronously) and
 * exactly its declared grants. Constructs are `<id>Logs`, `<id>Role` and `<id>` under `scope`, and
 * its rules and schedules their declared ids, so the CloudFormation logical ids follow the declaration.
 */
export function platformFunction(
  scope: Construct,
  declaration: PlatformFunctionDeclaration,
  context: PlatformFunctionContext,
): MadePlatformFunction {
  const { id } = declaration;
  const stack = Stack.of(scope);
  const invokedAsynchronously = declaration.invokedBy.some(({ by }) => ASYNCHRONOUS.has(by));
  const deadLetterQueue = invokedAsynchronously ? context.deadLetterQueue : undefined;
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: context.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    // Kept when the platform is removed (history), deleted when its first create rolls back.
    removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
  });
  const role = new ExplicitRole(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `stepline ${id} function`,
    ...(declaration.roleName ? { roleName: declaration.roleName(stack.region) } : {}),
  });
  allowFunctionBasics(role, logGroup);
  const fn = new nodejs.NodejsFunction(scope, id, {
    entry: join(PROJECT_ROOT, declaration.entry),
    handler: 'handler',
    description: declaration.description,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: declaration.memoryMb ?? 256,
    timeout: Duration.seconds(declaration.timeoutSeconds),
    tracing: lambda.Tracing.ACTIVE,
    logGroup,
    role: role.immutable,
    environment: {
      [ENV.tableName]: context.table.tableName,
      // The bundles carry source maps: stack traces in the logs point at the TypeScript source.
      NODE_OPTIONS: '--enable-source-maps',
      ...Object.fromEntries(declaration.settings.map((setting) => [ENV[setting], settingValue(setting, context)])),
    },
    bundling: BUNDLING,
    ...(deadLetterQueue ? { deadLetterQueue, retryAttempts: 2 } : {}),
  });
  if (deadLetterQueue) role.allow(['sqs:SendMessage'], [deadLetterQueue.queueArn]);
  acknowledgeRule(
    fn,
    'L1',
    'The runtime is pinned to nodejs22.x on purpose (the platform issue mandates it, although NODEJS_24_X exists): moving to 24 is a deliberate, tested upgrade.',
  );

  for (const grant of declaration.grants) {
    role.allow(
      grant.actions,
      grant.on.flatMap((kind) => resourceArns(stack, kind, context)),
      grant.why,
    );
  }
  for (const { id: policyId, actions, why } of declaration.grantsOnAnyResource ?? []) {
    role.allowOnAnyResource(policyId, actions, why);
  }

  const rules = new Map<string, events.Rule>();
  let url: lambda.FunctionUrl | undefined;
  for (const invocation of declaration.invokedBy) {
    switch (invocation.by) {
      case 'rule':
        rules.set(
          invocation.id,
          triggerRule(scope, invocation.id, invocation.trigger(stackArnOf(stack)), fn, {
            ...(invocation.bus === 'platform' ? { eventBus: context.sourceBus } : {}),
            description: invocation.description,
            deadLetterQueue: context.deadLetterQueue,
          }),
        );
        break;
      case 'schedule':
        rules.set(
          invocation.id,
          new events.Rule(scope, invocation.id, {
            description: invocation.description,
            schedule: events.Schedule.rate(context.scheduleInterval ?? Duration.minutes(invocation.everyMinutes)),
            targets: [
              new targets.LambdaFunction(fn, {
                event: events.RuleTargetInput.fromObject(invocation.input),
                retryAttempts: 0,
                deadLetterQueue: context.deadLetterQueue,
              }),
            ],
          }),
        );
        break;
      case 'functionUrl':
        // Public by design: the caller (GitHub) cannot sign AWS requests. Each request is authenticated
        // by its own signature before anything in it is read (core/sources/github-webhook.ts).
        url = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
        break;
      case 'task': // the pipeline stacks' state machines (lib/pipeline-stack.ts)
      case 'httpApi': // built around the function by its owner (lib/release-approvals.ts)
      case 'function': // the caller holds lambda:InvokeFunction, a declared grant of its own
        break;
    }
  }
  role.isNeededBy(fn);
  return { fn, role, rules, ...(url ? { url } : {}) };
}

/** The invocations by which EventBridge invokes a function asynchronously (Lambda retries, then the DLQ). */
const ASYNCHRONOUS: ReadonlySet<PlatformInvocation['by']> = new Set(['rule', 'schedule']);

/** What a declared resource kind is on AWS: the one place a grant's `on` becomes ARNs. */
export function resourceArns(stack: Stack, kind: PlatformResource, context: PlatformFunctionContext): string[] {
  const format = (service: string, resource: string, resourceName: string, arnFormat = ArnFormat.SLASH_RESOURCE_NAME) =>
    stack.formatArn({ service, resource, resourceName, arnFormat });
  const catalog = CATALOG_PATH.slice(1);
  switch (kind) {
    case 'runTable':
      return [context.table.tableArn];
    case 'runTable/index/active':
      return [`${context.table.tableArn}/index/${INDEXES.active.name}`];
    case 'runTable/index/byPipeline':
      return [`${context.table.tableArn}/index/${INDEXES.byPipeline.name}`];
    case 'catalogEntries':
      return [format('ssm', 'parameter', `${catalog}/*`)];
    case 'catalogListing':
      return [format('ssm', 'parameter', catalog), format('ssm', 'parameter', `${catalog}/*`)];
    case 'pipelineMachines':
      return [format('states', 'stateMachine', `${RESOURCE_PREFIX}*`, ArnFormat.COLON_RESOURCE_NAME)];
    case 'pipelineExecutions':
      return [format('states', 'execution', `${RESOURCE_PREFIX}*:*`, ArnFormat.COLON_RESOURCE_NAME)];
    case 'sourceBus':
      return [context.sourceBus.eventBusArn];
    case 'webhookSecret':
      return [given(context.webhookSecret, kind).secretArn];
    case 'linkKeySecret':
      return [given(context.linkKeySecret, kind).secretArn];
    case 'slackSigningSecret':
      return [given(context.slackSigningSecret, kind).secretArn];
    case 'notificationSecrets':
      return [format('secretsmanager', 'secret', `${NOTIFICATION_SECRET_PREFIX}*`, ArnFormat.COLON_RESOURCE_NAME)];
    case 'sesIdentities':
      return [format('ses', 'identity', '*')];
    case 'codecommitRepositories':
      return [stack.formatArn({ service: 'codecommit', resource: '*' })];
    case 'pipelineProjects':
      return [format('codebuild', 'project', `${RESOURCE_PREFIX}*`)];
    case 'pipelineReportGroups':
      return [format('codebuild', 'report-group', `${RESOURCE_PREFIX}*`)];
    case 'pipelineBuildLogStreams':
      return [
        format('logs', 'log-group', `/aws/codebuild/${RESOURCE_PREFIX}*:log-stream:*`, ArnFormat.COLON_RESOURCE_NAME),
      ];
    case 'pipelineDeployRoles':
      return [
        stack.formatArn({
          service: 'iam',
          region: '',
          resource: 'role',
          resourceName: deployRoleName('*', stack.region),
        }),
      ];
    case 'deployFunction':
      return [given(context.deployFunction, kind).functionArn];
    case 'targetDeployRoles':
      return [...(context.targetDeployRoleArns ?? [])];
  }
}

/** The value of a setting in a function's environment (its variable is ENV[setting]). */
function settingValue(setting: PlatformSetting, context: PlatformFunctionContext): string {
  switch (setting) {
    case 'catalogPath':
      return CATALOG_PATH;
    case 'sourceBusName':
      return context.sourceBus.eventBusName;
    case 'webhookSecretId':
      return given(context.webhookSecret, setting).secretArn;
    case 'approvalsUrl':
      return given(context.approvalsUrl, setting);
    case 'linkKeySecretId':
      return given(context.linkKeySecret, setting).secretArn;
    case 'slackSigningSecretId':
      return given(context.slackSigningSecret, setting).secretArn;
    case 'deployFunctionArn':
      return given(context.deployFunction, setting).functionArn;
  }
}

function given<T>(value: T | undefined, what: string): T {
  // A programming error: the construct making the function did not pass what its declaration names.
  if (value === undefined) throw new Error(`the platform function context lacks what ${what} names`);
  return value;
}

/** What every function stepline makes writes: its own log group's streams, and X-Ray segments. */
export function allowFunctionBasics(role: ExplicitRole, logGroup: logs.ILogGroup): void {
  role.allow(
    ['logs:CreateLogStream', 'logs:PutLogEvents'],
    [logGroup.logGroupArn],
    'A function writes its log streams, named by Lambda per container, into its own log group only.',
  );
  role.allowOnAnyResource(
    'XRayTracing',
    ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
    'Active tracing sends segments with xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions.',
  );
}
