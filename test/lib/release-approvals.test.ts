/**
 * The release gate's decision side (lib/release-approvals.ts) as the whole app synthesizes it: the two
 * secrets, the decision endpoint (HTTP API, its routes and their authorization), the gates' sweep, the
 * functions' exact permissions — task-token callbacks held by one function alone — and the pipelines'
 * grants to invoke the gate.
 */
import { App, Duration, Stack, type CfnElement } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { parseConfig } from '../../core/config/stepline-config';
import {
  APPROVAL_LINK_KEY_SECRET_NAME,
  APPROVAL_ROUTES,
  CATALOG_PATH,
  PLATFORM_PARAMETERS,
  RUN_CONTROL_ROUTES,
  SLACK_SIGNING_SECRET_NAME,
} from '../../core/platform';
import { functionArnParameterName } from '../../core/platform-functions';
import { ReleaseApprovals } from '../../lib/release-approvals';
import {
  statementsOf,
  statementsOfRole,
  synthesize,
  type Resource,
  type Statement,
  type Synthesized,
  type Template,
  arn,
} from '../support/cdk';

const config = parseConfig({
  pipelines: [
    {
      name: 'hello-service',
      source: { type: 'codecommit', repository: 'hello-service', branch: 'main' },
      build: { buildspec: 'buildspecs/build.yml' },
      tests: [{ name: 'unit-tests', buildspec: 'buildspecs/unit-tests.yml' }],
      approval: {
        approvers: [
          { id: 'ana', emails: ['ana@example.com'], slack: 'U0123ABCD' },
          { id: 'bo', emails: ['bo@example.com'] },
        ],
      },
    },
    {
      name: 'web',
      source: { type: 'codecommit', repository: 'web', branch: 'release' },
      build: { buildspec: 'ci/build.yml' },
    },
  ],
});

let synthesized: Synthesized;
beforeAll(() => {
  synthesized = synthesize(config);
});

const platform = () => synthesized.stepline.platform;
const approvals = () => platform().approvals;
const templateOf = (stack: Stack): Template => synthesized.templates.get(stack.stackName)!;
const logicalId = (construct: IConstruct) => {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return element.stack.getLogicalId(element);
};
const resourceOf = (construct: IConstruct): Resource =>
  templateOf(Stack.of(construct)).Resources[logicalId(construct)]!;
const ref = (token: string) => platform().resolve(token) as unknown;
const resourcesOfType = (stack: Stack, type: string) =>
  Object.entries(templateOf(stack).Resources).filter(([, r]) => r.Type === type);
/** The acknowledgements recorded on a construct itself (cdk-nag ids → reasons). */
const acknowledgementsOf = (construct: IConstruct): Record<string, string> =>
  Object.assign(
    {},
    ...construct.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules').map((m) => m.data as object),
  ) as Record<string, string>;
/** The acknowledged ids without the plugin's qualifier (`AwsSolutions-IAM5[Resource::*]`). */
const ackIds = (construct: IConstruct) =>
  Object.keys(acknowledgementsOf(construct)).map((id) => id.slice(id.indexOf('AwsSolutions-')));

describe('secrets', () => {
  test('the link key: named, 64 generated characters without punctuation, never in the template', () => {
    const secret = resourceOf(approvals().linkKeySecret);
    expect(secret.Properties).toEqual({
      Name: APPROVAL_LINK_KEY_SECRET_NAME,
      Description: expect.stringContaining('HMAC key'),
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
    });
    expect(secret.DeletionPolicy).toBe('Delete');
    expect(ackIds(approvals().linkKeySecret)).toEqual(['AwsSolutions-SMG4']);
  });

  test("the Slack signing secret: a generated placeholder whose description says to put Slack's value in it", () => {
    const secret = resourceOf(approvals().slackSigningSecret);
    expect(secret.Properties).toEqual({
      Name: SLACK_SIGNING_SECRET_NAME,
      Description: expect.stringMatching(/put your Slack app's Signing Secret here/),
      GenerateSecretString: { PasswordLength: 32, ExcludePunctuation: true },
    });
    expect(secret.DeletionPolicy).toBe('Delete');
    expect(ackIds(approvals().slackSigningSecret)).toEqual(['AwsSolutions-SMG4']);
  });

  test('no secret value appears in any template', () => {
    const secrets = [...synthesized.templates.values()].flatMap((t) =>
      Object.values(t.Resources).filter((r) => r.Type === 'AWS::SecretsManager::Secret'),
    );
    expect(secrets).toHaveLength(3);
    for (const secret of secrets) expect(secret.Properties.SecretString).toBeUndefined();
  });
});

describe('the decision endpoint', () => {
  test('an HTTP API named stepline-approvals, without the default stage HttpApi would add', () => {
    const [[, api], ...others] = resourcesOfType(platform(), 'AWS::ApiGatewayV2::Api');
    expect(others).toEqual([]);
    expect(api!.Properties).toEqual({
      Name: 'stepline-approvals',
      ProtocolType: 'HTTP',
      Description: expect.any(String),
    });
    expect(resourcesOfType(platform(), 'AWS::ApiGatewayV2::Stage')).toHaveLength(1);
  });

  test('the $default stage: auto-deployed, throttled at burst 50 and rate 20, JSON access logs to its own group', () => {
    const stage = resourceOf(approvals().stage).Properties;
    expect(stage).toEqual({
      ApiId: ref(approvals().api.apiId),
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingBurstLimit: 50, ThrottlingRateLimit: 20 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [logicalId(approvals().accessLogs), 'Arn'] },
        Format: expect.any(String),
      },
    });
    const format = JSON.parse((stage.AccessLogSettings as { Format: string }).Format) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
      caller: '$context.identity.userArn',
    });
    // An email link's token travels in the query string: it must never reach the logs.
    expect(JSON.stringify(format)).not.toMatch(/query/i);
    const logGroup = resourceOf(approvals().accessLogs);
    expect(logGroup).toMatchObject({ DeletionPolicy: 'RetainExceptOnCreate', Properties: { RetentionInDays: 90 } });
  });

  test('throttling is overridable, and defaults what is not given', () => {
    const stack = new Stack(new App(), 'Scratch');
    const table = new dynamodb.TableV2(stack, 'T', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    });
    const construct = new ReleaseApprovals(stack, 'Approvals', {
      table,
      sourceBus: new events.EventBus(stack, 'Bus'),
      deadLetterQueue: new sqs.Queue(stack, 'Dlq'),
      deployFunction: lambda.Function.fromFunctionArn(
        stack,
        'Deploy',
        'arn:aws:lambda:eu-west-1:111122223333:function:d',
      ),
      throttle: { rateLimit: 5 },
    });
    const stage = stack.resolve(
      (construct.stage.node.defaultChild as apigwv2.CfnStage).defaultRouteSettings,
    ) as unknown;
    expect(stage).toEqual({ throttlingBurstLimit: 50, throttlingRateLimit: 5 });
  });

  test('each route: its authorization (none where the request is signed, IAM for the CLI) and the decision function, payload 2.0', () => {
    const routes = resourcesOfType(platform(), 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    const { slackInteractions, decide, cli, deployments } = APPROVAL_ROUTES;
    expect(routes.map((r) => [r.RouteKey, r.AuthorizationType])).toEqual([
      [`POST ${slackInteractions}`, 'NONE'],
      [`GET ${decide}`, 'NONE'],
      [`POST ${decide}`, 'NONE'],
      [`GET ${cli}`, 'AWS_IAM'],
      [`GET ${cli}/{runId}`, 'AWS_IAM'],
      [`POST ${cli}/{runId}`, 'AWS_IAM'],
      [`POST ${deployments}/{runId}`, 'AWS_IAM'],
      // The run controls, each to the function that declares it (run-control, manual-runs).
      [`POST ${RUN_CONTROL_ROUTES.runs}/{runId}/cancel`, 'AWS_IAM'],
      [`POST ${RUN_CONTROL_ROUTES.runs}/{runId}/redrive`, 'AWS_IAM'],
      [`POST ${RUN_CONTROL_ROUTES.runs}/{runId}/rerun`, 'AWS_IAM'],
      [`POST ${RUN_CONTROL_ROUTES.releases}/{pipeline}`, 'AWS_IAM'],
    ]);
    const integrations = resourcesOfType(platform(), 'AWS::ApiGatewayV2::Integration');
    const functionOf = (key: unknown) =>
      /\/(cancel|redrive)$/.test(String(key))
        ? approvals().functions.get('runControl')!.fn
        : String(key).includes(RUN_CONTROL_ROUTES.runs) || String(key).includes(RUN_CONTROL_ROUTES.releases)
          ? approvals().functions.get('manualRuns')!.fn
          : approvals().approvalDecisions;
    for (const route of routes) {
      const target = route.Target as { 'Fn::Join': [string, [string, { Ref: string }]] };
      const integration = integrations.find(([id]) => id === target['Fn::Join'][1][1].Ref)?.[1];
      expect({ route: route.RouteKey, integration: integration?.Properties }).toEqual({
        route: route.RouteKey,
        integration: {
          ApiId: ref(approvals().api.apiId),
          IntegrationType: 'AWS_PROXY',
          IntegrationUri: ref(functionOf(route.RouteKey).functionArn),
          PayloadFormatVersion: '2.0',
        },
      });
    }
  });

  test('cdk-nag APIG4 is acknowledged on the three signed routes themselves, and on no IAM route', () => {
    for (const [key, route] of approvals().routes) {
      const signed = ![APPROVAL_ROUTES.cli, APPROVAL_ROUTES.deployments, ...Object.values(RUN_CONTROL_ROUTES)].some(
        (path) => key.includes(path),
      );
      expect({ key, acks: ackIds(route) }).toEqual({ key, acks: signed ? ['AwsSolutions-APIG4'] : [] });
      if (signed) expect(Object.values(acknowledgementsOf(route))[0]).toMatch(/verifies before anything else/);
    }
    expect(ackIds(approvals().api)).toEqual([]);
  });

  test('the acknowledgement is per route: another route without authorization is reported', () => {
    const fresh = synthesize(config, { nag: false });
    const { api, approvalDecisions } = fresh.stepline.platform.approvals;
    api.addRoutes({
      path: '/open',
      methods: [apigwv2.HttpMethod.GET],
      integration: new HttpLambdaIntegration('Open', approvalDecisions),
    });
    const report = new AwsSolutionsChecks().validateScope(fresh.stepline.platform);
    expect(report.violations.map((v) => [v.ruleName, v.violatingResources.map((r) => r.constructPath)])).toEqual([
      ['AwsSolutions-APIG4', ['Stepline/Approvals/Api/GET--open/Resource']],
    ]);
  });

  test("the outputs: the endpoint, Slack's Request URL, the signing secret's name and the CLI policy", () => {
    const stack = platform();
    const endpoint = ref(approvals().url);
    expect(endpoint).toEqual({ 'Fn::GetAtt': [logicalId(approvals().api), 'ApiEndpoint'] });
    expect(templateOf(stack).Outputs).toMatchObject({
      ApprovalsUrl: { Value: endpoint },
      SlackInteractionsUrl: {
        Value: { 'Fn::Join': ['', [endpoint, '/slack/interactions']] },
        Description: expect.stringContaining('Interactivity Request URL'),
      },
      SlackSigningSecretName: { Value: ref(approvals().slackSigningSecret.secretName) },
      ApprovalsCliPolicy: { Value: ref(stack.toJsonString(approvals().cliPolicy().toJSON())) },
    });
    const published = resourcesOfType(stack, 'AWS::SSM::Parameter').map(([, r]) => r.Properties);
    expect(published).toContainEqual(
      expect.objectContaining({ Name: PLATFORM_PARAMETERS.approvalsUrl, Value: endpoint }),
    );
  });

  test("an operator's CLI policy: the endpoint's parameter, and execute-api:Invoke on each IAM route of this API only", () => {
    const apiId = ref(approvals().api.apiId);
    const cliRoutes = [
      arn('execute-api', apiId, '/*/GET/cli/approvals'),
      arn('execute-api', apiId, '/*/GET/cli/approvals/*'),
      arn('execute-api', apiId, '/*/POST/cli/approvals/*'),
      arn('execute-api', apiId, '/*/POST/cli/deployments/*'),
      arn('execute-api', apiId, '/*/POST/cli/runs/*/cancel'),
      arn('execute-api', apiId, '/*/POST/cli/runs/*/redrive'),
      arn('execute-api', apiId, '/*/POST/cli/runs/*/rerun'),
      arn('execute-api', apiId, '/*/POST/cli/releases/*'),
    ];
    expect(platform().resolve(approvals().cliPolicy().toJSON())).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'ssm:GetParameter',
          Resource: arn('ssm', 'parameter/stepline/platform/approvals-url'),
        },
        { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: cliRoutes },
      ],
    });
    // Every IAM-authorized route of the API is named: the policy's routes are the API's IAM routes.
    const iamRoutes = resourcesOfType(platform(), 'AWS::ApiGatewayV2::Route')
      .map(([, r]) => r.Properties)
      .filter((p) => p.AuthorizationType === 'AWS_IAM')
      .map((p) => p.RouteKey);
    expect(iamRoutes.sort()).toEqual([
      'GET /cli/approvals',
      'GET /cli/approvals/{runId}',
      'POST /cli/approvals/{runId}',
      'POST /cli/deployments/{runId}',
      'POST /cli/releases/{pipeline}',
      'POST /cli/runs/{runId}/cancel',
      'POST /cli/runs/{runId}/redrive',
      'POST /cli/runs/{runId}/rerun',
    ]);
    const stack = new Stack(synthesized.app, 'GrantScratch');
    const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    const grant = approvals().grantCli(operator);
    expect(grant.success).toBe(true);
    expect(grant.principalStatements.map((s) => [s.actions, platform().resolve(s.resources)])).toEqual([
      [['ssm:GetParameter'], [arn('ssm', 'parameter/stepline/platform/approvals-url')]],
      [['execute-api:Invoke'], cliRoutes],
    ]);
  });
});

describe('the gates’ sweep', () => {
  test('every 5 minutes on the default bus, {"kind":"sweep"} to the decision function, no retries, failures to the DLQ', () => {
    const rule = resourceOf(approvals().sweepRule).Properties;
    expect(rule.EventBusName).toBeUndefined();
    expect(rule).toMatchObject({
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [
        {
          Arn: ref(approvals().approvalDecisions.functionArn),
          Input: '{"kind":"sweep"}',
          RetryPolicy: { MaximumRetryAttempts: 0 },
          DeadLetterConfig: { Arn: ref(platform().functions.failedRunRequests.queueArn) },
        },
      ],
    });
  });

  test('an interval that would let a waiting gate miss its heartbeat is refused, naming the state', () => {
    const stack = new Stack(new App(), 'Scratch');
    const make = (minutes: number) =>
      new ReleaseApprovals(stack, `Approvals${minutes}`, {
        table: new dynamodb.TableV2(stack, `T${minutes}`, {
          partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        }),
        sourceBus: new events.EventBus(stack, `Bus${minutes}`),
        deadLetterQueue: new sqs.Queue(stack, `Dlq${minutes}`),
        deployFunction: lambda.Function.fromFunctionArn(
          stack,
          `Deploy${minutes}`,
          'arn:aws:lambda:eu-west-1:111122223333:function:d',
        ),
        sweepInterval: Duration.minutes(minutes),
      });
    expect(() => make(10)).not.toThrow();
    expect(() => make(11)).toThrow(
      /sweepInterval 11 minutes is too long for state "Wait for release approval" \(HeartbeatSeconds 1200 in .*pipeline\.asl\.json\)/,
    );
  });
});

describe('permissions', () => {
  const base = (fn: () => { logGroup: IConstruct }) => ({
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: { 'Fn::GetAtt': [logicalId(fn().logGroup), 'Arn'] },
  });
  const xray = { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' };
  const table = () => ref(platform().runStore.table.tableArn);

  test('the gate: its records, the catalog, the bus, and the link key alone among the secrets', () => {
    const a = approvals();
    expect(statementsOfRole(templateOf(platform()), logicalId(a.approvalGateRole.role))).toEqual([
      base(() => a.approvalGate),
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: [table(), { 'Fn::Join': ['', [table(), '/index/byPipeline']] }],
      },
      { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: arn('ssm', 'parameter/stepline/pipelines/*') },
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: ref(platform().sources.bus.eventBusArn) },
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: ref(a.linkKeySecret.secretArn) },
      xray,
    ]);
  });

  test('the decision function: its records, the catalog, the bus, both approval secrets, its DLQ, the deploy function, task tokens', () => {
    const a = approvals();
    expect(statementsOfRole(templateOf(platform()), logicalId(a.approvalDecisionsRole.role))).toEqual([
      base(() => a.approvalDecisions),
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: ref(platform().functions.failedRunRequests.queueArn) },
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: [table(), { 'Fn::Join': ['', [table(), '/index/active']] }],
      },
      { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: arn('ssm', 'parameter/stepline/pipelines/*') },
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: ref(platform().sources.bus.eventBusArn) },
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: [ref(a.linkKeySecret.secretArn), ref(a.slackSigningSecret.secretArn)],
      },
      // Operators' controls, handed to the deploy function.
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: ref(platform().functions.deploy.functionArn) },
      xray,
      {
        Effect: 'Allow',
        Action: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
        Resource: '*',
      },
    ]);
  });

  test('states:SendTask* is in exactly one statement of the whole app: its own policy, on the decision function, acknowledged', () => {
    const holders = [...synthesized.templates].flatMap(([stack, template]) =>
      Object.entries(template.Resources).flatMap(([id, r]) => {
        const documents: { PolicyDocument: { Statement: Statement[] } }[] =
          r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy'
            ? [r.Properties as never]
            : r.Type === 'AWS::IAM::Role'
              ? ((r.Properties.Policies ?? []) as never[])
              : [];
        return documents.flatMap((d) =>
          d.PolicyDocument.Statement.filter((s) => [s.Action].flat().some((a) => a.startsWith('states:SendTask'))).map(
            (statement) => ({ stack, id, roles: r.Properties.Roles, statement }),
          ),
        );
      }),
    );
    const policy = approvals().approvalDecisionsRole.anyResourcePolicies.get('TaskTokens')!;
    expect(holders).toEqual([
      {
        stack: 'Stepline',
        id: logicalId(policy),
        roles: [{ Ref: logicalId(approvals().approvalDecisionsRole.role) }],
        statement: {
          Effect: 'Allow',
          Action: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
          Resource: '*',
        },
      },
    ]);
    // Alone in its policy, and the acknowledgement of "*" sits on that policy only, with the reason.
    expect((resourceOf(policy).Properties.PolicyDocument as { Statement: unknown[] }).Statement).toHaveLength(1);
    const acks = acknowledgementsOf(policy);
    expect(ackIds(policy)).toEqual(['AwsSolutions-IAM5[Resource::*]']);
    expect(Object.values(acks)[0]).toMatch(/Service Authorization Reference lists no resource type/);
  });

  test.each(['approvalGate', 'approvalDecisions'] as const)(
    '%s: nodejs22.x on arm64, traced, its own log group, names in its environment',
    (name) => {
      const a = approvals();
      const props = resourceOf(a[name]).Properties;
      expect(props).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      });
      expect((props.Environment as { Variables: unknown }).Variables).toEqual({
        RUN_TABLE_NAME: ref(platform().runStore.table.tableName),
        NODE_OPTIONS: '--enable-source-maps',
        PIPELINE_CATALOG_PATH: CATALOG_PATH,
        SOURCE_BUS_NAME: ref(platform().sources.bus.eventBusName),
        APPROVALS_URL: ref(a.url),
        APPROVAL_LINK_KEY_SECRET_ID: ref(a.linkKeySecret.secretArn),
        ...(name === 'approvalDecisions'
          ? {
              SLACK_SIGNING_SECRET_ID: ref(a.slackSigningSecret.secretArn),
              DEPLOY_FUNCTION_ARN: ref(platform().functions.deploy.functionArn),
            }
          : {}),
      });
    },
  );

  test.each(['hello-service', 'web'])(
    "pipeline %s: the machine's role invokes exactly the recorder, the gate and the deploy function, read from the platform's parameters",
    (name) => {
      const stack = synthesized.stepline.pipelines.get(name)!;
      const template = templateOf(stack);
      const parameter = (p: string) => ({
        Ref: Object.entries(template.Parameters ?? {}).find(([, v]) => v.Default === p)![0],
      });
      const invoking = statementsOf(template).filter(({ statement }) =>
        [statement.Action].flat().some((a) => a.startsWith('lambda:')),
      );
      expect(invoking).toEqual([
        {
          policy: expect.stringMatching(/^StateMachineExecutionRoleDefaultPolicy/),
          roles: [{ Ref: logicalId(stack.machine.role.role) }],
          statement: {
            Effect: 'Allow',
            Action: 'lambda:InvokeFunction',
            Resource: [
              parameter(functionArnParameterName('recordProgress')),
              parameter(functionArnParameterName('deploy')),
              parameter(functionArnParameterName('approvalGate')),
            ],
          },
        },
      ]);
    },
  );
});
