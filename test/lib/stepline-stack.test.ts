import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { parseConfig, projectName, stagePlan, type CodeCommitPipeline, type PipelineConfig } from '../../core/config';
import { codeCommitTrigger } from '../../core/triggers';
import { taskResources } from '../../core/asl';
import { PipelineStateMachine } from '../../lib/pipeline-state-machine';
import { SteplineStack } from '../../lib/stepline-stack';
import { PIPELINE_DEFINITION_FILE } from '../../statemachines';
import { INDEXES } from '../../store/schema';

const ROOT = join(__dirname, '..', '..');
/** The context `cdk synth` runs with, so that tests synthesize what the CLI does. */
const CDK_CONTEXT = (JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> })
  .context;

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
    },
    {
      name: 'web',
      source: { type: 'github', owner: 'acme', repo: 'web', branch: 'release' },
      build: { buildspec: 'ci/build.yml', computeSize: 'large' },
      tests: [{ name: 'e2e', buildspec: 'ci/e2e.yml' }],
    },
  ],
});
const [hello, web] = config.pipelines as [CodeCommitPipeline, PipelineConfig];

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

let app: App;
let stack: SteplineStack;
let template: Template;
let resources: Record<string, Resource>;

beforeAll(() => {
  app = new App({ context: CDK_CONTEXT });
  stack = new SteplineStack(app, 'Stepline', { config });
  // As bin/stepline.ts does: synthesis fails if cdk-nag reports an unacknowledged finding.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, Resource>;
});

const ref = (token: string) => stack.resolve(token) as unknown;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const policyOfRole = (roleLogicalId: string): Statement[] => {
  const policies = ofType('AWS::IAM::Policy').filter(([, p]) =>
    (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId })),
  );
  expect(policies).toHaveLength(1);
  return (policies[0]![1].Properties.PolicyDocument as { Statement: Statement[] }).Statement;
};
const logicalId = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
const pipeline = (name: string) => stack.pipelines.get(name)!;

describe('RunStore', () => {
  test('is the schema table: string keys, two GSIs projecting ALL, on-demand, PITR, SSE, retained', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    const [, table] = ofType('AWS::DynamoDB::Table')[0]!;
    expect(table.DeletionPolicy).toBe('Retain');
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
});

describe('ArtifactStore', () => {
  const blockAll = {
    BlockPublicAcls: true,
    BlockPublicPolicy: true,
    IgnorePublicAcls: true,
    RestrictPublicBuckets: true,
  };

  test('the artifact bucket is KMS-encrypted with the platform key, private, versioned, logged and retained', () => {
    const bucket = resources[logicalId(stack.artifacts.bucket)]!;
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ref(stack.platformKey.keyArn) },
          },
        ],
      },
      PublicAccessBlockConfiguration: blockAll,
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: {
        DestinationBucketName: ref(stack.artifacts.accessLogBucket.bucketName),
        LogFilePrefix: 'artifacts/',
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('the access log bucket is SSE-S3 encrypted, private and takes no ACLs', () => {
    const logs = resources[logicalId(stack.artifacts.accessLogBucket)]!;
    expect(logs.DeletionPolicy).toBe('Retain');
    expect(logs.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: blockAll,
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    expect(logs.Properties.AccessControl).toBeUndefined();
  });

  test.each([
    ['artifact', () => stack.artifacts.bucket],
    ['access log', () => stack.artifacts.accessLogBucket],
  ])('the %s bucket denies every request without TLS', (_, bucket) => {
    const arn = ref(bucket().bucketArn);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref(bucket().bucketName),
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Resource: [arn, { 'Fn::Join': ['', [arn, '/*']] }],
          },
        ]),
      },
    });
  });
});

describe('PipelineBuildProjects', () => {
  const stages = [
    {
      pipeline: hello,
      stage: 'build',
      buildspec: 'buildspecs/build.yml',
      compute: 'BUILD_GENERAL1_SMALL',
      timeout: 60,
    },
    {
      pipeline: hello,
      stage: 'unit-tests',
      buildspec: 'buildspecs/unit-tests.yml',
      compute: 'BUILD_GENERAL1_MEDIUM',
      timeout: 20,
    },
    { pipeline: hello, stage: 'lint', buildspec: 'buildspecs/lint.yml', compute: 'BUILD_GENERAL1_SMALL', timeout: 60 },
    { pipeline: web, stage: 'build', buildspec: 'ci/build.yml', compute: 'BUILD_GENERAL1_LARGE', timeout: 60 },
    { pipeline: web, stage: 'e2e', buildspec: 'ci/e2e.yml', compute: 'BUILD_GENERAL1_SMALL', timeout: 60 },
  ];

  test('one project per stage, and no other', () => {
    template.resourceCountIs('AWS::CodeBuild::Project', stages.length);
    expect([...pipeline('hello-service').builds.projects.keys()]).toEqual(['build', 'unit-tests', 'lint']);
    expect([...pipeline('web').builds.projects.keys()]).toEqual(['build', 'e2e']);
  });

  test.each(stages)(
    '$pipeline.name/$stage: named, buildspec from source, compute, timeout, key, not privileged',
    (s) => {
      const project = pipeline(s.pipeline.name).builds.projects.get(s.stage)!;
      const props = resources[logicalId(project)]!.Properties;
      expect(props).toMatchObject({
        Name: projectName(s.pipeline.name, s.stage),
        Environment: {
          Type: 'LINUX_CONTAINER',
          Image: 'aws/codebuild/standard:7.0',
          ComputeType: s.compute,
          PrivilegedMode: false,
        },
        TimeoutInMinutes: s.timeout,
        EncryptionKey: ref(stack.platformKey.keyArn),
      });
      expect((props.Source as { BuildSpec: string }).BuildSpec).toBe(s.buildspec);
      expect(props.Artifacts).toEqual(
        s.stage === 'build'
          ? {
              Type: 'S3',
              Location: ref(stack.artifacts.bucket.bucketName),
              Path: s.pipeline.name,
              NamespaceType: 'BUILD_ID',
              Packaging: 'ZIP',
              OverrideArtifactName: true,
            }
          : { Type: 'NO_ARTIFACTS' },
      );
    },
  );

  test('sources: CodeCommit on the branch, GitHub without a webhook', () => {
    const source = (p: string) => resources[logicalId(pipeline(p).builds.projects.get('build')!)]!.Properties;
    expect(source('hello-service')).toMatchObject({
      Source: { Type: 'CODECOMMIT', Location: expect.anything() },
      SourceVersion: 'main',
    });
    expect(source('web')).toMatchObject({
      Source: { Type: 'GITHUB', Location: 'https://github.com/acme/web.git' },
      SourceVersion: 'release',
    });
    expect(source('web').Triggers).toEqual({ Webhook: false });
  });
});

describe('PipelineStateMachine', () => {
  test('a STANDARD machine from the ASL file, with the recorder substituted, logging ALL and tracing', () => {
    const machine = pipeline('hello-service').machine;
    const props = resources[logicalId(machine.stateMachine)]!.Properties;
    expect(props).toMatchObject({
      StateMachineName: 'stepline-hello-service',
      StateMachineType: 'STANDARD',
      DefinitionS3Location: { Bucket: expect.anything(), Key: expect.anything() },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: ref(machine.logGroup.logGroupArn) } }],
      },
      TracingConfiguration: { Enabled: true },
    });
    expect(props.DefinitionSubstitutions).toEqual({
      RecordProgressFunctionArn: ref(stack.functions.recordProgress.functionArn),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/vendedlogs/states/stepline-hello-service',
      RetentionInDays: 90,
    });
  });

  test("the role holds exactly the grants derived from the ASL's Task resources", () => {
    const machine = pipeline('hello-service').machine;
    const statements = policyOfRole(logicalId(machine.stateMachine.role));
    const recorder = ref(stack.functions.recordProgress.functionArn);
    const projects = [...pipeline('hello-service').builds.projects.values()].map((p) => ref(p.projectArn));
    const derived = statements.filter((s) => s.Resource !== '*');
    expect(derived).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: [recorder, { 'Fn::Join': ['', [recorder, ':*']] }],
      },
      {
        Effect: 'Allow',
        Action: ['codebuild:StartBuild', 'codebuild:StopBuild', 'codebuild:BatchGetBuilds'],
        Resource: projects,
      },
      {
        Effect: 'Allow',
        Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':events:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':rule/StepFunctionsGetEventForCodeBuildStartBuildRule',
            ],
          ],
        },
      },
    ]);
    // What remains on `*` is log delivery and X-Ray, which have no resource-level permissions.
    const onStar = statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat());
    expect(onStar.every((action) => /^(logs|xray):/.test(action))).toBe(true);
  });

  test('each machine can start only its own pipeline projects', () => {
    const machine = pipeline('web').machine;
    const statements = policyOfRole(logicalId(machine.stateMachine.role));
    const codebuildStatement = statements.find((s) => [s.Action].flat().includes('codebuild:StartBuild'));
    expect(codebuildStatement?.Resource).toEqual(
      [...pipeline('web').builds.projects.values()].map((p) => ref(p.projectArn)),
    );
  });

  test('taskResources walks nested states: the Map item processor included', () => {
    const tasks = taskResources(JSON.parse(readFileSync(PIPELINE_DEFINITION_FILE, 'utf8')));
    expect(tasks).toContainEqual({ state: 'Build', resource: 'arn:aws:states:::codebuild:startBuild.sync' });
    expect(tasks).toContainEqual({ state: 'Run test stage', resource: 'arn:aws:states:::codebuild:startBuild.sync' });
    expect(new Set(tasks.map((t) => t.resource))).toEqual(
      new Set(['arn:aws:states:::lambda:invoke', 'arn:aws:states:::codebuild:startBuild.sync']),
    );
  });

  test('a Task resource without a known grant fails synth, naming the state and the resource', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepline-asl-'));
    const file = join(dir, 'unknown.asl.json');
    writeFileSync(
      file,
      JSON.stringify({
        StartAt: 'Fan out',
        States: {
          'Fan out': {
            Type: 'Parallel',
            End: true,
            Branches: [
              {
                StartAt: 'Put item',
                States: { 'Put item': { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:putItem', End: true } },
              },
            ],
          },
        },
      }),
    );
    const scratch = new Stack(new App(), 'Scratch');
    expect(
      () =>
        new PipelineStateMachine(scratch, 'Machine', {
          pipeline: 'x1',
          definitionFile: file,
          recordProgress: lambda.Function.fromFunctionArn(
            scratch,
            'Fn',
            'arn:aws:lambda:eu-west-1:111111111111:function:f',
          ),
          projects: [codebuild.Project.fromProjectName(scratch, 'Project', 'p')],
        }),
    ).toThrow(/state "Put item" \(Resource arn:aws:states:::dynamodb:putItem\)/);
  });
});

describe('SourceTriggers', () => {
  test("a CodeCommit pipeline's rule has core/triggers' pattern and input, with retries and a DLQ", () => {
    const repository = pipeline('hello-service').builds.repository!;
    const trigger = codeCommitTrigger(hello, repository.repositoryArn);
    const rule = resources[logicalId(pipeline('hello-service').triggers.rule!)]!.Properties;
    expect(rule.EventPattern).toEqual(stack.resolve(trigger.pattern));
    const [target] = rule.Targets as Record<string, unknown>[];
    expect(target).toMatchObject({
      Arn: ref(stack.functions.startRun.functionArn),
      DeadLetterConfig: { Arn: ref(pipeline('hello-service').triggers.deadLetterQueue!.queueArn) },
      RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 4 },
    });
    const transformer = target!.InputTransformer as { InputPathsMap: Record<string, string>; InputTemplate: string };
    expect(Object.values(transformer.InputPathsMap).sort()).toEqual(
      ['$.id', '$.time', '$.detail.commitId', '$.detail.referenceName', '$.detail.repositoryName'].sort(),
    );
    // Filling the template's placeholders with their paths yields core/triggers' input template.
    const filled = transformer.InputTemplate.replace(/<([\w-]+)>/g, (_, key: string) =>
      JSON.stringify({ path: transformer.InputPathsMap[key] }),
    );
    expect(JSON.parse(filled)).toEqual(trigger.input);
  });

  test('the DLQ is encrypted and refuses requests without TLS', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('a GitHub pipeline gets no rule (yet)', () => {
    expect(pipeline('web').triggers.rule).toBeUndefined();
    template.resourceCountIs('AWS::Events::Rule', 1);
    // The rule's DLQ and the starter's; none for the GitHub pipeline.
    template.resourceCountIs('AWS::SQS::Queue', 2);
  });
});

describe('PipelineFunctions', () => {
  test('the starter keeps the run requests it failed on in its dead-letter queue', () => {
    const fn = resources[logicalId(stack.functions.startRun)]!.Properties;
    expect(fn.DeadLetterConfig).toEqual({ TargetArn: ref(stack.functions.failedRunRequests.queueArn) });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: ref(stack.functions.startRun.functionName),
      MaximumRetryAttempts: 2,
    });
  });

  test.each(['startRun', 'recordProgress'] as const)(
    '%s: nodejs22.x on arm64, traced, own log group, run table',
    (name) => {
      const fn = stack.functions[name];
      expect(resources[logicalId(fn)]!.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: expect.anything() },
        Environment: { Variables: expect.objectContaining({ RUN_TABLE_NAME: ref(stack.runStore.table.tableName) }) },
      });
    },
  );

  test("the starter's PIPELINE_CATALOG is every pipeline's state machine and stage plan", () => {
    const variables = (
      resources[logicalId(stack.functions.startRun)]!.Properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    const render = (value: unknown): string => {
      if (typeof value === 'string') return value;
      const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
      if (join) return join[1].map(render).join(join[0]);
      return `REF(${JSON.stringify(value)})`.replace(/"/g, "'");
    };
    expect(JSON.parse(render(variables.PIPELINE_CATALOG))).toEqual(
      Object.fromEntries(
        [hello, web].map((p) => [
          p.name,
          {
            stateMachineArn: render(ref(pipeline(p.name).machine.stateMachine.stateMachineArn)),
            stages: stagePlan(p),
          },
        ]),
      ),
    );
  });

  test('the recorder reads these projects, their report groups and their log groups; nothing else of CodeBuild', () => {
    const statements = policyOfRole(logicalId(stack.functions.recordProgress.role!));
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect([...new Set(actions.filter((a) => /^(codebuild|logs):/.test(a)))].sort()).toEqual(
      [
        'codebuild:BatchGetBuilds',
        'codebuild:BatchGetReports',
        'logs:CreateLogStream',
        'logs:GetLogEvents',
        'logs:PutLogEvents',
      ].sort(),
    );
    const codebuildOnStar = statements.filter(
      (s) => s.Resource === '*' && [s.Action].flat().some((a) => !a.startsWith('xray:')),
    );
    expect(codebuildOnStar).toEqual([]);
  });

  test('the starter may start the executions of each machine and read commits of the CodeCommit repository', () => {
    const statements = policyOfRole(logicalId(stack.functions.startRun.role!));
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'states:StartExecution',
      Resource: ref(pipeline('hello-service').machine.stateMachine.stateMachineArn),
    });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'codecommit:GetCommit',
      Resource: ref(pipeline('hello-service').builds.repository!.repositoryArn),
    });
  });
});

describe('SteplineStack', () => {
  test('outputs the table name and each state machine ARN', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const values = Object.values(outputs).map((o) => o.Value);
    expect(values).toContainEqual(ref(stack.runStore.table.tableName));
    for (const p of [hello, web])
      expect(values).toContainEqual(ref(pipeline(p.name).machine.stateMachine.stateMachineArn));
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  test('reports no unacknowledged finding on the stack', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(
      report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
    ).toEqual([]);
    expect(report.success).toBe(true);
  });

  test('would report a finding: an unencrypted, unlogged bucket fails', () => {
    const scratch = new Stack(new App(), 'Scratch');
    new s3.Bucket(scratch, 'Plain', { encryption: s3.BucketEncryption.UNENCRYPTED });
    const report = new AwsSolutionsChecks().validateScope(scratch);
    expect(report.success).toBe(false);
    expect(report.violations.map((v) => v.ruleName)).toEqual(
      expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']),
    );
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
