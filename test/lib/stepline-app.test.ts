/**
 * The CDK app, synthesized as `cdk synth` does (cdk.json context, cdk-nag on) and read back from the
 * cloud assembly: the platform stack, one stack per pipeline, and the exact permissions each holds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import {
  parseConfig,
  projectName,
  pushFilters,
  stagePlan,
  type CodeCommitPipeline,
} from '../../core/config/stepline-config';
import { BUILD_ARTIFACT_NAME, CATALOG_PATH, PLATFORM_PARAMETERS, cachePrefix } from '../../core/platform';
import { functionArnParameterName, PLATFORM_FUNCTIONS } from '../../core/platform-functions';
import { runEventTrigger, sourceChangedTrigger } from '../../core/sources/source-events';
import { codeCommitPushTrigger } from '../../core/sources/triggers';
import type { PipelineStack } from '../../lib/pipeline-stack';
import { PipelineStateMachine } from '../../lib/pipeline-state-machine';
import { INDEXES } from '../../store/schema';
import {
  statementsOfRole,
  synthesize,
  type Resource,
  type Statement,
  type Synthesized,
  type Template,
  arn,
} from '../support/cdk';

const ROOT = join(__dirname, '..', '..');

const CONNECTION = 'arn:aws:codeconnections:eu-west-1:111122223333:connection/0b8e3c4a-1d2f-4e5a-9b6c-7d8e9f0a1b2c';

const config = parseConfig({
  pipelines: [
    {
      name: 'hello-service',
      source: { type: 'codecommit', repository: 'hello-service', branch: 'main' },
      build: { buildspec: 'buildspecs/build.yml' },
      tests: [
        { name: 'unit-tests', buildspec: 'buildspecs/unit-tests.yml', computeSize: 'medium', timeoutMinutes: 20 },
        { name: 'lint', buildspec: 'buildspecs/lint.yml' },
      ],
      testConcurrency: 1,
    },
    {
      name: 'web',
      source: {
        type: 'github',
        owner: 'acme',
        repo: 'web',
        branch: 'release',
        connectionArn: CONNECTION,
      },
      build: { buildspec: 'ci/build.yml', computeSize: 'large' },
      tests: [{ name: 'e2e', buildspec: 'ci/e2e.yml' }],
    },
  ],
});
const hello = config.pipelines[0] as CodeCommitPipeline;

let synthesized: Synthesized;
beforeAll(() => {
  synthesized = synthesize(config);
});

const platform = () => synthesized.stepline.platform;
const pipeline = (name: string): PipelineStack => synthesized.stepline.pipelines.get(name)!;
const templateOf = (stack: Stack): Template => synthesized.templates.get(stack.stackName)!;
const logicalId = (construct: IConstruct) =>
  (construct.node.defaultChild as CfnElement).stack.getLogicalId(construct.node.defaultChild as CfnElement);
const resourceOf = (construct: IConstruct): Resource => {
  const element = construct.node.defaultChild as CfnElement;
  return templateOf(element.stack).Resources[element.stack.getLogicalId(element)]!;
};
const ref = (stack: Stack, token: string) => stack.resolve(token) as unknown;
/** The template parameter through which a pipeline stack reads a platform SSM parameter. */
const platformParameter = (stack: Stack, name: string) => {
  const [id] = Object.entries(templateOf(stack).Parameters ?? {}).find(([, p]) => p.Default === name)!;
  return { Ref: id };
};

describe('app structure', () => {
  test('a platform stack and one stack per pipeline, each deploying after the platform', () => {
    expect(synthesized.assembly.stacks.map((s) => s.stackName).sort()).toEqual(
      ['Stepline', 'Stepline-hello-service', 'Stepline-web'].sort(),
    );
    for (const name of ['hello-service', 'web']) {
      expect(pipeline(name).dependencies).toEqual([platform()]);
    }
  });

  test('no stack exports or imports a value: pipelines read the platform from SSM at deploy time', () => {
    for (const [name, text] of synthesized.texts) {
      expect({ name, exports: text.includes('Export'), imports: text.includes('Fn::ImportValue') }).toEqual({
        name,
        exports: false,
        imports: false,
      });
    }
  });

  test("the platform's template does not depend on the pipeline config", () => {
    const notifications = {
      slack: { webhookUrlSecret: 'stepline/notifications/other-slack' },
      email: { from: 'ci@example.com', to: ['team@example.com'] },
    };
    const other = synthesize(
      parseConfig({ pipelines: [{ ...hello, name: 'other', executionMode: 'PARALLEL', notifications }] }),
      { nag: false },
    );
    expect(other.texts.get('Stepline')).toEqual(synthesized.texts.get('Stepline'));
  });

  test('a localOnly pipeline never reaches the account: no stack for it', () => {
    const mine = { ...hello, name: 'mine', localRepository: '../mine', localOnly: true };
    const app = synthesize(parseConfig({ pipelines: [hello, mine] }), { nag: false });
    expect(app.assembly.stacks.map((s) => s.stackName).sort()).toEqual(['Stepline', 'Stepline-hello-service']);
  });
});

describe('PlatformStack', () => {
  test('the run table: schema keys, two GSIs projecting ALL, on-demand, PITR, SSE, kept except on a failed create', () => {
    const table = resourceOf(platform().runStore.table);
    expect(table.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(table.Properties).toEqual({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk'].map((name) => ({
        AttributeName: name,
        AttributeType: 'S',
      })),
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      GlobalSecondaryIndexes: Object.values(INDEXES).map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    });
  });

  test('the artifact bucket: platform key, private, versioned, access-logged; the log bucket SSE-S3 without ACLs', () => {
    const stack = platform();
    const blockAll = {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    };
    expect(resourceOf(stack.artifacts.bucket).Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: ref(stack, stack.platformKey.keyArn),
            },
          },
        ],
      },
      PublicAccessBlockConfiguration: blockAll,
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: {
        DestinationBucketName: ref(stack, stack.artifacts.accessLogBucket.bucketName),
        LogFilePrefix: 'artifacts/',
      },
    });
    const logs = resourceOf(stack.artifacts.accessLogBucket);
    expect(logs.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: blockAll,
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    expect(logs.Properties.AccessControl).toBeUndefined();
    expect(resourceOf(stack.platformKey).Properties).toMatchObject({ EnableKeyRotation: true });
  });

  test.each([
    ['artifact', () => platform().artifacts.bucket],
    ['access log', () => platform().artifacts.accessLogBucket],
  ])('the %s bucket denies every request without TLS', (_, bucket) => {
    const stack = platform();
    const policies = Object.values(templateOf(stack).Resources).filter(
      (r) =>
        r.Type === 'AWS::S3::BucketPolicy' &&
        JSON.stringify(r.Properties.Bucket) === JSON.stringify(ref(stack, bucket().bucketName)),
    );
    const bucketArn = ref(stack, bucket().bucketArn);
    expect((policies[0]!.Properties.PolicyDocument as { Statement: unknown[] }).Statement).toContainEqual({
      Action: 's3:*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Resource: [bucketArn, { 'Fn::Join': ['', [bucketArn, '/*']] }],
    });
  });

  test('publishes the shared resources the pipeline stacks need as SSM parameters', () => {
    const stack = platform();
    const published = Object.values(templateOf(stack).Resources)
      .filter((r) => r.Type === 'AWS::SSM::Parameter')
      .map((r) => [r.Properties.Name, r.Properties.Value]);
    expect(published).toEqual(
      expect.arrayContaining([
        [functionArnParameterName('recordProgress'), ref(stack, stack.functions.recordProgress.functionArn)],
        [PLATFORM_PARAMETERS.artifactBucketName, ref(stack, stack.artifacts.bucket.bucketName)],
        [PLATFORM_PARAMETERS.platformKeyArn, ref(stack, stack.platformKey.keyArn)],
        [functionArnParameterName('approvalGate'), ref(stack, stack.approvals.approvalGate.functionArn)],
        [PLATFORM_PARAMETERS.approvalsUrl, ref(stack, stack.approvals.api.apiEndpoint)],
        [functionArnParameterName('deploy'), ref(stack, stack.functions.deploy.functionArn)],
        [PLATFORM_PARAMETERS.runTableName, ref(stack, stack.runStore.table.tableName)],
      ]),
    );
    // No parameter for the publisher or the starter: only the platform's rules invoke them.
    expect(published).toHaveLength(7);
  });

  test.each(['startRun', 'recordProgress', 'publishSourceChange', 'githubWebhook', 'notify', 'deploy'] as const)(
    '%s: nodejs22.x on arm64, traced, own log group, source maps on, nothing but names in its environment',
    (name) => {
      const stack = platform();
      const fn = stack.functions[name];
      const props = resourceOf(fn).Properties;
      expect(props).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: expect.anything() },
      });
      const bus = { SOURCE_BUS_NAME: ref(stack, stack.sources.bus.eventBusName) };
      expect((props.Environment as { Variables: unknown }).Variables).toEqual({
        RUN_TABLE_NAME: ref(stack, stack.runStore.table.tableName),
        NODE_OPTIONS: '--enable-source-maps',
        ...{
          startRun: { PIPELINE_CATALOG_PATH: CATALOG_PATH },
          recordProgress: { PIPELINE_CATALOG_PATH: CATALOG_PATH, ...bus },
          notify: { PIPELINE_CATALOG_PATH: CATALOG_PATH },
          // The bus: each deployment record's change told as DeploymentChanged.
          deploy: { PIPELINE_CATALOG_PATH: CATALOG_PATH, ...bus },
          publishSourceChange: { ...bus, PIPELINE_CATALOG_PATH: CATALOG_PATH },
          githubWebhook: {
            ...bus,
            PIPELINE_CATALOG_PATH: CATALOG_PATH,
            GITHUB_WEBHOOK_SECRET_ID: ref(stack, stack.sources.webhookSecret.secretArn),
          },
        }[name],
      });
    },
  );

  test('the functions EventBridge invokes keep the events they failed on in their dead-letter queue', () => {
    const stack = platform();
    const { functions } = stack;
    const invokedByEvents = [
      functions.publishSourceChange,
      functions.startRun,
      functions.recordProgress,
      functions.notify,
      functions.deploy,
      stack.approvals.approvalDecisions,
    ];
    for (const fn of invokedByEvents) {
      expect(resourceOf(fn).Properties.DeadLetterConfig).toEqual({
        TargetArn: ref(stack, functions.failedRunRequests.queueArn),
      });
    }
    const invokeConfigs = Object.values(templateOf(stack).Resources).filter(
      (r) => r.Type === 'AWS::Lambda::EventInvokeConfig',
    );
    expect(invokeConfigs.map((c) => c.Properties)).toEqual(
      invokedByEvents.map((fn) =>
        expect.objectContaining({ FunctionName: ref(stack, fn.functionName), MaximumRetryAttempts: 2 }),
      ),
    );
  });

  test('the publisher may only list the catalog and put events on the platform bus (and its DLQ)', () => {
    const stack = platform();
    const { functions } = stack;
    expect(statementsOfRole(templateOf(stack), logicalId(functions.publishSourceChangeRole.role))).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logicalId(functions.publishSourceChange.logGroup), 'Arn'] },
      },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: ref(stack, functions.failedRunRequests.queueArn) },
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: ref(stack, stack.sources.bus.eventBusArn) },
      {
        Effect: 'Allow',
        Action: 'ssm:GetParametersByPath',
        Resource: [arn('ssm', 'parameter/stepline/pipelines'), arn('ssm', 'parameter/stepline/pipelines/*')],
      },
      { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
    ]);
  });

  test('the webhook receiver may read its secret, list the catalog and put events on the platform bus', () => {
    const stack = platform();
    const { functions } = stack;
    expect(statementsOfRole(templateOf(stack), logicalId(functions.githubWebhookRole.role))).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logicalId(functions.githubWebhook.logGroup), 'Arn'] },
      },
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: ref(stack, stack.sources.bus.eventBusArn) },
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: ref(stack, stack.sources.webhookSecret.secretArn),
      },
      {
        Effect: 'Allow',
        Action: 'ssm:GetParametersByPath',
        Resource: [arn('ssm', 'parameter/stepline/pipelines'), arn('ssm', 'parameter/stepline/pipelines/*')],
      },
      { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
    ]);
  });

  test('the webhook: a public function URL whose secret is generated, named and never in the template', () => {
    const stack = platform();
    const resources = Object.values(templateOf(stack).Resources);
    const url = resources.find((r) => r.Type === 'AWS::Lambda::Url');
    expect(url?.Properties).toEqual({
      AuthType: 'NONE',
      TargetFunctionArn: ref(stack, stack.functions.githubWebhook.functionArn),
    });
    const secret = resourceOf(stack.sources.webhookSecret).Properties;
    expect(secret).toMatchObject({
      Name: 'stepline/github-webhook-secret',
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
    });
    expect(secret.SecretString).toBeUndefined();
    expect(templateOf(stack).Outputs).toMatchObject({
      GitHubWebhookUrl: { Value: stack.resolve(stack.functions.githubWebhookUrl.url) },
      GitHubWebhookSecretName: { Value: stack.resolve(stack.sources.webhookSecret.secretName) },
    });
    const bus = resources.find((r) => r.Type === 'AWS::Events::EventBus');
    expect(bus?.Properties).toMatchObject({ Name: 'stepline' });
    const archive = resources.find((r) => r.Type === 'AWS::Events::Archive');
    expect(archive?.Properties).toMatchObject({ EventPattern: { source: ['stepline.sources'] }, RetentionDays: 30 });
  });

  test('the starter may do exactly what it calls: write runs and lanes, read the catalog, start stepline machines, read commits', () => {
    const stack = platform();
    const { functions } = stack;
    expect(statementsOfRole(templateOf(stack), logicalId(functions.startRunRole.role))).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logicalId(functions.startRun.logGroup), 'Arn'] },
      },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: ref(stack, functions.failedRunRequests.queueArn) },
      {
        Effect: 'Allow',
        Action: [
          'dynamodb:PutItem',
          'dynamodb:GetItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:Query',
        ],
        Resource: ref(stack, stack.runStore.table.tableArn),
      },
      { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: arn('ssm', 'parameter/stepline/pipelines/*') },
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: arn('states', 'stateMachine:stepline-*') },
      {
        Effect: 'Allow',
        Action: ['codecommit:GetCommit', 'codecommit:GetDifferences'],
        Resource: arn('codecommit', '*'),
      },
      { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
    ]);
  });

  test("the recorder may do exactly what it calls: move runs and lanes forward, read stepline's builds, reports and logs, start the next run", () => {
    const stack = platform();
    const { functions } = stack;
    expect(statementsOfRole(templateOf(stack), logicalId(functions.recordProgressRole.role))).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logicalId(functions.recordProgress.logGroup), 'Arn'] },
      },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: ref(stack, functions.failedRunRequests.queueArn) },
      {
        Effect: 'Allow',
        Action: [
          'dynamodb:GetItem',
          'dynamodb:UpdateItem',
          'dynamodb:Query',
          'dynamodb:DeleteItem',
          'dynamodb:PutItem',
        ],
        Resource: [
          ref(stack, stack.runStore.table.tableArn),
          { 'Fn::Join': ['', [ref(stack, stack.runStore.table.tableArn), '/index/active']] },
        ],
      },
      { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: arn('ssm', 'parameter/stepline/pipelines/*') },
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: arn('states', 'stateMachine:stepline-*') },
      { Effect: 'Allow', Action: 'codebuild:BatchGetBuilds', Resource: arn('codebuild', 'project/stepline-*') },
      {
        Effect: 'Allow',
        Action: ['codebuild:BatchGetReports', 'codebuild:DescribeTestCases'],
        Resource: arn('codebuild', 'report-group/stepline-*'),
      },
      {
        Effect: 'Allow',
        Action: 'logs:GetLogEvents',
        Resource: arn('logs', 'log-group:/aws/codebuild/stepline-*:log-stream:*'),
      },
      { Effect: 'Allow', Action: 'states:DescribeExecution', Resource: arn('states', 'execution:stepline-*:*') },
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: ref(stack, stack.sources.bus.eventBusArn) },
      { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
    ]);
  });

  test("invoke permissions: the push rule, the run rule, the function URL, each approvals route and the gates' sweep", () => {
    const stack = platform();
    const permissions = Object.values(templateOf(stack).Resources).filter((r) => r.Type === 'AWS::Lambda::Permission');
    const webhook = ref(stack, stack.functions.githubWebhook.functionArn);
    const decisions = ref(stack, stack.approvals.approvalDecisions.functionArn);
    const manualRuns = ref(stack, stack.approvals.functions.get('manualRuns')!.fn.functionArn);
    const route = (path: string, fn: unknown = decisions) => ({
      Action: 'lambda:InvokeFunction',
      FunctionName: fn,
      Principal: 'apigateway.amazonaws.com',
      SourceArn: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':execute-api:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':',
            ref(stack, stack.approvals.api.apiId),
            `/*/*${path}`,
          ],
        ],
      },
    });
    expect(permissions.map((p) => p.Properties)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: ref(stack, stack.functions.publishSourceChange.functionArn),
        Principal: 'events.amazonaws.com',
        SourceArn: ref(stack, stack.functions.functions.get('publishSourceChange')!.rules.get('PushRule')!.ruleArn),
      },
      { Action: 'lambda:InvokeFunctionUrl', FunctionName: webhook, FunctionUrlAuthType: 'NONE', Principal: '*' },
      { Action: 'lambda:InvokeFunction', FunctionName: webhook, InvokedViaFunctionUrl: true, Principal: '*' },
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: ref(stack, stack.functions.startRun.functionArn),
        Principal: 'events.amazonaws.com',
        SourceArn: ref(stack, stack.functions.functions.get('startRun')!.rules.get('RunRule')!.ruleArn),
      },
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: ref(stack, stack.functions.recordProgress.functionArn),
        Principal: 'events.amazonaws.com',
        SourceArn: ref(stack, stack.functions.executionEndedRule.ruleArn),
      },
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: ref(stack, stack.functions.recordProgress.functionArn),
        Principal: 'events.amazonaws.com',
        SourceArn: ref(stack, stack.functions.sweepRule.ruleArn),
      },
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: ref(stack, stack.functions.notify.functionArn),
        Principal: 'events.amazonaws.com',
        SourceArn: ref(stack, stack.functions.runEventsRule.ruleArn),
      },
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: ref(stack, stack.functions.deploy.functionArn),
        Principal: 'events.amazonaws.com',
        // The one alarm rule: every stepline alarm's change into ALARM, for every pipeline.
        SourceArn: ref(stack, stack.functions.functions.get('deploy')!.rules.get('AlarmRule')!.ruleArn),
      },
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: ref(stack, stack.functions.deploy.functionArn),
        Principal: 'events.amazonaws.com',
        // The same, for alarm events target stacks forward to the platform's bus.
        SourceArn: ref(stack, stack.functions.functions.get('deploy')!.rules.get('ForwardedAlarmRule')!.ruleArn),
      },
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: ref(stack, stack.functions.deploy.functionArn),
        Principal: 'events.amazonaws.com',
        // Every pipeline execution's end: a release it left under way is rolled back.
        SourceArn: ref(stack, stack.functions.functions.get('deploy')!.rules.get('AbandonedReleaseRule')!.ruleArn),
      },
      // One per route (HttpLambdaIntegration scopes each to its route's path), then the schedule.
      route('/slack/interactions'),
      route('/approvals/decide'),
      route('/approvals/decide'),
      route('/cli/approvals'),
      route('/cli/approvals/{runId}'),
      route('/cli/approvals/{runId}'),
      route('/cli/deployments/{runId}'),
      // The run controls' routes, to the function that declares them.
      route('/cli/runs/{runId}/cancel', ref(stack, stack.approvals.functions.get('runControl')!.fn.functionArn)),
      route('/cli/runs/{runId}/redrive', ref(stack, stack.approvals.functions.get('runControl')!.fn.functionArn)),
      route('/cli/runs/{runId}/rerun', manualRuns),
      route('/cli/releases/{pipeline}', manualRuns),
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: decisions,
        Principal: 'events.amazonaws.com',
        SourceArn: ref(stack, stack.approvals.sweepRule.ruleArn),
      },
    ]);
  });

  test('the notifier may read runs and notification secrets, write notification records and send from SES identities', () => {
    const stack = platform();
    const { functions } = stack;
    const table = ref(stack, stack.runStore.table.tableArn);
    expect(statementsOfRole(templateOf(stack), logicalId(functions.notifyRole.role))).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logicalId(functions.notify.logGroup), 'Arn'] },
      },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: ref(stack, functions.failedRunRequests.queueArn) },
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: [table, { 'Fn::Join': ['', [table, '/index/byPipeline']] }],
      },
      { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: arn('ssm', 'parameter/stepline/pipelines/*') },
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: arn('secretsmanager', 'secret:stepline/notifications/*'),
      },
      { Effect: 'Allow', Action: 'ses:SendEmail', Resource: arn('ses', 'identity/*') },
      { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
    ]);
    const rule = resourceOf(functions.runEventsRule).Properties;
    expect(rule).toMatchObject({
      EventBusName: ref(stack, stack.sources.bus.eventBusName),
      // Run starts and ends, and the release gate's requests and decisions (core/sources/source-events.ts).
      EventPattern: runEventTrigger().pattern,
      Targets: [
        {
          Arn: ref(stack, functions.notify.functionArn),
          InputPath: '$.detail',
          DeadLetterConfig: { Arn: ref(stack, functions.failedRunRequests.queueArn) },
        },
      ],
    });
  });

  test('the recorder sweeps on a schedule for executions whose status event was lost', () => {
    const stack = platform();
    expect(resourceOf(stack.functions.sweepRule).Properties).toMatchObject({
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [{ Arn: ref(stack, stack.functions.recordProgress.functionArn), Input: '{"kind":"sweep"}' }],
    });
  });

  test("one rule tells the recorder of every pipeline execution's end, by the machines' reserved prefix", () => {
    const stack = platform();
    const rule = resourceOf(stack.functions.executionEndedRule).Properties;
    expect(rule.EventBusName).toBeUndefined();
    expect(rule.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: {
        status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'],
        stateMachineArn: [{ prefix: arn('states', 'stateMachine:stepline-') }],
      },
    });
    const [target] = rule.Targets as Record<string, unknown>[];
    expect(target).toMatchObject({
      Arn: ref(stack, stack.functions.recordProgress.functionArn),
      DeadLetterConfig: { Arn: ref(stack, stack.functions.failedRunRequests.queueArn) },
      InputTransformer: {
        InputPathsMap: { 'detail-name': '$.detail.name', 'detail-status': '$.detail.status' },
        InputTemplate: '{"kind":"executionEnded","runId":<detail-name>,"status":<detail-status>}',
      },
    });
  });

  test('the handler bundles are small: minified, the AWS SDK taken from the runtime', () => {
    const bundles = readdirSync(synthesized.assembly.directory)
      .filter((entry) => existsSync(join(synthesized.assembly.directory, entry, 'index.js')))
      .map((entry) => readFileSync(join(synthesized.assembly.directory, entry, 'index.js')));
    // One bundle per declared platform function.
    expect(bundles).toHaveLength(Object.keys(PLATFORM_FUNCTIONS).length);
    for (const bundle of bundles) {
      expect(bundle.length).toBeLessThan(300 * 1024);
      expect(bundle.toString()).toMatch(/require\("@aws-sdk\/client-dynamodb"\)/);
    }
  });
});

describe('PipelineStack', () => {
  const stages = [
    {
      pipeline: 'hello-service',
      stage: 'build',
      buildspec: 'buildspecs/build.yml',
      compute: 'BUILD_GENERAL1_SMALL',
      timeout: 60,
    },
    {
      pipeline: 'hello-service',
      stage: 'unit-tests',
      buildspec: 'buildspecs/unit-tests.yml',
      compute: 'BUILD_GENERAL1_MEDIUM',
      timeout: 20,
    },
    {
      pipeline: 'hello-service',
      stage: 'lint',
      buildspec: 'buildspecs/lint.yml',
      compute: 'BUILD_GENERAL1_SMALL',
      timeout: 60,
    },
    { pipeline: 'web', stage: 'build', buildspec: 'ci/build.yml', compute: 'BUILD_GENERAL1_LARGE', timeout: 60 },
    { pipeline: 'web', stage: 'e2e', buildspec: 'ci/e2e.yml', compute: 'BUILD_GENERAL1_SMALL', timeout: 60 },
  ];

  test('one project per stage, in its own stack', () => {
    expect([...pipeline('hello-service').builds.projects.keys()]).toEqual(['build', 'unit-tests', 'lint']);
    expect([...pipeline('web').builds.projects.keys()]).toEqual(['build', 'e2e']);
    const count = (stack: Stack) =>
      Object.values(templateOf(stack).Resources).filter((r) => r.Type === 'AWS::CodeBuild::Project').length;
    expect([count(platform()), count(pipeline('hello-service')), count(pipeline('web'))]).toEqual([0, 3, 2]);
  });

  test.each(stages)(
    '$pipeline/$stage: named, buildspec from source, compute, timeout, own role, the platform key and an S3 cache (the default)',
    (s) => {
      const stack = pipeline(s.pipeline);
      const project = stack.builds.projects.get(s.stage)!;
      const props = resourceOf(project).Properties;
      const isBuild = s.stage === 'build';
      expect(props).toMatchObject({
        Name: projectName(s.pipeline, s.stage),
        Environment: {
          Type: 'LINUX_CONTAINER',
          Image: 'aws/codebuild/standard:7.0',
          ComputeType: s.compute,
          PrivilegedMode: false,
        },
        TimeoutInMinutes: s.timeout,
        ServiceRole: { 'Fn::GetAtt': [logicalId(stack.builds.roles.get(s.stage)!.role), 'Arn'] },
      });
      // Every stage writes to the artifact bucket, its S3 cache at least (the default): with the platform key.
      expect(props.EncryptionKey).toEqual(platformParameter(stack, PLATFORM_PARAMETERS.platformKeyArn));
      expect(props.Cache).toEqual({
        Type: 'S3',
        Location: {
          'Fn::Join': [
            '/',
            [platformParameter(stack, PLATFORM_PARAMETERS.artifactBucketName), cachePrefix(s.pipeline, s.stage)],
          ],
        },
      });
      expect((props.Source as { BuildSpec: string }).BuildSpec).toBe(s.buildspec);
      expect(props.Artifacts).toEqual(
        isBuild
          ? {
              Type: 'S3',
              Location: platformParameter(stack, PLATFORM_PARAMETERS.artifactBucketName),
              Path: s.pipeline,
              NamespaceType: 'BUILD_ID',
              // Named by stepline, not by the buildspec: <pipeline>/<build id>/artifact.zip.
              Name: BUILD_ARTIFACT_NAME,
              Packaging: 'ZIP',
            }
          : { Type: 'NO_ARTIFACTS' },
      );
      // Its log group is the stack's, with a retention: no build creates one.
      const logGroup = stack.builds.logGroups.get(s.stage)!;
      expect(props.LogsConfig).toEqual({
        CloudWatchLogs: { Status: 'ENABLED', GroupName: ref(stack, logGroup.logGroupName) },
      });
      expect(resourceOf(logGroup)).toMatchObject({
        Properties: {
          LogGroupName: {
            'Fn::Join': [
              '',
              [
                `/aws/codebuild/${projectName(s.pipeline, s.stage)}-`,
                { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] },
              ],
            ],
          },
          RetentionInDays: 90,
        },
        DeletionPolicy: 'RetainExceptOnCreate',
      });
    },
  );

  test('sources: CodeCommit on the branch; GitHub through its connection, without a webhook', () => {
    const source = (p: string, stage = 'build') => resourceOf(pipeline(p).builds.projects.get(stage)!).Properties;
    expect(source('hello-service')).toMatchObject({ Source: { Type: 'CODECOMMIT' }, SourceVersion: 'main' });
    expect((source('hello-service').Source as Record<string, unknown>).Auth).toBeUndefined();
    for (const stage of ['build', 'e2e']) {
      expect(source('web', stage)).toMatchObject({
        Source: {
          Type: 'GITHUB',
          Location: 'https://github.com/acme/web.git',
          Auth: { Type: 'CODECONNECTIONS', Resource: CONNECTION },
        },
        SourceVersion: 'release',
      });
      expect(source('web', stage).Triggers).toEqual({ Webhook: false });
    }
  });

  test("a GitHub stage's role may read its connection's tokens, and nothing of CodeCommit", () => {
    const stack = pipeline('web');
    const statements = statementsOfRole(templateOf(stack), logicalId(stack.builds.roles.get('e2e')!.role));
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['codeconnections:GetConnectionToken', 'codeconnections:GetConnection'],
      Resource: CONNECTION,
    });
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('codecommit:'))).toEqual([]);
  });

  test('a connection made before July 2024 (codestar-connections) is granted with its own action prefix', () => {
    const legacy = CONNECTION.replace('codeconnections', 'codestar-connections');
    const web = config.pipelines[1]!;
    const other = synthesize(
      parseConfig({ pipelines: [{ ...web, source: { ...web.source, connectionArn: legacy } }] }),
      {
        nag: false,
      },
    );
    const stack = other.stepline.pipelines.get('web')!;
    const statements = statementsOfRole(
      other.templates.get(stack.stackName)!,
      stack.getLogicalId(stack.builds.roles.get('build')!.role.node.defaultChild as CfnElement),
    );
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['codestar-connections:GetConnectionToken', 'codestar-connections:GetConnection'],
      Resource: legacy,
    });
  });

  test("a stage's role: its own logs and reports, its repository, its cache prefix and the key, and for the build stage its artifact prefix", () => {
    const stack = pipeline('hello-service');
    const statementsOf = (stage: string) =>
      statementsOfRole(templateOf(stack), logicalId(stack.builds.roles.get(stage)!.role));
    // No logs:CreateLogGroup anywhere: the groups are the stack's.
    const basics = (stage: string) => [
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: [
          arn('logs', 'log-group:', { Ref: logicalId(stack.builds.logGroups.get(stage)!) }),
          arn('logs', 'log-group:', { Ref: logicalId(stack.builds.logGroups.get(stage)!) }, ':*'),
        ],
      },
      {
        Effect: 'Allow',
        Action: [
          'codebuild:CreateReportGroup',
          'codebuild:CreateReport',
          'codebuild:UpdateReport',
          'codebuild:BatchPutTestCases',
          'codebuild:BatchPutCodeCoverages',
        ],
        Resource: arn('codebuild', `report-group/stepline-hello-service-${stage}-*`),
      },
      { Effect: 'Allow', Action: 'codecommit:GitPull', Resource: arn('codecommit', 'hello-service') },
    ];
    const bucket = platformParameter(stack, PLATFORM_PARAMETERS.artifactBucketName);
    const bucketArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', bucket]] };
    const objects = (prefix: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', bucket, `/${prefix}/*`]],
    });
    const bucketWrites = [
      { Effect: 'Allow', Action: ['s3:GetBucketAcl', 's3:GetBucketLocation'], Resource: bucketArn },
      {
        Effect: 'Allow',
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        Resource: platformParameter(stack, PLATFORM_PARAMETERS.platformKeyArn),
      },
    ];
    // Each stage's S3 cache (the default), on its own prefix (test/lib/build-cache.test.ts has the other types).
    const cache = (stage: string) => [
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: objects(cachePrefix('hello-service', stage)),
      },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: bucketArn,
        Condition: { StringLike: { 's3:prefix': [`${cachePrefix('hello-service', stage)}/*`] } },
      },
    ];
    expect(statementsOf('build')).toEqual([
      ...basics('build'),
      ...bucketWrites,
      { Effect: 'Allow', Action: 's3:PutObject', Resource: objects('hello-service') },
      ...cache('build'),
    ]);
    expect(statementsOf('unit-tests')).toEqual([...basics('unit-tests'), ...bucketWrites, ...cache('unit-tests')]);
  });

  test('the state machine: STANDARD, from the ASL file, the recorder, the gate and the deploy function from the platform parameters, logging ALL, tracing', () => {
    const stack = pipeline('hello-service');
    const { machine } = stack;
    const props = resourceOf(machine.stateMachine).Properties;
    expect(props).toMatchObject({
      StateMachineName: 'stepline-hello-service',
      StateMachineType: 'STANDARD',
      DefinitionS3Location: { Bucket: expect.anything(), Key: expect.anything() },
      RoleArn: { 'Fn::GetAtt': [logicalId(machine.role.role), 'Arn'] },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: ref(stack, machine.logGroup.logGroupArn) } }],
      },
      TracingConfiguration: { Enabled: true },
    });
    expect(props.DefinitionSubstitutions).toEqual({
      RecordProgressFunctionArn: platformParameter(stack, functionArnParameterName('recordProgress')),
      ApprovalGateFunctionArn: platformParameter(stack, functionArnParameterName('approvalGate')),
      DeployFunctionArn: platformParameter(stack, functionArnParameterName('deploy')),
    });
  });

  test("the machine's log group is named per stack instance and kept, except when its first create rolls back", () => {
    const stack = pipeline('hello-service');
    const logGroup = resourceOf(stack.machine.logGroup);
    expect(logGroup.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(logGroup.Properties).toEqual({
      LogGroupName: {
        'Fn::Join': [
          '',
          [
            '/aws/vendedlogs/states/stepline-hello-service-',
            { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] },
          ],
        ],
      },
      RetentionInDays: 90,
    });
  });

  test("the machine's role: assumed for this machine only; exactly the grants of the ASL's Task resources", () => {
    const stack = pipeline('hello-service');
    const { machine } = stack;
    const role = resourceOf(machine.role.role).Properties;
    expect(role.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'states.amazonaws.com' },
          Condition: {
            ArnLike: { 'aws:SourceArn': arn('states', 'stateMachine:stepline-hello-service') },
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          },
        },
      ],
    });
    const projects = [...stack.builds.projects.values()].map((p) => ref(stack, p.projectArn));
    expect(statementsOfRole(templateOf(stack), logicalId(machine.role.role))).toEqual([
      {
        // The functions the file's Lambda Tasks name, the gate's .waitForTaskToken wait included.
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: [
          platformParameter(stack, functionArnParameterName('recordProgress')),
          // In the order the definition first invokes them: staging (deploy) comes before the gate.
          platformParameter(stack, functionArnParameterName('deploy')),
          platformParameter(stack, functionArnParameterName('approvalGate')),
        ],
      },
      {
        Effect: 'Allow',
        Action: ['codebuild:StartBuild', 'codebuild:StopBuild', 'codebuild:BatchGetBuilds'],
        Resource: projects,
      },
      {
        Effect: 'Allow',
        Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        Resource: arn('events', 'rule/StepFunctionsGetEventForCodeBuildStartBuildRule'),
      },
      {
        Effect: 'Allow',
        Action: [
          'logs:CreateLogDelivery',
          'logs:GetLogDelivery',
          'logs:UpdateLogDelivery',
          'logs:DeleteLogDelivery',
          'logs:ListLogDeliveries',
          'logs:PutResourcePolicy',
          'logs:DescribeResourcePolicies',
          'logs:DescribeLogGroups',
        ],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: [
          'xray:PutTraceSegments',
          'xray:PutTelemetryRecords',
          'xray:GetSamplingRules',
          'xray:GetSamplingTargets',
        ],
        Resource: '*',
      },
    ]);
  });

  describe("Lambda grants derived from the ASL's FunctionName placeholders", () => {
    const machineWith = (states: Record<string, unknown>) => {
      const file = join(mkdtempSync(join(tmpdir(), 'stepline-asl-')), 'machine.asl.json');
      writeFileSync(file, JSON.stringify({ StartAt: Object.keys(states)[0], States: states }));
      const stack = new Stack(new App(), 'Scratch');
      const fn = (id: string) =>
        lambda.Function.fromFunctionArn(stack, id, `arn:aws:lambda:eu-west-1:111122223333:function:${id}`);
      const machine = new PipelineStateMachine(stack, 'Machine', {
        pipeline: 'p',
        functions: {
          RecordProgressFunctionArn: fn('recorder'),
          ApprovalGateFunctionArn: fn('gate'),
          DeployFunctionArn: fn('deploy'),
        },
        projects: [],
        definitionFile: file,
      });
      const policy = machine.role.role.node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy;
      return stack.resolve(policy.policyDocument) as { Statement: Statement[] };
    };
    const invoke = (functionName: unknown, resource = 'arn:aws:states:::lambda:invoke') => ({
      Type: 'Task',
      Resource: resource,
      Parameters: { FunctionName: functionName, Payload: {} },
      End: true,
    });

    test('only the functions the file invokes are granted', () => {
      expect(machineWith({ Only: invoke('${RecordProgressFunctionArn}') }).Statement).toEqual([
        {
          Effect: 'Allow',
          Action: 'lambda:InvokeFunction',
          Resource: 'arn:aws:lambda:eu-west-1:111122223333:function:recorder',
        },
      ]);
    });

    test('a FunctionName that is not a placeholder stops synth, naming the state', () => {
      expect(() => machineWith({ Literal: invoke('arn:aws:lambda:eu-west-1:111122223333:function:other') })).toThrow(
        /state "Literal" must name its function as Parameters.FunctionName "\$\{<Placeholder>\}".*found "arn:aws:lambda/,
      );
      const dynamic = { ...invoke(undefined), Parameters: { 'FunctionName.$': '$.fn' } };
      expect(() => machineWith({ Dynamic: dynamic })).toThrow(/state "Dynamic" must name its function.*found "\$\.fn"/);
    });

    test('a placeholder that names no function stops synth, naming the state and the placeholder', () => {
      expect(() =>
        machineWith({ Wait: invoke('${OtherFunctionArn}', 'arn:aws:states:::lambda:invoke.waitForTaskToken') }),
      ).toThrow(
        /state "Wait" invokes \$\{OtherFunctionArn\}, which names no function .*RecordProgressFunctionArn, ApprovalGateFunctionArn/,
      );
    });
  });

  test('the machine is created only after its role holds its policies', () => {
    const stack = pipeline('hello-service');
    const dependsOn = resourceOf(stack.machine.stateMachine).DependsOn ?? [];
    const policies = Object.entries(templateOf(stack).Resources)
      .filter(([id, r]) => r.Type === 'AWS::IAM::Policy' && id.startsWith('StateMachineExecutionRole'))
      .map(([id]) => id);
    expect(policies).toHaveLength(3);
    expect(dependsOn).toEqual(expect.arrayContaining(policies));
  });

  test("the push rule: the platform's one, every CodeCommit push in the account, core/triggers' pattern and input, to the publisher", () => {
    const stack = platform();
    const trigger = codeCommitPushTrigger();
    const rule = resourceOf(stack.functions.functions.get('publishSourceChange')!.rules.get('PushRule')!).Properties;
    expect(rule.EventBusName).toBeUndefined();
    expect(rule.EventPattern).toEqual(trigger.pattern);
    // No repository: the publisher reads the catalog to find the pipelines following the pushed one.
    expect(rule.EventPattern).not.toHaveProperty('resources');
    const [target] = rule.Targets as Record<string, unknown>[];
    expect(target).toMatchObject({
      Arn: ref(stack, stack.functions.publishSourceChange.functionArn),
      DeadLetterConfig: { Arn: ref(stack, stack.functions.failedRunRequests.queueArn) },
      RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 4 },
    });
    const transformer = target!.InputTransformer as { InputPathsMap: Record<string, string>; InputTemplate: string };
    expect(Object.values(transformer.InputPathsMap).sort()).toEqual(
      [
        '$.id',
        '$.time',
        '$.detail.commitId',
        '$.detail.referenceName',
        '$.detail.repositoryName',
        '$.detail.referenceType',
        '$.detail',
      ].sort(),
    );
    // Filling the template's placeholders with their paths yields core/triggers' input template.
    const filled = transformer.InputTemplate.replace(/<([\w-]+)>/g, (_, key: string) =>
      JSON.stringify({ path: transformer.InputPathsMap[key] }),
    );
    expect(JSON.parse(filled)).toEqual(trigger.input);
  });

  test("the pipeline's catalog entry: its state machine and stage plan, at its parameter", () => {
    const stack = pipeline('hello-service');
    const parameter = resourceOf(stack.catalogEntry).Properties;
    expect(parameter).toMatchObject({ Name: '/stepline/pipelines/hello-service', Type: 'String' });
    const render = (value: unknown): string => {
      if (typeof value === 'string') return value;
      const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
      if (join) return join[1].map(render).join(join[0]);
      return `REF(${JSON.stringify(value)})`.replace(/"/g, "'");
    };
    expect(JSON.parse(render(parameter.Value))).toEqual({
      stateMachineArn: render(ref(stack, stack.machine.stateMachine.stateMachineArn)),
      source: {
        kind: 'codecommit',
        repository: hello.source.type === 'codecommit' && hello.source.repository,
        branch: hello.source.branch,
      },
      stages: stagePlan(hello),
      filters: pushFilters(hello),
      executionMode: 'QUEUED',
    });
    expect(stagePlan(hello).testConcurrency).toBe(1);
  });

  test("the run rule: the platform's one, on its bus, every SourceChanged event, its detail to the starter", () => {
    const stack = platform();
    const rule = resourceOf(stack.functions.functions.get('startRun')!.rules.get('RunRule')!).Properties;
    expect(rule).toMatchObject({
      EventBusName: ref(stack, stack.sources.bus.eventBusName),
      EventPattern: sourceChangedTrigger().pattern,
      Targets: [
        {
          Arn: ref(stack, stack.functions.startRun.functionArn),
          InputPath: '$.detail',
          DeadLetterConfig: { Arn: ref(stack, stack.functions.failedRunRequests.queueArn) },
          RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 4 },
        },
      ],
    });
    expect(rule.EventPattern).toEqual({ source: ['stepline.sources'], 'detail-type': ['SourceChanged'] });
  });

  test('no pipeline stack holds a rule, a Lambda permission or a queue: the platform routes every event', () => {
    for (const name of ['hello-service', 'web']) {
      const types = Object.values(templateOf(pipeline(name)).Resources).map((r) => r.Type);
      expect(types).not.toContain('AWS::Events::Rule');
      expect(types).not.toContain('AWS::Lambda::Permission');
      expect(types).not.toContain('AWS::SQS::Queue');
    }
  });
});

describe('deploy hardening, across every template', () => {
  const everyResource = () =>
    [...synthesized.templates].flatMap(([stack, t]) =>
      Object.entries(t.Resources).map(([id, r]) => ({ stack, id, r })),
    );

  test('a retained resource is deleted when its first create rolls back, and never has a fixed name', () => {
    const retained = everyResource().filter(({ r }) => r.DeletionPolicy?.startsWith('Retain'));
    expect(retained.length).toBeGreaterThanOrEqual(7);
    const nameProperties = ['TableName', 'BucketName', 'LogGroupName', 'Name', 'QueueName', 'AliasName'];
    for (const { stack, id, r } of retained) {
      expect({ stack, id, policy: r.DeletionPolicy }).toEqual({ stack, id, policy: 'RetainExceptOnCreate' });
      for (const property of nameProperties.filter((p) => p in r.Properties)) {
        // A retained name must be unique to the stack instance that created it.
        expect({ stack, id, name: JSON.stringify(r.Properties[property]) }).toEqual({
          stack,
          id,
          name: expect.stringContaining('AWS::StackId'),
        });
      }
    }
  });

  test('every statement on Resource "*" is one of the known statements, which no narrower resource can replace', () => {
    const known = new Map([
      ['XRayTracing (function)', ['xray:PutTraceSegments', 'xray:PutTelemetryRecords']],
      [
        'TaskTokens (approval-decisions)',
        ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
      ],
      [
        'XRayTracing (state machine)',
        ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
      ],
      [
        'ExecutionLogging',
        [
          'logs:CreateLogDelivery',
          'logs:GetLogDelivery',
          'logs:UpdateLogDelivery',
          'logs:DeleteLogDelivery',
          'logs:ListLogDeliveries',
          'logs:PutResourcePolicy',
          'logs:DescribeResourcePolicies',
          'logs:DescribeLogGroups',
        ],
      ],
    ]);
    const onStar = [...synthesized.templates].flatMap(([, t]) =>
      Object.entries(t.Resources)
        .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
        .flatMap(([id, r]) =>
          (
            r.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }
          ).Statement.filter((s) => JSON.stringify(s.Resource).includes('"*"')).map((s) => ({
            id,
            actions: [s.Action].flat(),
            statements: (r.Properties.PolicyDocument as { Statement: unknown[] }).Statement.length,
          })),
        ),
    );
    // Each platform function's X-Ray statement, the decision function's task tokens, and one machine per pipeline
    // (2 pipelines, neither with a deploy target): functions + 1 + 2 × 2 statements.
    expect(onStar).toHaveLength(Object.keys(PLATFORM_FUNCTIONS).length + 1 + 2 * 2);
    for (const { id, actions, statements } of onStar) {
      // Each sits alone in a policy of its own, named for what it allows.
      expect({ id, statements }).toEqual({ id, statements: 1 });
      expect([...known.values()]).toContainEqual(actions);
    }
  });

  test('no IAM statement names an action pattern', () => {
    const actions = [...synthesized.templates].flatMap(([, t]) =>
      Object.values(t.Resources)
        .filter((r) => r.Type === 'AWS::IAM::Policy')
        .flatMap((r) =>
          (r.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement.flatMap((s) =>
            [s.Action].flat(),
          ),
        ),
    );
    expect(actions.length).toBeGreaterThan(40);
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  test('reports no unacknowledged finding on any stack', () => {
    for (const stack of [platform(), pipeline('hello-service'), pipeline('web')]) {
      const report = new AwsSolutionsChecks().validateScope(stack);
      expect(
        report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
      ).toEqual([]);
    }
  });

  test('would report a finding: an unencrypted, unlogged bucket fails', () => {
    const stack = new Stack(new App(), 'Scratch');
    new s3.Bucket(stack, 'Plain', { encryption: s3.BucketEncryption.UNENCRYPTED });
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.success).toBe(false);
    expect(report.violations.map((v) => v.ruleName)).toEqual(
      expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']),
    );
  });

  test('acknowledgements cover their own statements only: a new "*" grant on a function role is reported', () => {
    const fresh = synthesize(config, { nag: false });
    fresh.stepline.platform.functions.startRunRole.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }),
    );
    const report = new AwsSolutionsChecks().validateScope(fresh.stepline.platform);
    expect(report.violations.map((v) => [v.ruleName, v.violatingResources.map((r) => r.constructPath)])).toEqual([
      ['AwsSolutions-IAM5[Resource::*]', ['Stepline/Functions/StartRunRole/Role/DefaultPolicy/Resource']],
    ]);
  });
});

describe('bin/stepline.ts', () => {
  test('an invalid config stops the app with the pipeline and the field at fault', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepline-config-'));
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        pipelines: [
          {
            name: 'broken',
            source: { type: 'codecommit', repository: 'r', branch: 'main' },
            build: { buildspec: '../x.yml' },
          },
        ],
      }),
    );
    const result = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'bin', 'stepline.ts')], {
      cwd: ROOT,
      env: { ...process.env, STEPLINE_CONFIG: file },
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'pipeline "broken" → build.buildspec: buildspec must be a path inside the repository',
    );
  });
});
