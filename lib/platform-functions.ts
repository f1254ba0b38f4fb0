/**
 * The platform's Lambda functions, shared by every pipeline: the source-change publisher (target of
 * the CodeCommit push rules), the GitHub webhook receiver (a function URL), the run starter (target
 * of the run rules on the platform's bus) and the progress recorder (Step Functions task). Each has an ExplicitRole: the actions below are
 * all it may do. Their grants on pipeline resources go by stepline's reserved name prefix, so adding
 * a pipeline changes nothing here (a per-pipeline statement on these shared roles would also run
 * into IAM's 10,240-character limit on a role's inline policies at about a hundred pipelines).
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  CATALOG_PATH,
  ENV,
  RESOURCE_PREFIX,
  SOURCE_BUS_NAME,
  alarmRuleName,
  deployFunctionRoleName,
  deployRoleName,
  pushRuleName,
  runRuleName,
} from '../core/platform';
import { NOTIFICATION_SECRET_PREFIX } from '../core/config';
import { runEventTrigger } from '../core/source-events';
import { executionEndedTrigger } from '../core/triggers';
import { INDEXES } from '../store/schema';
import { acknowledgeRule } from './nag';
import { triggerRule } from './source-triggers';
import { ExplicitRole } from './permissions';

const LAMBDAS_DIR = `${__dirname}/../lambdas`;

/** The handler entry files; lib/ names them by path and never imports them. */
export const HANDLER_ENTRIES = {
  publishSourceChange: `${LAMBDAS_DIR}/publish-source-change.ts`,
  githubWebhook: `${LAMBDAS_DIR}/github-webhook.ts`,
  startRun: `${LAMBDAS_DIR}/start-run.ts`,
  recordProgress: `${LAMBDAS_DIR}/record-progress.ts`,
  notify: `${LAMBDAS_DIR}/notify.ts`,
  approvalGate: `${LAMBDAS_DIR}/approval-gate.ts`,
  approvalDecisions: `${LAMBDAS_DIR}/approval-decisions.ts`,
  deploy: `${LAMBDAS_DIR}/deploy.ts`,
} as const;

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

/** What makes one platform function: its handler, its limits and what its environment adds. */
export interface PlatformFunctionSpec {
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  /** The run store table; every platform function gets its name (ENV.tableName). */
  readonly table: dynamodb.ITable;
  /** Variables beyond the table name every function gets. */
  readonly environment?: Record<string, string>;
  /**
   * For a function EventBridge invokes (asynchronously): Lambda retries an event twice, then sends it here.
   * @default - no dead-letter queue: the function is invoked synchronously
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * A fixed name for the function's role, for a role other policies name.
   * @default - a name CloudFormation generates
   */
  readonly roleName?: string;
}

/**
 * One platform function as every stepline function is made: Node.js 22 on arm64, esbuild bundle with
 * the SDK from the runtime, active tracing, its own log group (kept), and an ExplicitRole holding only
 * its logs, X-Ray and (when invoked by events) its dead-letter queue; the caller adds the rest with
 * `role.allow`. Constructs are made under `scope` as `<name>Logs`, `<name>Role` and `<name>`.
 */
export function platformFunction(
  scope: Construct,
  name: string,
  spec: PlatformFunctionSpec,
): { readonly fn: nodejs.NodejsFunction; readonly role: ExplicitRole } {
  const { entry, description, timeout, deadLetterQueue } = spec;
  const logGroup = new logs.LogGroup(scope, `${name}Logs`, {
    retention: spec.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    // Kept when the platform is removed (history), deleted when its first create rolls back.
    removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
  });
  const role = new ExplicitRole(scope, `${name}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `stepline ${name} function`,
    ...(spec.roleName ? { roleName: spec.roleName } : {}),
  });
  allowFunctionBasics(role, logGroup);
  const fn = new nodejs.NodejsFunction(scope, name, {
    entry,
    handler: 'handler',
    description,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 256,
    timeout,
    tracing: lambda.Tracing.ACTIVE,
    logGroup,
    role: role.immutable,
    environment: {
      [ENV.tableName]: spec.table.tableName,
      // The bundles carry source maps: stack traces in the logs point at the TypeScript source.
      NODE_OPTIONS: '--enable-source-maps',
      ...spec.environment,
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
  return { fn, role };
}

export interface PlatformFunctionsProps {
  /** The run store table; the starter and the recorder read and write it. */
  readonly table: dynamodb.ITable;
  /** The platform's bus, where the publisher and the webhook receiver put SourceChanged events. */
  readonly sourceBus: events.IEventBus;
  /** The secret GitHub signs webhook deliveries with; only the receiver reads it. */
  readonly webhookSecret: secretsmanager.ISecret;
  /**
   * How often the recorder sweeps active runs for executions whose status event was lost.
   * @default Duration.minutes(5)
   */
  readonly sweepInterval?: Duration;
  /**
   * Retention of the functions' log groups.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

export class PlatformFunctions extends Construct {
  /** lambdas/publish-source-change.ts: puts a CodeCommit push on the platform's bus as SourceChanged. */
  readonly publishSourceChange: nodejs.NodejsFunction;
  /** lambdas/github-webhook.ts: verifies and turns GitHub push deliveries into SourceChanged events. */
  readonly githubWebhook: nodejs.NodejsFunction;
  /** The HTTPS endpoint GitHub webhooks deliver to. */
  readonly githubWebhookUrl: lambda.FunctionUrl;
  /** lambdas/start-run.ts: turns a SourceChanged event into a run record and an execution. */
  readonly startRun: nodejs.NodejsFunction;
  /** lambdas/record-progress.ts: records each step of a run, reading builds, reports and logs. */
  readonly recordProgress: nodejs.NodejsFunction;
  /**
   * Events the functions EventBridge invokes (asynchronously) failed on after Lambda's retries — the
   * starter, the publisher, the recorder, the notifier and the release gate's decision function — and
   * events their rules could not deliver: kept for inspection and redrive, not lost.
   */
  readonly failedRunRequests: sqs.Queue;
  readonly startRunRole: ExplicitRole;
  readonly recordProgressRole: ExplicitRole;
  readonly publishSourceChangeRole: ExplicitRole;
  readonly githubWebhookRole: ExplicitRole;
  /** Every pipeline execution's end, to the recorder. */
  readonly executionEndedRule: events.Rule;
  /** lambdas/notify.ts: Slack, email and GitHub commit statuses for run starts and ends. */
  readonly notify: nodejs.NodejsFunction;
  readonly notifyRole: ExplicitRole;
  /** Run events on the platform's bus, to the notifier. */
  readonly runEventsRule: events.Rule;
  /** The recorder's schedule: catching up with lost execution status events. */
  readonly sweepRule: events.Rule;
  /**
   * lambdas/deploy.ts: every pipeline's deployments (the machines' deployment tasks, the alarm rules'
   * rollbacks). It holds no permission on any target: per request it assumes the pipeline's deploy role.
   */
  readonly deploy: nodejs.NodejsFunction;
  /** Named deployFunctionRoleName(<Region>): the pipelines' deploy roles trust it by that name. */
  readonly deployRole: ExplicitRole;

  constructor(scope: Construct, id: string, props: PlatformFunctionsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const create = (
      name: string,
      {
        invokedByEvents,
        ...spec
      }: Omit<PlatformFunctionSpec, 'table' | 'logRetention' | 'deadLetterQueue'> & {
        /** EventBridge invokes it asynchronously: what Lambda's retries cannot deliver goes to the DLQ. */
        readonly invokedByEvents?: boolean;
      },
    ) =>
      platformFunction(this, name, {
        ...spec,
        table: props.table,
        ...(props.logRetention ? { logRetention: props.logRetention } : {}),
        ...(invokedByEvents ? { deadLetterQueue: this.failedRunRequests } : {}),
      });

    this.failedRunRequests = new sqs.Queue(this, 'FailedRunRequests', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeRule(
      this.failedRunRequests,
      'SQS3',
      "This queue is itself a dead-letter queue: of the functions EventBridge invokes and of their rules' targets, holding the events they failed on after the retries.",
    );
    const catalogParameters = stack.formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: CATALOG_PATH.slice(1) + '/*',
    });
    const pipelineMachines = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: `${RESOURCE_PREFIX}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // Rules in the pipelines' stacks invoke the publisher and the starter: one permission per function
    // by the rules' reserved name pattern keeps its resource policy (20 KB) from growing with them.
    const invokedByRules = (fn: lambda.Function, id: string, bus: string | undefined, name: string) =>
      fn.addPermission(id, {
        principal: new iam.ServicePrincipal('events.amazonaws.com'),
        action: 'lambda:InvokeFunction',
        sourceAccount: stack.account,
        sourceArn: stack.formatArn({
          service: 'events',
          resource: 'rule',
          resourceName: bus ? `${bus}/${name}` : name,
        }),
      });

    const bus = { [ENV.sourceBusName]: props.sourceBus.eventBusName };
    const catalog = { [ENV.catalogPath]: CATALOG_PATH };
    const publisher = create('PublishSourceChange', {
      entry: HANDLER_ENTRIES.publishSourceChange,
      description: "stepline: puts a CodeCommit push on the platform's bus",
      timeout: Duration.seconds(30),
      environment: bus,
      invokedByEvents: true,
    });
    this.publishSourceChange = publisher.fn;
    this.publishSourceChangeRole = publisher.role;
    publisher.role.allow(['events:PutEvents'], [props.sourceBus.eventBusArn]);
    // The push rules: one per CodeCommit pipeline, on the default bus.
    invokedByRules(this.publishSourceChange, 'InvokedByPushRules', undefined, pushRuleName('*'));

    const receiver = create('GitHubWebhook', {
      entry: HANDLER_ENTRIES.githubWebhook,
      description: 'stepline: receives GitHub push deliveries',
      // GitHub counts a delivery not answered within 10 s as failed.
      timeout: Duration.seconds(10),
      environment: { ...bus, ...catalog, [ENV.webhookSecretId]: props.webhookSecret.secretArn },
    });
    this.githubWebhook = receiver.fn;
    this.githubWebhookRole = receiver.role;
    receiver.role.allow(['events:PutEvents'], [props.sourceBus.eventBusArn]);
    receiver.role.allow(['secretsmanager:GetSecretValue'], [props.webhookSecret.secretArn]);
    receiver.role.allow(
      ['ssm:GetParametersByPath'],
      [
        stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: CATALOG_PATH.slice(1) }),
        stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: CATALOG_PATH.slice(1) + '/*' }),
      ],
      'The receiver lists the catalog (one parameter per pipeline under /stepline/pipelines/) to learn which pipelines follow a repository; that path only.',
    );
    // Public by design: GitHub cannot sign AWS requests. Each delivery is authenticated by its
    // X-Hub-Signature-256 before anything in it is read (core/github-webhook.ts).
    this.githubWebhookUrl = this.githubWebhook.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });

    const starter = create('StartRun', {
      entry: HANDLER_ENTRIES.startRun,
      description: 'stepline: starts a pipeline run for a source event',
      timeout: Duration.seconds(30),
      environment: catalog,
      invokedByEvents: true,
    });
    this.startRun = starter.fn;
    this.startRunRole = starter.role;
    // RunStore.createRun (a conditional PutItem, GetItem when the condition's old item is not
    // returned) and the pipeline lanes: enqueue (PutItem), waiting (Query), dequeue (DeleteItem),
    // acquire and release (UpdateItem), superseding a waiting run (UpdateItem).
    starter.role.allow(
      ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
      [props.table.tableArn],
    );
    starter.role.allow(
      ['ssm:GetParameter'],
      [catalogParameters],
      'Each pipeline stack publishes its catalog entry as one parameter under /stepline/pipelines/; the starter reads that path only.',
    );
    starter.role.allow(
      ['states:StartExecution'],
      [pipelineMachines],
      "Pipeline state machines are named stepline-<pipeline> and live in the pipelines' own stacks: the grant covers that reserved prefix, so adding a pipeline needs no change to this shared role.",
    );
    starter.role.allow(
      ['codecommit:GetCommit', 'codecommit:GetDifferences'],
      [stack.formatArn({ service: 'codecommit', resource: '*' })],
      "The starter reads the pushed commit's author, message and changed files (for path filters). Repositories are the users' own, named freely; one statement per repository on this shared role would outgrow IAM's inline policy limit, so the grant is this one read action on the account's repositories in this Region.",
    );
    // The run rules: one per pipeline, on the platform's bus.
    invokedByRules(this.startRun, 'InvokedByRunRules', SOURCE_BUS_NAME, runRuleName('*'));

    const recorder = create('RecordProgress', {
      entry: HANDLER_ENTRIES.recordProgress,
      description: 'stepline: records a step of a pipeline run',
      // The ASL gives each recording task 60 s; the function must give up before the task does.
      timeout: Duration.seconds(45),
      // The bus: it announces each run's start and end there, for the notifier.
      environment: { ...catalog, ...bus },
      // Also invoked by the execution status and sweep rules.
      invokedByEvents: true,
    });
    this.recordProgress = recorder.fn;
    this.recordProgressRole = recorder.role;
    // RunStore.transitionRun/transitionStage (conditional UpdateItem, GetItem after a failed
    // condition), getRun (GetItem), listStages (Query on the table's own key), moving a lane on
    // when a run ends: release and acquire (UpdateItem), waiting (Query), dequeue (DeleteItem), and
    // the sweep's active runs (Query on the active index), and an expired run's release gate: closed
    // (UpdateItem) with an audit event (PutItem, core/approval-gate.ts closeExpiredGate).
    recorder.role.allow(
      ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:DeleteItem', 'dynamodb:PutItem'],
      [props.table.tableArn, `${props.table.tableArn}/index/${INDEXES.active.name}`],
    );
    recorder.role.allow(
      ['ssm:GetParameter'],
      [catalogParameters],
      "The recorder reads an ended run's pipeline entry (its execution mode) under /stepline/pipelines/; that path only.",
    );
    recorder.role.allow(
      ['states:StartExecution'],
      [pipelineMachines],
      'When a run ends, the recorder starts the next waiting run of its pipeline; pipeline machines are named stepline-<pipeline>.',
    );
    // Every pipeline execution's end, however it ends (aborted, timed out): the run is recorded and
    // its pipeline's lane moves on. One rule by the machines' reserved name prefix.
    const ended = executionEndedTrigger(
      stack.formatArn({
        service: 'states',
        resource: 'stateMachine',
        resourceName: RESOURCE_PREFIX,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    this.executionEndedRule = triggerRule(this, 'ExecutionEndedRule', ended, this.recordProgress, {
      description: 'stepline: a pipeline execution ended; the recorder records its run and starts the next',
      deadLetterQueue: this.failedRunRequests,
    });
    recorder.role.allow(
      ['codebuild:BatchGetBuilds'],
      [stack.formatArn({ service: 'codebuild', resource: 'project', resourceName: `${RESOURCE_PREFIX}*` })],
      "The recorder reads the builds of the pipelines' projects, all named stepline-<pipeline>-<stage>.",
    );
    recorder.role.allow(
      ['codebuild:BatchGetReports', 'codebuild:DescribeTestCases'],
      [stack.formatArn({ service: 'codebuild', resource: 'report-group', resourceName: `${RESOURCE_PREFIX}*` })],
      "Test reports live in report groups CodeBuild creates from each buildspec, named <project>-<report>: stepline's projects' report groups only.",
    );
    recorder.role.allow(
      ['logs:GetLogEvents'],
      [
        stack.formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: `/aws/codebuild/${RESOURCE_PREFIX}*:log-stream:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      "A build's log stream is named after its build id, in its project's log group /aws/codebuild/<project>-<stack id> (lib/build-projects.ts): the streams of stepline's projects only.",
    );
    // Every few minutes the recorder sweeps the active runs for executions that ended without their
    // status event reaching it (Step Functions delivers those best effort).
    this.sweepRule = new events.Rule(this, 'SweepRule', {
      description: 'stepline: the recorder catches up with executions whose status event was lost',
      schedule: events.Schedule.rate(props.sweepInterval ?? Duration.minutes(5)),
      targets: [
        new targets.LambdaFunction(this.recordProgress, {
          event: events.RuleTargetInput.fromObject({ kind: 'sweep' }),
          retryAttempts: 0,
          deadLetterQueue: this.failedRunRequests,
        }),
      ],
    });
    recorder.role.allow(
      ['states:DescribeExecution'],
      [
        stack.formatArn({
          service: 'states',
          resource: 'execution',
          resourceName: `${RESOURCE_PREFIX}*:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      "The sweep asks whether an active run's execution has ended; executions of stepline's machines only (stepline-<pipeline>:<run>).",
    );
    // The recorder announces each run's start and end on the platform's bus, for the notifier.
    recorder.role.allow(['events:PutEvents'], [props.sourceBus.eventBusArn]);

    const notifier = create('Notify', {
      entry: HANDLER_ENTRIES.notify,
      description: "stepline: tells Slack, email and GitHub of a run's start and end",
      // Three quick tries per message (at most about 11 s each, with backoff) and a few messages per run.
      timeout: Duration.seconds(120),
      environment: catalog,
      invokedByEvents: true,
    });
    this.notify = notifier.fn;
    this.notifyRole = notifier.role;
    // RunStore: getRun/listStages (GetItem, Query), the pipeline's earlier runs (Query on byPipeline),
    // notification records (PutItem, UpdateItem, GetItem after a failed condition).
    notifier.role.allow(
      ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      [props.table.tableArn, `${props.table.tableArn}/index/${INDEXES.byPipeline.name}`],
    );
    notifier.role.allow(
      ['ssm:GetParameter'],
      [catalogParameters],
      "The notifier reads the run's pipeline entry (its notification settings) under /stepline/pipelines/; that path only.",
    );
    notifier.role.allow(
      ['secretsmanager:GetSecretValue'],
      [
        stack.formatArn({
          service: 'secretsmanager',
          resource: 'secret',
          resourceName: `${NOTIFICATION_SECRET_PREFIX}*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      'The Slack webhook URLs and GitHub tokens the pipelines name must live under stepline/notifications/ (the config refuses any other name): the notifier reads those secrets and no others.',
    );
    notifier.role.allow(
      ['ses:SendEmail'],
      [stack.formatArn({ service: 'ses', resource: 'identity', resourceName: '*' })],
      "Email goes out from the SES identities the pipelines name as `from`, which are the users' own and named in the config; the platform's template does not depend on the config, so the grant is SendEmail from this account's identities in this Region (SES sends only from verified ones).",
    );
    this.runEventsRule = triggerRule(this, 'RunEventsRule', runEventTrigger(), this.notify, {
      eventBus: props.sourceBus,
      description: 'stepline: run starts and ends, to the notifier',
      deadLetterQueue: this.failedRunRequests,
    });

    const deployer = create('Deploy', {
      entry: HANDLER_ENTRIES.deploy,
      description: "stepline: releases pipelines' builds to their Lambda functions, and rolls them back",
      // The ASL gives each deployment task 120 s; the function must give up before the task does.
      timeout: Duration.seconds(100),
      environment: catalog,
      roleName: deployFunctionRoleName(stack.region),
      // Also invoked by the pipelines' alarm rules.
      invokedByEvents: true,
    });
    this.deploy = deployer.fn;
    this.deployRole = deployer.role;
    // RunStore: the run (GetItem), the deployment record (conditional PutItem, UpdateItem, GetItem after
    // a failed condition), and the active runs an alarm may concern (Query on the active index).
    deployer.role.allow(
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
      [props.table.tableArn, `${props.table.tableArn}/index/${INDEXES.active.name}`],
    );
    deployer.role.allow(
      ['ssm:GetParameter'],
      [catalogParameters],
      "The deploy function reads the run's pipeline entry (its deploy target and strategy) under /stepline/pipelines/; that path only.",
    );
    deployer.role.allow(
      ['codebuild:BatchGetBuilds'],
      [stack.formatArn({ service: 'codebuild', resource: 'project', resourceName: `${RESOURCE_PREFIX}*` })],
      "The release step reads the build stage's artifact location from its build; the pipelines' projects are all named stepline-<pipeline>-<stage>.",
    );
    deployer.role.allow(
      ['codebuild:BatchGetReports', 'codebuild:DescribeTestCases'],
      [stack.formatArn({ service: 'codebuild', resource: 'report-group', resourceName: `${RESOURCE_PREFIX}*` })],
      "Reading a build (CodeBuildInspector.describeBuild) also reads its test reports and, when they have failures, their failed test cases, in report groups named <project>-<report>: stepline's projects' report groups only.",
    );
    deployer.role.allow(
      ['sts:AssumeRole'],
      [
        stack.formatArn({
          service: 'iam',
          region: '',
          resource: 'role',
          resourceName: deployRoleName('*', stack.region),
        }),
      ],
      "Each pipeline's deploy role (stepline-<pipeline>-deploy-<Region>, in the pipeline's stack) holds the permissions on that pipeline's target function, artifacts and alarms; the deploy function may assume those roles of its own Region and no other, and holds no permission on any target itself.",
    );
    // The alarm rules: one per pipeline with a deploy target, on the default bus.
    invokedByRules(this.deploy, 'InvokedByAlarmRules', undefined, alarmRuleName('*'));

    publisher.role.isNeededBy(this.publishSourceChange);
    receiver.role.isNeededBy(this.githubWebhook);
    starter.role.isNeededBy(this.startRun);
    recorder.role.isNeededBy(this.recordProgress);
    notifier.role.isNeededBy(this.notify);
    deployer.role.isNeededBy(this.deploy);
  }
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
