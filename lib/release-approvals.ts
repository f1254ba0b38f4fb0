/**
 * The decision side of the release gate: the functions that open a gate and decide it, the endpoint
 * approvers reach, the schedule that keeps open gates honest, and the two secrets that authenticate
 * links and Slack. The state machines' side (the gate's two Tasks and their grants) lives in each
 * pipeline's stack (lib/pipeline-state-machine.ts), which reads the gate function's ARN from SSM.
 *
 * Why an HTTP API and not a function URL (as the GitHub webhook has): the decision endpoint needs a
 * different authorization per route on one endpoint — IAM for the CLI, none for the Slack and email
 * routes, whose requests carry their own signatures — plus stage throttling and access logs. A
 * function URL has one auth type for every path and throttles only through reserved concurrency.
 */
import { readFileSync } from 'node:fs';
import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TASK_RESOURCES, tasksOf } from '../core/asl/states';
import {
  APPROVAL_LINK_KEY_SECRET_NAME,
  APPROVAL_ROUTES,
  PLATFORM_PARAMETERS,
  SLACK_SIGNING_SECRET_NAME,
} from '../core/platform';
import {
  PLATFORM_FUNCTIONS,
  platformFunctionNames,
  type PlatformFunctionName,
  type PlatformInvocation,
} from '../core/platform-functions';
import { PIPELINE_DEFINITION_FILE } from '../statemachines';
import { InvalidPropError } from './errors';
import { acknowledgeRule } from './nag';
import { platformFunction, type MadePlatformFunction, type PlatformFunctionContext } from './platform-function';
import type { ExplicitRole } from './permissions';

/**
 * The functions behind the API's declared CLI routes (`httpApi` with `cliRoutes`: the run controls), each
 * with its routes, IAM-authorized.
 */
export const CLI_ROUTE_FUNCTIONS: readonly {
  readonly name: PlatformFunctionName;
  readonly routes: readonly string[];
}[] = platformFunctionNames().flatMap((name) =>
  (PLATFORM_FUNCTIONS[name].invokedBy as readonly PlatformInvocation[]).flatMap((invocation) =>
    invocation.by === 'httpApi' && invocation.cliRoutes ? [{ name, routes: invocation.cliRoutes }] : [],
  ),
);

/** The functions this construct makes, the release gate's and those behind the API (PlatformFunctions makes every other one). */
export const RELEASE_APPROVAL_FUNCTIONS: readonly PlatformFunctionName[] = [
  'approvalGate',
  'approvalDecisions',
  ...CLI_ROUTE_FUNCTIONS.map(({ name }) => name),
];

/** The API's name, as the API Gateway console lists it. */
export const APPROVALS_API_NAME = 'stepline-approvals';

export interface ReleaseApprovalsProps {
  /** The run store table: gates, decisions, audit events and notifications live in the run's partition. */
  readonly table: dynamodb.ITable;
  /** The platform's bus, where the gate announces ApprovalRequested and ApprovalDecided. */
  readonly sourceBus: events.IEventBus;
  /**
   * Where sweep events go that could not be delivered: the schedule target's dead-letter queue, and
   * the decision function's for the asynchronous invocations Lambda's retries did not deliver.
   */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * The deploy function, to which the decision function hands operators' controls of a deployment
   * (`POST /cli/deployments/<run>`, IAM-authorized).
   */
  readonly deployFunction: lambda.IFunction;
  /**
   * How often the decision function sweeps open gates: expires overdue ones, releases held ones whose
   * change window has come, re-sends failed resumes, and heartbeats every waiting task. Must be at
   * most half the `HeartbeatSeconds` of the pipeline definition's `.waitForTaskToken` Tasks.
   * @default Duration.minutes(5)
   */
  readonly sweepInterval?: Duration;
  /**
   * The default stage's throttling, for every route.
   * @default { burstLimit: 50, rateLimit: 20 }
   */
  readonly throttle?: apigwv2.ThrottleSettings;
  /**
   * Retention of the functions' and the access log's log groups.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One JSON object per request. No query string is logged: an email link carries its signed token
 * there, and whoever reads the logs must not be able to decide with it.
 */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    sourceIp: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    caller: '$context.identity.userArn',
    routeKey: '$context.routeKey',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    authorizerError: '$context.authorizer.error',
    integrationError: '$context.integrationErrorMessage',
  }),
);

export class ReleaseApprovals extends Construct {
  /** The HMAC key of the email approval links (generated; never leaves the platform). */
  readonly linkKeySecret: secretsmanager.Secret;
  /** The Slack app's Signing Secret: generated as a placeholder, the user puts Slack's value in it. */
  readonly slackSigningSecret: secretsmanager.Secret;
  /** lambdas/approval-gate.ts: opens a run's gate and, with the task token kept, asks the approvers. */
  readonly approvalGate: nodejs.NodejsFunction;
  readonly approvalGateRole: ExplicitRole;
  /** lambdas/approval-decisions.ts: the decision endpoint and the gates' sweep; alone resumes executions. */
  readonly approvalDecisions: nodejs.NodejsFunction;
  readonly approvalDecisionsRole: ExplicitRole;
  /** Its functions with their roles and rules, by their declared names. */
  readonly functions: ReadonlyMap<PlatformFunctionName, MadePlatformFunction>;
  /** The decision endpoint. */
  readonly api: apigwv2.HttpApi;
  /** `$default`, auto-deployed: routes sit at the root, so the pages' relative form actions resolve. */
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;
  /** The routes by route key (`METHOD path`, the paths from APPROVAL_ROUTES), e.g. `GET /cli/approvals/{runId}`. */
  readonly routes: ReadonlyMap<string, apigwv2.HttpRoute>;
  /** The IAM-authorized routes, the CLI's, as [method, path]: what the CLI policy names. */
  private readonly cliRoutes: (readonly [apigwv2.HttpMethod, string])[] = [];
  /** The decision function's schedule: expiry, held gates, failed resumes, heartbeats. */
  readonly sweepRule: events.Rule;

  constructor(scope: Construct, id: string, props: ReleaseApprovalsProps) {
    super(scope, id);
    const sweepInterval = props.sweepInterval ?? Duration.minutes(5);
    checkSweepInterval(this, sweepInterval);

    this.linkKeySecret = new secretsmanager.Secret(this, 'LinkKey', {
      secretName: APPROVAL_LINK_KEY_SECRET_NAME,
      description: 'stepline: the HMAC key that signs the approve and reject links in approval emails',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeRule(
      this.linkKeySecret,
      'SMG4',
      "The link key signs approval links that stay valid until their gate expires (up to the policy's expiry): a scheduled rotation would break every open gate's links at once, so the key is rotated by hand when no gate is open; the functions re-read it within 5 minutes.",
    );
    this.slackSigningSecret = new secretsmanager.Secret(this, 'SlackSigningSecret', {
      secretName: SLACK_SIGNING_SECRET_NAME,
      description:
        "stepline: put your Slack app's Signing Secret here (Slack app settings, Basic Information, App Credentials). Until then this generated placeholder makes every Slack interaction fail its signature check.",
      generateSecretString: { passwordLength: 32, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeRule(
      this.slackSigningSecret,
      'SMG4',
      "The value is Slack's: Slack issues and regenerates an app's Signing Secret in the app's settings, and a rotation Lambda cannot; after regenerating it there, the user puts the new value here.",
    );

    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: APPROVALS_API_NAME,
      description: 'stepline: release approval decisions from Slack, email links and the CLI',
      createDefaultStage: false,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      autoDeploy: true,
      throttle: { burstLimit: 50, rateLimit: 20, ...props.throttle },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: ACCESS_LOG_FORMAT,
      },
    });

    const context: PlatformFunctionContext = {
      table: props.table,
      sourceBus: props.sourceBus,
      deadLetterQueue: props.deadLetterQueue,
      linkKeySecret: this.linkKeySecret,
      slackSigningSecret: this.slackSigningSecret,
      deployFunction: props.deployFunction,
      approvalsUrl: this.url,
      scheduleInterval: sweepInterval,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    };
    const gate = platformFunction(this, PLATFORM_FUNCTIONS.approvalGate, context);
    this.approvalGate = gate.fn;
    this.approvalGateRole = gate.role;
    const decisions = platformFunction(this, PLATFORM_FUNCTIONS.approvalDecisions, context);
    this.approvalDecisions = decisions.fn;
    this.approvalDecisionsRole = decisions.role;
    this.sweepRule = decisions.rules.get('SweepRule')!;
    const functions = new Map([
      ['approvalGate', gate],
      ['approvalDecisions', decisions],
    ] as const satisfies [PlatformFunctionName, MadePlatformFunction][]) as Map<
      PlatformFunctionName,
      MadePlatformFunction
    >;
    this.functions = functions;

    const integration = new HttpLambdaIntegration('Decisions', this.approvalDecisions, {
      payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
    });
    const routes = new Map<string, apigwv2.HttpRoute>();
    const addRoute = (
      method: apigwv2.HttpMethod,
      path: string,
      authorizer: apigwv2.IHttpRouteAuthorizer,
      to: HttpLambdaIntegration = integration,
    ) => {
      const [route] = this.api.addRoutes({ path, methods: [method], integration: to, authorizer });
      routes.set(`${method} ${path}`, route!);
      return route!;
    };
    // Slack signs each request (v0 signature over the exact body, timestamp within 5 minutes); an email
    // link's signed token names the run, the approver and the decision. Both are verified by the handler
    // before anything in the request is read, so these routes take no authorizer.
    const signed = new apigwv2.HttpNoneAuthorizer();
    for (const [method, path] of [
      [apigwv2.HttpMethod.POST, APPROVAL_ROUTES.slackInteractions],
      [apigwv2.HttpMethod.GET, APPROVAL_ROUTES.decide],
      [apigwv2.HttpMethod.POST, APPROVAL_ROUTES.decide],
    ] as const) {
      acknowledgeRule(
        addRoute(method, path, signed),
        'APIG4',
        `${method} ${path} is called by Slack or by an approver's browser, neither of which can sign AWS requests: each request is authenticated by its own signature (Slack's v0 signature, or the link's HMAC-signed token), which the handler verifies before anything else.`,
      );
    }
    // The CLI signs its requests with the caller's AWS credentials: the IAM identity is the approver.
    // Each is named in the CLI policy (cliPolicy) as it is added here, so no route is left out of it.
    const iamAuthorizer = new HttpIamAuthorizer();
    for (const [method, path] of [
      [apigwv2.HttpMethod.GET, APPROVAL_ROUTES.cli],
      [apigwv2.HttpMethod.GET, `${APPROVAL_ROUTES.cli}/{runId}`],
      [apigwv2.HttpMethod.POST, `${APPROVAL_ROUTES.cli}/{runId}`],
      [apigwv2.HttpMethod.POST, `${APPROVAL_ROUTES.deployments}/{runId}`],
    ] as const) {
      addRoute(method, path, iamAuthorizer);
      this.cliRoutes.push([method, path]);
    }
    // The run controls: each function behind its declared routes, IAM-authorized as the CLI's others.
    for (const { name, routes: keys } of CLI_ROUTE_FUNCTIONS) {
      const made = platformFunction(this, PLATFORM_FUNCTIONS[name], context);
      functions.set(name, made);
      const to = new HttpLambdaIntegration(PLATFORM_FUNCTIONS[name].id, made.fn, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      });
      for (const key of keys) {
        const [method, path] = key.split(' ') as [apigwv2.HttpMethod, string];
        addRoute(method, path, iamAuthorizer, to);
        this.cliRoutes.push([method, path]);
      }
    }
    this.routes = routes;
  }

  /** The endpoint's base URL, without a trailing slash (the routes are APPROVAL_ROUTES under it). */
  get url(): string {
    return this.api.apiEndpoint;
  }

  /** Slack's Interactivity Request URL. */
  get slackInteractionsUrl(): string {
    return `${this.url}${APPROVAL_ROUTES.slackInteractions}`;
  }

  /**
   * What an operator's IAM identity needs for the CLI against AWS (`stepline approvals | approve |
   * reject | deploy … --aws`): reading the endpoint's URL from its SSM parameter, which every such
   * command does first, and execute-api:Invoke on each IAM-authorized route of this API (the CLI's:
   * the gates under /cli/approvals, the deployment controls under /cli/deployments, the run controls under
   * /cli/runs and /cli/releases), nothing else.
   */
  cliPolicy(): iam.PolicyDocument {
    return new iam.PolicyDocument({ statements: this.cliStatements() });
  }

  /** Lets `grantee` (an operator's role or user) use the CLI against AWS: exactly cliPolicy(). */
  grantCli(grantee: iam.IGrantable): iam.Grant {
    const [url, routes] = this.cliStatements().map((statement) =>
      iam.Grant.addToPrincipal({ grantee, actions: statement.actions, resourceArns: statement.resources }),
    );
    return url!.combine(routes!);
  }

  private cliStatements(): [iam.PolicyStatement, iam.PolicyStatement] {
    const stack = Stack.of(this);
    return [
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: [
          stack.formatArn({
            service: 'ssm',
            resource: 'parameter',
            resourceName: PLATFORM_PARAMETERS.approvalsUrl.slice(1),
          }),
        ],
      }),
      new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources: this.cliRouteArns() }),
    ];
  }

  /**
   * `arn:…:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<path>` of each CLI route, a path
   * parameter (`{runId}`) matching any one segment's text as `*` (API Gateway developer guide, "Control
   * access to an HTTP API with IAM authorization"; the resource format: Service Authorization Reference,
   * Amazon API Gateway, execute-api-general).
   */
  private cliRouteArns(): string[] {
    return this.cliRoutes.map(([method, path]) =>
      Stack.of(this).formatArn({
        service: 'execute-api',
        resource: this.api.apiId,
        resourceName: `*/${method}${path.replace(/\{[^}]+\}/g, '*')}`,
      }),
    );
  }
}

/**
 * The sweep heartbeats every waiting gate: a gate whose Task hears nothing for its `HeartbeatSeconds`
 * fails with States.HeartbeatTimeout. One missed sweep must not fail a gate, so the interval is at
 * most half the shortest heartbeat of the pipeline definition's `.waitForTaskToken` Tasks.
 */
function checkSweepInterval(scope: Construct, interval: Duration): void {
  if (Token.isUnresolved(interval.toSeconds())) return;
  const definition = JSON.parse(readFileSync(PIPELINE_DEFINITION_FILE, 'utf8')) as unknown;
  const heartbeats = tasksOf(definition)
    .filter(({ state }) => state.Resource === TASK_RESOURCES.lambdaInvokeWaitForTaskToken)
    .map(({ name, state }) => ({ name, seconds: state.HeartbeatSeconds }))
    .filter((h): h is { name: string; seconds: number } => typeof h.seconds === 'number');
  const shortest = heartbeats.sort((a, b) => a.seconds - b.seconds)[0];
  if (shortest && interval.toSeconds() * 2 > shortest.seconds) {
    throw new InvalidPropError(
      'sweepInterval',
      `${scope.node.path}: sweepInterval ${interval.toHumanString()} is too long for state "${shortest.name}" (HeartbeatSeconds ${shortest.seconds} in ${PIPELINE_DEFINITION_FILE}): the sweep heartbeats waiting gates and must run at least twice per heartbeat; use at most ${Math.floor(shortest.seconds / 2)} seconds`,
    );
  }
}
