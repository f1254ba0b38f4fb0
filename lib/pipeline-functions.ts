/**
 * The platform's Lambda functions, shared by every pipeline: the run starter (EventBridge target)
 * and the progress recorder (Step Functions task). Each gets its own role and log group; every
 * permission beyond writing its logs comes from a grant method below.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codecommit from 'aws-cdk-lib/aws-codecommit';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '../lambdas/environment';
import { buildLogStreamsArn, reportGroupsArn } from './build-projects';
import { acknowledgeRule, acknowledgeWildcards, wildcardResource } from './nag';

const LAMBDAS_DIR = `${__dirname}/../lambdas`;

export interface PipelineFunctionsProps {
  /** The run store table; both functions read and write it. */
  readonly table: dynamodb.ITable;
  /**
   * Retention of the functions' log groups.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log groups when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class PipelineFunctions extends Construct {
  /** lambdas/start-run.ts: turns a source event into a run record and an execution. */
  readonly startRun: nodejs.NodejsFunction;
  /** lambdas/record-progress.ts: records each step of a run, reading builds, reports and logs. */
  readonly recordProgress: nodejs.NodejsFunction;
  /**
   * Run requests the starter failed on after Lambda's retries of the asynchronous invocation
   * (EventBridge invokes it asynchronously): kept for inspection and redrive, not lost.
   */
  readonly failedRunRequests: sqs.Queue;
  private readonly roles = new Map<nodejs.NodejsFunction, iam.Role>();

  constructor(scope: Construct, id: string, props: PipelineFunctionsProps) {
    super(scope, id);
    const create = (
      name: string,
      entry: string,
      description: string,
      timeout: Duration,
      extra: Partial<nodejs.NodejsFunctionProps> = {},
    ) => {
      const logGroup = new logs.LogGroup(this, `${name}Logs`, {
        retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
        removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
      });
      // An explicit role instead of the default one, which would carry AWSLambdaBasicExecutionRole
      // (logs:* on every log group): this one writes to its own log group only.
      const role = new iam.Role(this, `${name}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `stepline ${name} function`,
      });
      logGroup.grantWrite(role);
      const fn = new nodejs.NodejsFunction(this, name, {
        entry: `${LAMBDAS_DIR}/${entry}`,
        handler: 'handler',
        description,
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 256,
        timeout,
        tracing: lambda.Tracing.ACTIVE,
        logGroup,
        role,
        environment: { [ENV.tableName]: props.table.tableName },
        bundling: {
          forceDockerBundling: false,
          target: 'node22',
          format: nodejs.OutputFormat.CJS,
          minify: true,
          sourceMap: true,
          // Bundle the AWS SDK too, so the code runs against the versions it was tested with.
          externalModules: [],
        },
        ...extra,
      });
      fn.node.addDependency(logGroup);
      acknowledgeRule(
        fn,
        'L1',
        'The runtime is pinned to nodejs22.x on purpose (the platform issue mandates it, although NODEJS_24_X exists): moving to 24 is a deliberate, tested upgrade.',
      );
      acknowledgeWildcards(
        role,
        ['Resource::*'],
        'Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions.',
      );
      this.roles.set(fn, role);
      props.table.grantReadWriteData(fn);
      acknowledgeWildcards(
        role,
        [wildcardResource(role, `${props.table.tableArn}/index/*`)],
        "The run store is queried through its GSIs (byPipeline, active): the grant covers this one table's indexes.",
      );
      return fn;
    };
    this.failedRunRequests = new sqs.Queue(this, 'FailedRunRequests', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeRule(
      this.failedRunRequests,
      'SQS3',
      "This queue is itself a dead-letter queue: the starter function's, holding the run requests it failed on after Lambda's retries.",
    );
    this.startRun = create(
      'StartRun',
      'start-run.ts',
      'stepline: starts a pipeline run for a source event',
      Duration.seconds(30),
      { deadLetterQueue: this.failedRunRequests, retryAttempts: 2 },
    );
    this.recordProgress = create(
      'RecordProgress',
      'record-progress.ts',
      'stepline: records a step of a pipeline run',
      // The ASL gives each recording task 60 s; the function must give up before the task does.
      Duration.seconds(45),
    );
  }

  /**
   * Lets the recorder read the builds of these projects, their test reports (report groups
   * `<project>-<name>`, created by CodeBuild from the buildspec) and their logs
   * (`/aws/codebuild/<project>`).
   */
  grantBuildInspection(projects: readonly codebuild.IProject[]): void {
    const grantee = this.recordProgress;
    const reportGroups = projects.map((p) => reportGroupsArn(this, p.projectName));
    const logStreams = projects.map((p) => buildLogStreamsArn(this, p.projectName));
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['codebuild:BatchGetBuilds'],
      resourceArns: projects.map((p) => p.projectArn),
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['codebuild:BatchGetReports'], resourceArns: reportGroups });
    iam.Grant.addToPrincipal({ grantee, actions: ['logs:GetLogEvents'], resourceArns: logStreams });
    const role = this.roleOf(this.recordProgress);
    acknowledgeWildcards(
      role,
      reportGroups.map((arn) => wildcardResource(role, arn)),
      "Test reports live in report groups that CodeBuild creates from each buildspec's reports section, named <project>-<report>: the grant covers these projects' report groups only.",
    );
    acknowledgeWildcards(
      role,
      logStreams.map((arn) => wildcardResource(role, arn)),
      "A build's log stream is named after its build id, unknown before the build: the grant covers the streams of these projects' own log groups (/aws/codebuild/<project>) only.",
    );
  }

  /** Lets the starter start executions of a pipeline's state machine and read its repository's commits. */
  grantRunStart(stateMachine: sfn.IStateMachine, repository?: codecommit.IRepository): void {
    stateMachine.grantStartExecution(this.startRun);
    repository?.grant(this.startRun, 'codecommit:GetCommit');
  }

  private roleOf(fn: nodejs.NodejsFunction): iam.Role {
    const role = this.roles.get(fn);
    if (!role) throw new Error(`PipelineFunctions: ${fn.node.path} has no role of this construct`);
    return role;
  }
}
