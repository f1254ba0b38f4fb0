/**
 * The platform's Lambda functions but the release gate's, shared by every pipeline: the source-change publisher (target of
 * the CodeCommit push rules), the GitHub webhook receiver (a function URL), the run starter (target
 * of the run rules on the platform's bus), the progress recorder (Step Functions task), the notifier
 * and the deploy function. Each is made from its declaration in core/platform-functions.ts (entry,
 * environment, grants, rules) by `platformFunction`; this construct holds only what they share, the
 * dead-letter queue. Their grants on pipeline resources go by stepline's reserved name prefix, so
 * adding a pipeline changes nothing here (a per-pipeline statement on these shared roles would also run
 * into IAM's 10,240-character limit on a role's inline policies at about a hundred pipelines).
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PLATFORM_FUNCTIONS, platformFunctionNames, type PlatformFunctionName } from '../core/platform-functions';
import { acknowledgeRule } from './nag';
import type { ExplicitRole } from './permissions';
import { platformFunction, type MadePlatformFunction, type PlatformFunctionContext } from './platform-function';
import { RELEASE_APPROVAL_FUNCTIONS } from './release-approvals';

export interface PlatformFunctionsProps {
  /** The run store table; the starter and the recorder read and write it. */
  readonly table: dynamodb.ITable;
  /** The platform's bus, where the publisher and the webhook receiver put SourceChanged events. */
  readonly sourceBus: events.IEventBus;
  /** The secret GitHub signs webhook deliveries with; only the receiver reads it. */
  readonly webhookSecret: secretsmanager.ISecret;
  /**
   * How often the declared schedules of the functions made here run: the recorder's sweep of active
   * runs for executions whose status event was lost.
   * @default - each schedule's declared interval (5 minutes for the sweep)
   */
  readonly sweepInterval?: Duration;
  /**
   * The deploy roles of targets in other accounts, by ARN: the deploy function may assume them too.
   * @default - none
   */
  readonly targetDeployRoleArns?: readonly string[];
  /**
   * Retention of the functions' log groups.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

export class PlatformFunctions extends Construct {
  /** Each function it makes (every declared one but RELEASE_APPROVAL_FUNCTIONS), by its declared name. */
  readonly functions: ReadonlyMap<PlatformFunctionName, MadePlatformFunction>;
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
   * starter, the publisher, the recorder, the notifier, the deploy function and the release gate's
   * decision function — and events their rules could not deliver: kept for inspection and redrive, not lost.
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
    const context: PlatformFunctionContext = {
      table: props.table,
      sourceBus: props.sourceBus,
      webhookSecret: props.webhookSecret,
      deadLetterQueue: this.failedRunRequests,
      ...(props.sweepInterval ? { scheduleInterval: props.sweepInterval } : {}),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...(props.targetDeployRoleArns ? { targetDeployRoleArns: props.targetDeployRoleArns } : {}),
    };
    // Every declared function but the release gate's, which ReleaseApprovals makes around its API: a
    // function added to the declaration is made here with nothing else to change.
    const functions = new Map<PlatformFunctionName, MadePlatformFunction>(
      platformFunctionNames()
        .filter((name) => !RELEASE_APPROVAL_FUNCTIONS.includes(name))
        .map((name) => [name, platformFunction(this, PLATFORM_FUNCTIONS[name], context)]),
    );
    this.functions = functions;
    const made = (name: PlatformFunctionName) => functions.get(name)!;
    const rule = (name: PlatformFunctionName, ruleId: string) => made(name).rules.get(ruleId)!;

    this.publishSourceChange = made('publishSourceChange').fn;
    this.publishSourceChangeRole = made('publishSourceChange').role;
    this.githubWebhook = made('githubWebhook').fn;
    this.githubWebhookRole = made('githubWebhook').role;
    this.githubWebhookUrl = made('githubWebhook').url!;
    this.startRun = made('startRun').fn;
    this.startRunRole = made('startRun').role;
    this.recordProgress = made('recordProgress').fn;
    this.recordProgressRole = made('recordProgress').role;
    this.executionEndedRule = rule('recordProgress', 'ExecutionEndedRule');
    this.sweepRule = rule('recordProgress', 'SweepRule');
    this.notify = made('notify').fn;
    this.notifyRole = made('notify').role;
    this.runEventsRule = rule('notify', 'RunEventsRule');
    this.deploy = made('deploy').fn;
    this.deployRole = made('deploy').role;
  }
}
