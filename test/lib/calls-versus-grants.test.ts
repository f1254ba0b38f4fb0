/**
 * Every AWS call stepline's deployed code can make is allowed by the role that makes it.
 *
 * For each function the app deploys, the commands its code can send are read from the code
 * (test/lib/grants/sdk-calls.ts: every `new XxxCommand(`, waiter and paginator reachable from the
 * handler, with the file that sends it), each is mapped through one table (COMMAND_GRANTS) to the IAM
 * actions the Service Authorization Reference names for it and the ARN the code builds at runtime, and
 * IAM's evaluation of the role's statements in the synthesized templates must allow each. The deploy
 * function's Lambda, CloudWatch and artifact (S3) calls are made with the pipeline role it assumes, and are checked
 * against that role; the CLI's calls against the policy the platform publishes for operators. A
 * command with no table entry fails, so a new call without its grant fails the suite.
 */
import { Stack, type CfnElement } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import exampleConfig from '../../stepline.config';
import { parseConfig, stageSpecs, stateMachineName, type PipelineConfig } from '../../core/config/stepline-config';
import { ENV, PLATFORM_PARAMETERS, buildArtifactKey, catalogParameterName } from '../../core/platform';
import { StsDeployRoles } from '../../lambdas/adapters/deploy-roles';
import { PLATFORM_FUNCTIONS, platformFunctionNames, type PlatformFunctionName } from '../../core/platform-functions';
import { INDEXES } from '../../store/schema';
import { synthesize, type Synthesized } from '../support/cdk';
import { ACCOUNT, DeployedTemplate, REGION, allows, type PolicyStatement } from './grants/iam-policy';
import { SdkCallAnalyzer, type Entry, type Reach, type SdkCall } from './grants/sdk-calls';

/** One IAM action the call needs, on the ARN it is made on. */
interface Need {
  readonly action: string;
  readonly resource: string;
}

/** What a rule knows of the caller: its environment as deployed, the pipeline it works for, what its code reaches. */
interface CallContext {
  readonly call: SdkCall;
  /** The function's environment variables, resolved. */
  readonly env: Readonly<Record<string, string>>;
  readonly pipeline: PipelineConfig;
  readonly platform: DeployedTemplate;
  readonly pipelineStack: DeployedTemplate;
  /** Run-table indexes the reached code queries. */
  readonly queriedIndexes: ReadonlySet<string>;
  readonly reachedFiles: ReadonlySet<string>;
}

const arn = (service: string, resource: string, region = REGION) =>
  `arn:aws:${service}:${region}:${ACCOUNT}:${resource}`;
const RUN_ID = 'hello-service-0123456789ab-abcdef01';
const BUILD_UUID = '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f';

const table = (c: CallContext) => arn('dynamodb', `table/${c.env[ENV.tableName]}`);
const tableAndIndexes = (c: CallContext) => [
  table(c),
  ...[...c.queriedIndexes].map((i) => `${table(c)}/index/${INDEXES[i as keyof typeof INDEXES].name}`),
];
const projects = (c: CallContext) => stageSpecs(c.pipeline).map((s) => s.project);
const deployTargets = (c: CallContext) =>
  [c.pipeline.deploy?.function, c.pipeline.deploy?.staging?.function].filter((f): f is string => !!f);
const functionArn = (name: string) => arn('lambda', `function:${name}`);
/** The log groups the pipeline's projects write to, as deployed. */
const buildLogGroups = (c: CallContext) =>
  Object.values(c.pipelineStack.template.Resources)
    .filter((r) => r.Type === 'AWS::CodeBuild::Project')
    .map((r) =>
      c.pipelineStack.resolveString(
        (r.Properties.LogsConfig as { CloudWatchLogs: { GroupName: unknown } }).CloudWatchLogs.GroupName,
      ),
    );
const bySite = (c: CallContext, sites: Record<string, () => string[]>): string[] => {
  const resources = sites[c.call.site];
  if (!resources)
    throw new Error(`${c.call.command} sent from ${c.call.site}: no rule says on what; add one to COMMAND_GRANTS`);
  return resources();
};
const each = (action: string, resources: string[]): Need[] => resources.map((resource) => ({ action, resource }));

/**
 * The one table: an SDK command (by package and class) to the IAM actions it needs on the ARNs the
 * code uses. Action names and resource types as the Service Authorization Reference lists them
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
 */
const COMMAND_GRANTS: Readonly<Record<string, (c: CallContext) => Need[]>> = {
  // DynamoDB (lib-dynamodb's document commands are DynamoDB's own operations).
  '@aws-sdk/lib-dynamodb GetCommand': (c) => each('dynamodb:GetItem', [table(c)]),
  '@aws-sdk/lib-dynamodb PutCommand': (c) => each('dynamodb:PutItem', [table(c)]),
  '@aws-sdk/lib-dynamodb UpdateCommand': (c) => each('dynamodb:UpdateItem', [table(c)]),
  '@aws-sdk/lib-dynamodb DeleteCommand': (c) => each('dynamodb:DeleteItem', [table(c)]),
  // A query on an index is authorized on the index's ARN (`table/<t>/index/<i>`).
  '@aws-sdk/lib-dynamodb QueryCommand': (c) => each('dynamodb:Query', tableAndIndexes(c)),
  // SSM: the catalog entry of a pipeline (lambdas), the endpoint's URL (the CLI).
  '@aws-sdk/client-ssm GetParameterCommand': (c) =>
    each(
      'ssm:GetParameter',
      bySite(c, {
        'lambdas/adapters/pipeline-catalog.ts': () => [
          arn('ssm', `parameter${catalogParameterName(c.pipeline.name, c.env[ENV.catalogPath])}`),
        ],
        'cli/decision-endpoint.ts': () => [arn('ssm', `parameter${PLATFORM_PARAMETERS.approvalsUrl}`)],
      }),
    ),
  '@aws-sdk/client-ssm GetParametersByPathCommand': (c) =>
    each('ssm:GetParametersByPath', [arn('ssm', `parameter${c.env[ENV.catalogPath]}`)]),
  // Secrets: those the function's environment names, and the notification secrets the config names.
  '@aws-sdk/client-secrets-manager GetSecretValueCommand': (c) => {
    const named = [ENV.webhookSecretId, ENV.linkKeySecretId, ENV.slackSigningSecretId]
      .map((variable) => c.env[variable])
      .filter((id): id is string => !!id);
    const notifications = c.reachedFiles.has('lambdas/adapters/notification-senders.ts')
      ? [arn('secretsmanager', `secret:${c.pipeline.notifications!.slack!.webhookUrlSecret}-AbCdEf`)]
      : [];
    if (!named.length && !notifications.length)
      throw new Error(`${c.call.site} reads a secret its function is not given`);
    return each('secretsmanager:GetSecretValue', [...named, ...notifications]);
  },
  '@aws-sdk/client-eventbridge PutEventsCommand': (c) =>
    each('events:PutEvents', [arn('events', `event-bus/${c.env[ENV.sourceBusName]}`)]),
  '@aws-sdk/client-sfn StartExecutionCommand': (c) =>
    each('states:StartExecution', [arn('states', `stateMachine:${stateMachineName(c.pipeline.name)}`)]),
  '@aws-sdk/client-sfn StopExecutionCommand': (c) =>
    each('states:StopExecution', [arn('states', `execution:${stateMachineName(c.pipeline.name)}:${RUN_ID}`)]),
  '@aws-sdk/client-sfn GetExecutionHistoryCommand': (c) =>
    each('states:GetExecutionHistory', [
      arn('states', `execution:${stateMachineName(c.pipeline.name)}:${RUN_ID}-redrive-1`),
    ]),
  '@aws-sdk/client-sfn DescribeExecutionCommand': (c) =>
    each('states:DescribeExecution', [arn('states', `execution:${stateMachineName(c.pipeline.name)}:${RUN_ID}`)]),
  // Task-token callbacks take no resource-level permission: "*" is what IAM checks.
  '@aws-sdk/client-sfn SendTaskSuccessCommand': () => each('states:SendTaskSuccess', ['*']),
  '@aws-sdk/client-sfn SendTaskFailureCommand': () => each('states:SendTaskFailure', ['*']),
  '@aws-sdk/client-sfn SendTaskHeartbeatCommand': () => each('states:SendTaskHeartbeat', ['*']),
  '@aws-sdk/client-codecommit GetCommitCommand': (c) => each('codecommit:GetCommit', [repository(c)]),
  '@aws-sdk/client-codecommit GetBranchCommand': (c) => each('codecommit:GetBranch', [repository(c)]),
  '@aws-sdk/client-codecommit GetDifferencesCommand': (c) => each('codecommit:GetDifferences', [repository(c)]),
  // CodeBuild: builds by project, reports and test cases by report group (`<project>-<report>`).
  '@aws-sdk/client-codebuild BatchGetBuildsCommand': (c) =>
    each(
      'codebuild:BatchGetBuilds',
      projects(c).map((p) => arn('codebuild', `project/${p}`)),
    ),
  '@aws-sdk/client-codebuild BatchGetReportsCommand': (c) =>
    each(
      'codebuild:BatchGetReports',
      projects(c).map((p) => arn('codebuild', `report-group/${p}-junit`)),
    ),
  '@aws-sdk/client-codebuild DescribeTestCasesCommand': (c) =>
    each(
      'codebuild:DescribeTestCases',
      projects(c).map((p) => arn('codebuild', `report-group/${p}-junit`)),
    ),
  '@aws-sdk/client-cloudwatch-logs GetLogEventsCommand': (c) =>
    each(
      'logs:GetLogEvents',
      buildLogGroups(c).map((group) => arn('logs', `log-group:${group}:log-stream:${BUILD_UUID}`)),
    ),
  '@aws-sdk/client-sesv2 SendEmailCommand': (c) =>
    each('ses:SendEmail', [arn('ses', `identity/${c.pipeline.notifications!.email!.from}`)]),
  // Lambda: the decision function invokes the deploy function; the deployer acts on the targets.
  '@aws-sdk/client-lambda InvokeCommand': (c) =>
    each(
      'lambda:InvokeFunction',
      bySite(c, {
        'lambdas/adapters/deploy-function.ts': () => [c.env[ENV.deployFunctionArn]!],
        // Invoked by version number (the pre-traffic check, staging's smoke check).
        'lambdas/adapters/lambda-deployer.ts': () => deployTargets(c).map((f) => `${functionArn(f)}:7`),
      }),
    ),
  // UpdateFunctionCode from S3 reads the object with the caller's credentials (Lambda's error: "make
  // sure your request credentials have permission to GetObject"), and the bucket is SSE-KMS.
  '@aws-sdk/client-lambda UpdateFunctionCodeCommand': (c) => [
    ...each('lambda:UpdateFunctionCode', deployTargets(c).map(functionArn)),
    ...each('s3:GetObject', [
      `arn:aws:s3:::${c.platform.resolveString({ Ref: logicalIdOf(c.platform, 'AWS::S3::Bucket', /ArtifactsBucket/) })}/${buildArtifactKey(c.pipeline.name, `${stageSpecs(c.pipeline)[0]!.project}:${BUILD_UUID}`)}`,
    ]),
    ...each('kms:Decrypt', [
      c.platform.resolveString({ 'Fn::GetAtt': [logicalIdOf(c.platform, 'AWS::KMS::Key', /PlatformKey/), 'Arn'] }),
    ]),
  ],
  // A release into another Region than the bucket's reads the artifact itself (the deploy role, in the bucket's
  // Region), and uploads its bytes; S3 decrypts it with the platform key for the caller.
  '@aws-sdk/client-s3 GetObjectCommand': (c) => [
    ...each('s3:GetObject', [
      `arn:aws:s3:::${c.platform.resolveString({ Ref: logicalIdOf(c.platform, 'AWS::S3::Bucket', /ArtifactsBucket/) })}/${buildArtifactKey(c.pipeline.name, `${stageSpecs(c.pipeline)[0]!.project}:${BUILD_UUID}`)}`,
    ]),
    ...each('kms:Decrypt', [
      c.platform.resolveString({ 'Fn::GetAtt': [logicalIdOf(c.platform, 'AWS::KMS::Key', /PlatformKey/), 'Arn'] }),
    ]),
  ],
  '@aws-sdk/client-lambda PublishVersionCommand': (c) =>
    each('lambda:PublishVersion', deployTargets(c).map(functionArn)),
  '@aws-sdk/client-lambda GetAliasCommand': (c) => each('lambda:GetAlias', aliasArns(c)),
  '@aws-sdk/client-lambda UpdateAliasCommand': (c) => each('lambda:UpdateAlias', aliasArns(c)),
  '@aws-sdk/client-lambda GetFunctionCommand': (c) => each('lambda:GetFunction', deployTargets(c).map(functionArn)),
  '@aws-sdk/client-lambda GetFunctionConfigurationCommand': (c) =>
    each('lambda:GetFunctionConfiguration', deployTargets(c).map(functionArn)),
  // Composite alarms are described only under a DescribeAlarms permission scoped to "*" (CloudWatch API reference).
  '@aws-sdk/client-cloudwatch DescribeAlarmsCommand': () => each('cloudwatch:DescribeAlarms', ['*']),
  // STS: GetCallerIdentity needs no permission (STS API reference); AssumeRole is checked apart, on the ARN the code assumes.
  '@aws-sdk/client-sts GetCallerIdentityCommand': () => [],
  '@aws-sdk/client-sts AssumeRoleCommand': () => [],
};

const repository = (c: CallContext) => {
  if (c.pipeline.source.type !== 'codecommit') throw new Error('the sample pipeline must have a CodeCommit source');
  return arn('codecommit', c.pipeline.source.repository);
};
const aliasArns = (c: CallContext) =>
  [
    c.pipeline.deploy && [c.pipeline.deploy.function, c.pipeline.deploy.alias],
    c.pipeline.deploy?.staging && [c.pipeline.deploy.staging.function, c.pipeline.deploy.staging.alias],
  ]
    .filter((f): f is [string, string] => !!f)
    .flatMap(([fn, alias]) => [functionArn(fn), `${functionArn(fn)}:${alias}`]);
const logicalIdOf = (deployed: DeployedTemplate, type: string, id: RegExp) => {
  const ids = Object.entries(deployed.template.Resources)
    .filter(([logical, r]) => r.Type === type && id.test(logical))
    .map(([logical]) => logical);
  if (ids.length !== 1) throw new Error(`${deployed.stackName}: ${ids.length} resources of ${type} match ${id}`);
  return ids[0]!;
};

/** The needs of one call; a command no rule knows fails here. */
function needsOf(c: CallContext): Need[] {
  const rule = COMMAND_GRANTS[`${c.call.pkg} ${c.call.command}`];
  if (!rule) {
    throw new Error(
      `${c.call.site} can send ${c.call.command} (${c.call.pkg}${c.call.via ? `, through ${c.call.via}` : ''}), which COMMAND_GRANTS does not map to IAM actions: add it, with the ARN it is sent on`,
    );
  }
  return rule(c);
}

/** The calls that `statements` do not allow, as `action on resource (command at site)`. */
function deniedCalls(
  calls: readonly SdkCall[],
  statements: readonly PolicyStatement[],
  context: Omit<CallContext, 'call'>,
): string[] {
  return calls.flatMap((call) =>
    needsOf({ ...context, call })
      .filter((need) => !allows(statements, need.action, need.resource))
      .map(
        (need) =>
          `${need.action} on ${need.resource} (${call.command}${call.via ? ` via ${call.via}` : ''} in ${call.site})`,
      ),
  );
}

/** What the grant rules read of a reach and the deployed app, for the calls of one function. */
function callContext(reach: Reach, env: Readonly<Record<string, string>>): Omit<CallContext, 'call'> {
  return { env, pipeline, platform, pipelineStack, queriedIndexes: reach.queriedIndexes, reachedFiles: reach.files };
}

// The example config's pipeline, with a staging target too, so every deploy path is reached.
const config = parseConfig({
  pipelines: exampleConfig.pipelines.map((p) => ({
    ...p,
    deploy: { ...p.deploy!, staging: { function: 'hello-service-staging', smokeEvent: {} } },
  })),
});
const pipeline = config.pipelines[0]!;

let synthesized: Synthesized;
let platform: DeployedTemplate;
let pipelineStack: DeployedTemplate;
let analyzer: SdkCallAnalyzer;
beforeAll(() => {
  synthesized = synthesize(config, { nag: false });
  const platformStack = synthesized.stepline.platform;
  platform = new DeployedTemplate(platformStack.stackName, synthesized.templates.get(platformStack.stackName)!);
  // A pipeline stack's SSM-typed parameters take the values the platform stack publishes.
  const published = (name: string) => {
    const parameter = Object.values(platform.template.Resources).find(
      (r) => r.Type === 'AWS::SSM::Parameter' && r.Properties.Name === name,
    );
    if (!parameter) throw new Error(`the platform publishes no parameter ${name}`);
    return platform.resolveString(parameter.Properties.Value);
  };
  const stack = synthesized.stepline.pipelines.get(pipeline.name)!;
  pipelineStack = new DeployedTemplate(stack.stackName, synthesized.templates.get(stack.stackName)!, published);
  analyzer = new SdkCallAnalyzer([
    ...Object.values(PLATFORM_FUNCTIONS).map((f) => f.entry),
    'cli/approvals.ts',
    'cli/deploy.ts',
    'cli/run-control.ts',
    'cli/manual-runs.ts',
  ]);
});

/** The platform's functions by handler: the construct each declared function (PLATFORM_FUNCTIONS) is deployed as. */
const functionsByHandler = (): Record<PlatformFunctionName, lambda.IFunction> => {
  const { functions, approvals } = synthesized.stepline.platform;
  return {
    publishSourceChange: functions.publishSourceChange,
    githubWebhook: functions.githubWebhook,
    startRun: functions.startRun,
    recordProgress: functions.recordProgress,
    notify: functions.notify,
    approvalGate: approvals.approvalGate,
    approvalDecisions: approvals.approvalDecisions,
    runControl: approvals.functions.get('runControl')!.fn,
    deploy: functions.deploy,
    manualRuns: approvals.functions.get('manualRuns')!.fn,
  };
};

const logicalId = (construct: lambda.IFunction) => {
  const element = construct.node.defaultChild as CfnElement;
  return Stack.of(construct).getLogicalId(element);
};

/** A function's role's statements and its environment, as deployed. */
function deployedFunction(fn: lambda.IFunction) {
  const resource = platform.resource(logicalId(fn));
  const roleArn = resource.Properties.Role as { 'Fn::GetAtt': [string, string] };
  const env = platform.resolve((resource.Properties.Environment as { Variables: unknown }).Variables) as Record<
    string,
    string
  >;
  return { statements: platform.roleStatements(roleArn['Fn::GetAtt'][0]), env, roleId: roleArn['Fn::GetAtt'][0] };
}

/** What the deploy function assumes at runtime, and which of its clients carry the assumed credentials. */
async function assumedByDeployFunction() {
  const sts = mockClient(STSClient);
  const deployRoleId = deployedFunction(functionsByHandler().deploy).roleId;
  const ownRoleName = platform.resolveString({ Ref: deployRoleId });
  sts.on(GetCallerIdentityCommand).resolves({ Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${ownRoleName}/session` });
  sts.on(AssumeRoleCommand).resolves({
    Credentials: {
      AccessKeyId: 'A',
      SecretAccessKey: 'S',
      SessionToken: 'T',
      Expiration: new Date(Date.now() + 3600_000),
    },
  });
  try {
    const clients = await new StsDeployRoles(new STSClient({ region: REGION })).clientsFor(
      { pipeline: pipeline.name, deploy: pipeline.deploy!, target: 'production' },
      RUN_ID,
    );
    const roleArn = sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input.RoleArn!;
    // The packages whose clients the request uses with the assumed credentials.
    const packages = Object.values(clients).map((client) => {
      const name = (client as object).constructor.name;
      const pkg = ['@aws-sdk/client-lambda', '@aws-sdk/client-cloudwatch', '@aws-sdk/client-s3'].find(
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        (p) => (require(p) as Record<string, unknown>)[name] === (client as object).constructor,
      );
      if (!pkg)
        throw new Error(`the deploy function's assumed clients include ${name}, whose package this test does not know`);
      return pkg;
    });
    return { roleArn, ownRoleArn: `arn:aws:iam::${ACCOUNT}:role/${ownRoleName}`, packages: new Set(packages) };
  } finally {
    sts.restore();
  }
}

/** The pipeline stack's role named by this ARN. */
function pipelineRole(roleArn: string) {
  const [id] = Object.entries(pipelineStack.template.Resources).find(
    ([, r]) =>
      r.Type === 'AWS::IAM::Role' &&
      r.Properties.RoleName !== undefined &&
      `arn:aws:iam::${ACCOUNT}:role/${pipelineStack.resolveString(r.Properties.RoleName)}` === roleArn,
  ) ?? [undefined];
  if (!id) throw new Error(`no role of stack ${pipelineStack.stackName} has the ARN ${roleArn}`);
  return { id, resource: pipelineStack.resource(id) };
}

describe('every call a deployed function can make is allowed by its role', () => {
  test('the test knows every function the app deploys with stepline code', () => {
    const known = new Set(Object.values(functionsByHandler()).map(logicalId));
    const functions = [...synthesized.templates].flatMap(([stack, template]) =>
      Object.entries(template.Resources)
        .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
        .map(([id, r]) => ({ stack, id, inline: (r.Properties.Code as { ZipFile?: string }).ZipFile !== undefined })),
    );
    // The only others are a pipeline's target functions, created with placeholder code that calls nothing.
    const others = functions.filter((f) => !(f.stack === platform.stackName && known.has(f.id)));
    expect(others.every((f) => f.inline && f.stack !== platform.stackName)).toBe(true);
    expect(known.size).toBe(platformFunctionNames().length);
  });

  test.each(platformFunctionNames())('%s', async (handler) => {
    const entry: Entry = { module: PLATFORM_FUNCTIONS[handler].entry };
    const reach = analyzer.reach(entry);
    const { statements, env } = deployedFunction(functionsByHandler()[handler]);
    const context = callContext(reach, env);
    const assumed = handler === 'deploy' ? await assumedByDeployFunction() : undefined;
    const own = reach.calls.filter((call) => !assumed?.packages.has(call.pkg));
    expect(deniedCalls(own, statements, context)).toEqual([]);
    if (assumed) {
      // The deploy function may assume the pipeline's role, which trusts it, and which allows every call made with it.
      expect(allows(statements, 'sts:AssumeRole', assumed.roleArn)).toBe(true);
      const role = pipelineRole(assumed.roleArn);
      expect(pipelineStack.resolve(role.resource.Properties.AssumeRolePolicyDocument)).toEqual({
        Version: '2012-10-17',
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: assumed.ownRoleArn } }],
      });
      const withAssumedRole = reach.calls.filter((call) => assumed.packages.has(call.pkg));
      expect(withAssumedRole.length).toBeGreaterThan(0);
      expect(deniedCalls(withAssumedRole, pipelineStack.roleStatements(role.id), context)).toEqual([]);
    }
  });

  test("the CLI's calls against AWS are allowed by the policy the platform publishes for operators", () => {
    const output = synthesized.templates.get(platform.stackName)!.Outputs!.ApprovalsCliPolicy!.Value;
    const policy = JSON.parse(platform.resolveString(output)) as { Statement: PolicyStatement[] };
    for (const command of [
      { module: 'cli/approvals.ts', exports: ['runApprovalsCommand'] },
      { module: 'cli/deploy.ts', exports: ['runDeployCommand'] },
      { module: 'cli/run-control.ts', exports: ['runRunControlCommand'] },
      { module: 'cli/manual-runs.ts', exports: ['runManualRunCommand'] },
    ]) {
      const reach = analyzer.reach(command);
      const context = callContext(reach, {});
      expect(reach.calls.map((c) => c.command)).toContain('GetParameterCommand');
      expect(deniedCalls(reach.calls, policy.Statement, context)).toEqual([]);
    }
    // The HTTP calls: every IAM-authorized route of the API, with a run id, on its deployed ARN.
    const api = logicalIdOf(platform, 'AWS::ApiGatewayV2::Api', /Api/);
    const routes = Object.values(platform.template.Resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.AuthorizationType === 'AWS_IAM')
      .map((r) => String(r.Properties.RouteKey));
    expect(routes.length).toBeGreaterThan(0);
    const denied = routes
      .map((key) => {
        const [method, path] = key.split(' ') as [string, string];
        return arn(
          'execute-api',
          `${platform.resolveString({ Ref: api })}/$default/${method}${path.replace('{runId}', RUN_ID).replace('{pipeline}', pipeline.name)}`,
        );
      })
      .filter((route) => !allows(policy.Statement, 'execute-api:Invoke', route));
    expect(denied).toEqual([]);
  });
});

describe('the check can fail', () => {
  test('a grant taken away is reported as the call it denies', () => {
    const reach = analyzer.reach({ module: PLATFORM_FUNCTIONS.deploy.entry });
    const { statements, env } = deployedFunction(functionsByHandler().deploy);
    const context = callContext(reach, env);
    const without = statements.map((s) => ({
      ...s,
      Action: [s.Action ?? []].flat().filter((a) => a !== 'codebuild:DescribeTestCases'),
    }));
    const codebuild = reach.calls.filter((c) => c.pkg === '@aws-sdk/client-codebuild');
    expect(deniedCalls(codebuild, without, context)).toEqual(
      projects({ ...context, call: codebuild[0]! }).map(
        (p) =>
          `codebuild:DescribeTestCases on ${arn('codebuild', `report-group/${p}-junit`)} (DescribeTestCasesCommand in lambdas/adapters/build-inspector.ts)`,
      ),
    );
  });

  test('a command the table does not map fails, naming the file that sends it', () => {
    const fixture = new SdkCallAnalyzer(['test/lib/grants/fixtures/unmapped-call.ts']);
    const reach = fixture.reach({ module: 'test/lib/grants/fixtures/unmapped-call.ts' });
    expect(reach.calls.map((c) => c.command).sort()).toEqual(['GetFunctionCommand', 'ListFunctionsCommand']);
    const context = callContext(reach, {});
    expect(() => deniedCalls(reach.calls, [], context)).toThrow(
      'test/lib/grants/fixtures/unmapped-call.ts can send ListFunctionsCommand (@aws-sdk/client-lambda), which COMMAND_GRANTS does not map',
    );
  });
});
