/**
 * A pipeline's release to Lambda on AWS: the platform's shared deploy function and, in each pipeline
 * with `deploy`, its deploy role, alarms (no rule: the platform's one alarm rule) and (with `createFunction`) the target and its
 * alias — synthesized as `cdk synth` does, cdk-nag on.
 */
import { join } from 'node:path';
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { readConfigFile } from '../../bin/config-file';
import { parseConfig, type PipelineConfig } from '../../core/config/stepline-config';
import {
  alarmConfiguration,
  deploymentAlarmTrigger,
  deploymentAlarms,
  extraAlarmsComposite,
} from '../../core/alarms/deployment-alarms';
import { PLATFORM_PARAMETERS, deployFunctionRoleName, deployRoleName } from '../../core/platform';
import { functionArnParameterName } from '../../core/platform-functions';
import { StsDeployRoles } from '../../lambdas/adapters/deploy-roles';
import { LONGEST_REGION, checkLimits } from '../../lib/limits';
import type { PipelineStack } from '../../lib/pipeline-stack';
import { toTargetInput } from '../../lib/source-triggers';
import { arn, statementsOfRole, synthesize, type Resource, type Synthesized, type Template } from '../support/cdk';

const ROOT = join(__dirname, '..', '..');

const pipelineConfig = (name: string, deploy?: Record<string, unknown>) => ({
  name,
  source: { type: 'codecommit', repository: name, branch: 'main' },
  build: { buildspec: 'buildspecs/build.yml' },
  ...(deploy ? { deploy } : {}),
});

const config = parseConfig({
  pipelines: [
    pipelineConfig('orders', {
      function: 'orders-api',
      alias: 'prod',
      strategy: { type: 'linear', percent: 25, bakeSeconds: 120 },
      alarms: { errors: 3, throttles: 2, p99DurationMs: 800 },
      extraAlarms: ['orders-latency-composite'],
      whenAlarmsFire: 'hotfix',
      createFunction: { runtime: 'nodejs20.x', handler: 'main.run', memoryMb: 512, timeoutSeconds: 20 },
    }),
    // An existing function: no target created, the rest as for any pipeline with `deploy`.
    pipelineConfig('billing', { function: 'billing' }),
    pipelineConfig('shop', { function: 'shop', staging: { function: 'shop-staging', smokeEvent: {} } }),
    pipelineConfig('docs'),
  ],
});
const deployOf = (p: PipelineConfig) => p.deploy!;
const orders = config.pipelines[0]!;
const billing = config.pipelines[1]!;

let synthesized: Synthesized;
beforeAll(() => {
  synthesized = synthesize(config);
});

const platform = () => synthesized.stepline.platform;
const pipeline = (name: string): PipelineStack => synthesized.stepline.pipelines.get(name)!;
const templateOf = (stack: Stack, from = synthesized): Template => from.templates.get(stack.stackName)!;
const element = (construct: IConstruct) =>
  (construct instanceof Stack ? construct : (construct.node.defaultChild ?? construct)) as CfnElement;
const logicalId = (construct: IConstruct) => element(construct).stack.getLogicalId(element(construct));
const resourceOf = (construct: IConstruct, from = synthesized): Resource =>
  templateOf(element(construct).stack, from).Resources[logicalId(construct)]!;
const ref = (stack: Stack, token: string) => stack.resolve(token) as unknown;
const platformParameter = (stack: Stack, name: string) => {
  const [id] = Object.entries(templateOf(stack).Parameters ?? {}).find(([, p]) => p.Default === name)!;
  return { Ref: id };
};
const ofType = (template: Template, type: string) =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === type);

describe('the platform: one deploy function for every pipeline', () => {
  test('its role has a fixed name and may assume only the pipelines deploy roles; no permission on any target', () => {
    const stack = platform();
    const { deploy, deployRole, failedRunRequests } = stack.functions;
    // IAM names are account-wide: the Region in the name lets a second Region of the account deploy.
    expect(resourceOf(deployRole.role).Properties.RoleName).toEqual({
      'Fn::Join': ['', ['stepline-deploy-function-', { Ref: 'AWS::Region' }]],
    });
    expect(resourceOf(deployRole.role).Properties.RoleName).toEqual(ref(stack, deployFunctionRoleName(stack.region)));
    expect(resourceOf(deploy).Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Timeout: 100,
      DeadLetterConfig: { TargetArn: ref(stack, failedRunRequests.queueArn) },
    });
    const table = ref(stack, stack.runStore.table.tableArn);
    expect(statementsOfRole(templateOf(stack), logicalId(deployRole.role))).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: expect.objectContaining({ 'Fn::GetAtt': [expect.stringMatching(/^FunctionsDeployLogs/), 'Arn'] }),
      },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: ref(stack, failedRunRequests.queueArn) },
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        Resource: [table, { 'Fn::Join': ['', [table, '/index/active']] }],
      },
      { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: arn('ssm', 'parameter/stepline/pipelines/*') },
      { Effect: 'Allow', Action: 'codebuild:BatchGetBuilds', Resource: arn('codebuild', 'project/stepline-*') },
      {
        Effect: 'Allow',
        Action: ['codebuild:BatchGetReports', 'codebuild:DescribeTestCases'],
        Resource: arn('codebuild', 'report-group/stepline-*'),
      },
      // DeploymentChanged on the platform's bus, for live consoles: that bus only.
      {
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SourcesBus/), 'Arn'] },
      },
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':iam::',
              { Ref: 'AWS::AccountId' },
              ':role/stepline-*-deploy-',
              { Ref: 'AWS::Region' },
            ],
          ],
        },
      },
      { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
    ]);
    // The name pattern the role may assume is the very name each pipeline's role gets.
    expect(deployRoleName('*', 'eu-west-1')).toBe('stepline-*-deploy-eu-west-1');
  });

  test("its ARN is published for the pipeline stacks; its alarm rules (the default bus's, the forwarded alarms' on the platform bus) and its abandoned-release rule, all the platform's, may invoke it", () => {
    const stack = platform();
    const template = templateOf(stack);
    const published = ofType(template, 'AWS::SSM::Parameter').map(([, r]) => r.Properties);
    expect(published).toContainEqual(
      expect.objectContaining({
        Name: functionArnParameterName('deploy'),
        Value: ref(stack, stack.functions.deploy.functionArn),
      }),
    );
    const permissions = ofType(template, 'AWS::Lambda::Permission')
      .map(([, r]) => r.Properties)
      .filter((p) => JSON.stringify(p.FunctionName) === JSON.stringify(ref(stack, stack.functions.deploy.functionArn)));
    const rules = stack.functions.functions.get('deploy')!.rules;
    expect(permissions).toEqual(
      ['AlarmRule', 'ForwardedAlarmRule', 'AbandonedReleaseRule'].map((id) => ({
        Action: 'lambda:InvokeFunction',
        FunctionName: ref(stack, stack.functions.deploy.functionArn),
        Principal: 'events.amazonaws.com',
        SourceArn: ref(stack, rules.get(id)!.ruleArn),
      })),
    );
  });

  test("one alarm rule on the default bus for every pipeline: deploymentAlarmTrigger's pattern and input, to the deploy function, its undeliverable events to the platform's DLQ", () => {
    const stack = platform();
    const alarmRule = stack.functions.functions.get('deploy')!.rules.get('AlarmRule')!;
    const trigger = deploymentAlarmTrigger();
    const rule = resourceOf(alarmRule).Properties;
    expect(rule.EventBusName).toBeUndefined();
    expect(rule.EventPattern).toEqual(trigger.pattern);
    // Prefix matching, never a wildcard (30 wildcard rules per bus, not adjustable).
    expect(rule.EventPattern).toMatchObject({ detail: { alarmName: [{ prefix: 'stepline-' }] } });
    const [target] = rule.Targets as Record<string, unknown>[];
    expect(target).toMatchObject({
      Arn: ref(stack, stack.functions.deploy.functionArn),
      DeadLetterConfig: { Arn: ref(stack, stack.functions.failedRunRequests.queueArn) },
      RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 4 },
    });
    // The input transformer is what the same helper makes of the trigger's input…
    const rendered = stack.resolve(toTargetInput(trigger.input).bind(alarmRule)) as {
      inputPathsMap: Record<string, string>;
      inputTemplate: string;
    };
    expect(target!.InputTransformer).toEqual({
      InputPathsMap: rendered.inputPathsMap,
      InputTemplate: rendered.inputTemplate,
    });
    // …and that transformer, filled with its paths, is core's input template: it names no pipeline.
    const transformer = target!.InputTransformer as { InputPathsMap: Record<string, string>; InputTemplate: string };
    const filled = transformer.InputTemplate.replace(/<([\w-]+)>/g, (_, key: string) =>
      JSON.stringify({ path: transformer.InputPathsMap[key] }),
    );
    expect(JSON.parse(filled)).toEqual(trigger.input);
    expect(JSON.parse(filled)).not.toHaveProperty('pipeline');
  });
});

describe("a pipeline's deploy role", () => {
  test.each([
    ['orders', 'orders-api'],
    ['billing', 'billing'],
  ])(
    '%s: trusted by the deploy function only; exactly its target, its artifacts, the key and the alarm states',
    (name, fn) => {
      const stack = pipeline(name);
      const role = stack.deployment!.role!;
      const props = resourceOf(role.role).Properties;
      expect(props.RoleName).toEqual({
        'Fn::Join': ['', [`stepline-${name}-deploy-`, { Ref: 'AWS::Region' }]],
      });
      expect(props.RoleName).toEqual(ref(stack, deployRoleName(name, stack.region)));
      expect(props.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: {
              AWS: {
                'Fn::Join': [
                  '',
                  [
                    'arn:',
                    { Ref: 'AWS::Partition' },
                    ':iam::',
                    { Ref: 'AWS::AccountId' },
                    ':role/stepline-deploy-function-',
                    { Ref: 'AWS::Region' },
                  ],
                ],
              },
            },
          },
        ],
      });
      const bucket = platformParameter(stack, PLATFORM_PARAMETERS.artifactBucketName);
      const statements = statementsOfRole(templateOf(stack), logicalId(role.role));
      expect(statements).toEqual([
        {
          Effect: 'Allow',
          Action: [
            'lambda:UpdateFunctionCode',
            'lambda:GetFunctionConfiguration',
            'lambda:PublishVersion',
            'lambda:GetAlias',
            'lambda:UpdateAlias',
            'lambda:InvokeFunction',
          ],
          Resource: [arn('lambda', `function:${fn}`), arn('lambda', `function:${fn}:*`)],
        },
        {
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', bucket, `/${name}/*`]] },
        },
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: platformParameter(stack, PLATFORM_PARAMETERS.platformKeyArn),
        },
        { Effect: 'Allow', Action: 'cloudwatch:DescribeAlarms', Resource: '*' },
      ]);
      expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.includes('*'))).toEqual([]);
      // The `*` statement sits alone in a policy of its own.
      const alarmStates = role.anyResourcePolicies.get('AlarmStates')!;
      expect((resourceOf(alarmStates).Properties.PolicyDocument as { Statement: unknown[] }).Statement).toHaveLength(1);
    },
  );

  test('a pipeline without deploy has no deployment: no role, alarm, rule or function of its own', () => {
    const stack = pipeline('docs');
    expect(stack.deployment).toBeUndefined();
    const template = templateOf(stack);
    for (const type of ['AWS::CloudWatch::Alarm', 'AWS::Lambda::Function', 'AWS::Lambda::Alias']) {
      expect(ofType(template, type)).toEqual([]);
    }
    expect(ofType(template, 'AWS::Events::Rule')).toEqual([]);
  });
});

describe('staging', () => {
  it("adds exactly the staging function and its qualifiers to the pipeline's deploy role", () => {
    const stack = pipeline('shop');
    const statements = statementsOfRole(
      templateOf(stack),
      stack.getLogicalId(stack.deployment!.role!.role.node.defaultChild as CfnElement),
    );
    const staging = statements.filter((s) => JSON.stringify(s.Resource).includes('function:shop-staging'));
    expect(staging).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'lambda:UpdateFunctionCode',
          'lambda:GetFunctionConfiguration',
          'lambda:PublishVersion',
          'lambda:GetAlias',
          'lambda:UpdateAlias',
          'lambda:InvokeFunction',
        ],
        Resource: [arn('lambda', 'function:shop-staging'), arn('lambda', 'function:shop-staging:*')],
      },
    ]);
    // A pipeline without staging has no such statement.
    const orders = pipeline('orders');
    expect(
      JSON.stringify(
        statementsOfRole(
          templateOf(orders),
          orders.getLogicalId(orders.deployment!.role!.role.node.defaultChild as CfnElement),
        ),
      ),
    ).not.toContain('staging');
  });
});

describe("a pipeline's alarms and alarm rule", () => {
  test.each([orders, billing])('$name: the alarms deploymentAlarms defines, configured by alarmConfiguration', (p) => {
    const { deployment } = pipeline(p.name);
    const expected = deploymentAlarms(p.name, deployOf(p));
    expect([...deployment!.alarms.keys()]).toEqual(expected.map((a) => a.name));
    for (const alarm of expected) {
      expect(resourceOf(deployment!.alarms.get(alarm.name)!).Properties).toEqual({
        ...alarmConfiguration(alarm),
        AlarmDescription: expect.any(String),
      });
    }
  });

  test("orders' alarms: its thresholds, the p99 duration as an ExtendedStatistic (no Statistic)", () => {
    const alarms = pipeline('orders').deployment!.alarms;
    const props = (name: string) => resourceOf(alarms.get(name)!).Properties;
    const common = {
      Namespace: 'AWS/Lambda',
      Dimensions: [
        { Name: 'FunctionName', Value: 'orders-api' },
        { Name: 'Resource', Value: 'orders-api:prod' },
      ],
      Period: 60,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    };
    expect([...alarms.keys()]).toEqual([
      'stepline-orders-errors',
      'stepline-orders-throttles',
      'stepline-orders-p99-duration',
    ]);
    expect(props('stepline-orders-errors')).toEqual({
      ...common,
      AlarmName: 'stepline-orders-errors',
      AlarmDescription: 'stepline: rolls back a deployment to orders-api:prod when Errors reach 3',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Threshold: 3,
    });
    expect(props('stepline-orders-throttles')).toEqual({
      ...common,
      AlarmName: 'stepline-orders-throttles',
      AlarmDescription: 'stepline: rolls back a deployment to orders-api:prod when Throttles reach 2',
      MetricName: 'Throttles',
      Statistic: 'Sum',
      Threshold: 2,
    });
    expect(props('stepline-orders-p99-duration')).toEqual({
      ...common,
      AlarmName: 'stepline-orders-p99-duration',
      AlarmDescription: 'stepline: rolls back a deployment to orders-api:prod when Duration reach 800',
      MetricName: 'Duration',
      ExtendedStatistic: 'p99',
      Threshold: 800,
    });
  });

  test('billing, without a p99 threshold, has no duration alarm; its errors and throttles alarm at 1', () => {
    const alarms = pipeline('billing').deployment!.alarms;
    expect([...alarms.keys()]).toEqual(['stepline-billing-errors', 'stepline-billing-throttles']);
    for (const name of alarms.keys()) {
      expect(resourceOf(alarms.get(name)!).Properties).toMatchObject({ Statistic: 'Sum', Threshold: 1 });
    }
  });

  test("orders: its extraAlarms stand behind one composite alarm named with stepline's prefix; billing, without, has none", () => {
    const composite = extraAlarmsComposite('orders', deployOf(orders))!;
    expect(composite.name).toBe('stepline-orders-extra-alarms');
    expect(resourceOf(pipeline('orders').deployment!.extraAlarms!).Properties).toEqual({
      AlarmName: 'stepline-orders-extra-alarms',
      AlarmRule: 'ALARM("orders-latency-composite")',
      ActionsEnabled: false,
      AlarmDescription:
        'stepline: in ALARM while any of pipeline "orders"\'s extraAlarms is (orders-latency-composite); rolls back its deployment',
    });
    expect(pipeline('billing').deployment!.extraAlarms).toBeUndefined();
    expect(ofType(templateOf(pipeline('billing')), 'AWS::CloudWatch::CompositeAlarm')).toEqual([]);
  });

  test.each([orders, billing])('$name: no rule and no Lambda permission in the pipeline stack', (p) => {
    const template = templateOf(pipeline(p.name));
    expect(ofType(template, 'AWS::Events::Rule')).toEqual([]);
    expect(ofType(template, 'AWS::Lambda::Permission')).toEqual([]);
  });
});

describe('the state machine and the deploy function', () => {
  test('DeployFunctionArn is substituted from the platform parameter; the role invokes exactly the recorder, the gate and the deploy function', () => {
    for (const name of ['orders', 'docs']) {
      const stack = pipeline(name);
      const props = resourceOf(stack.machine.stateMachine).Properties;
      expect(props.DefinitionSubstitutions).toEqual({
        RecordProgressFunctionArn: platformParameter(stack, functionArnParameterName('recordProgress')),
        ApprovalGateFunctionArn: platformParameter(stack, functionArnParameterName('approvalGate')),
        DeployFunctionArn: platformParameter(stack, functionArnParameterName('deploy')),
      });
      const invoke = statementsOfRole(templateOf(stack), logicalId(stack.machine.role.role)).filter((s) =>
        [s.Action].flat().some((a) => a.startsWith('lambda:')),
      );
      expect(invoke).toEqual([
        {
          Effect: 'Allow',
          Action: 'lambda:InvokeFunction',
          Resource: [
            // In the order the definition first invokes them: staging comes before the gate.
            platformParameter(stack, functionArnParameterName('recordProgress')),
            platformParameter(stack, functionArnParameterName('deploy')),
            platformParameter(stack, functionArnParameterName('approvalGate')),
          ],
        },
      ]);
    }
  });
});

describe('createFunction: the target and its alias', () => {
  const example = () => readConfigFile(join(ROOT, 'stepline.config.ts'));

  test('the example: hello-service with placeholder code answering 503, traced, its own log group, alias live on version 1', () => {
    const app = synthesize(example());
    const stack = app.stepline.pipelines.get('hello-service')!;
    const target = stack.deployment!.target!;
    const fn = resourceOf(target.function, app).Properties;
    expect(fn).toMatchObject({
      FunctionName: 'hello-service',
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: 10,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogGroup: ref(stack, target.logGroup.logGroupName) },
      Role: { 'Fn::GetAtt': [logicalId(target.role.role), 'Arn'] },
    });
    const code = (fn.Code as { ZipFile: string }).ZipFile;
    expect(code).toContain('exports["handler"]');
    expect(code).toContain('statusCode: 503');
    expect(code).toContain('not deployed yet');
    expect(resourceOf(target.logGroup, app)).toMatchObject({
      DeletionPolicy: 'RetainExceptOnCreate',
      Properties: { RetentionInDays: 90 },
    });
    const template = templateOf(stack, app);
    expect(ofType(template, 'AWS::Lambda::Version').map(([id, r]) => [id, r.Properties])).toEqual([
      [
        logicalId(target.firstVersion),
        { FunctionName: { Ref: logicalId(target.function) }, Description: expect.any(String) },
      ],
    ]);
    expect(ofType(template, 'AWS::Lambda::Alias').map(([, r]) => r.Properties)).toEqual([
      {
        FunctionName: { Ref: logicalId(target.function) },
        Name: 'live',
        FunctionVersion: { 'Fn::GetAtt': [logicalId(target.firstVersion), 'Version'] },
        Description: expect.any(String),
      },
    ]);
    // The target's own role: its logs and X-Ray, nothing else.
    expect(statementsOfRole(template, logicalId(target.role.role))).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: ref(stack, target.logGroup.logGroupArn),
      },
      { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
    ]);
    // The pre-traffic event is what examples/hello-service's handler reads (payload format 2.0).
    expect(stack.pipeline.deploy!.preTraffic!.event).toMatchObject({
      rawPath: '/',
      requestContext: { http: { method: 'GET' } },
    });
  });

  test('a configuration change leaves version 1 and the alias untouched: a stack update never moves the alias back', () => {
    const base = example();
    const changed = parseConfig({
      pipelines: base.pipelines.map((p) => ({
        ...p,
        deploy: { ...p.deploy!, createFunction: { memoryMb: 1024, timeoutSeconds: 30 } },
      })),
    });
    const [before, after] = [synthesize(base, { nag: false }), synthesize(changed, { nag: false })];
    const pick = (s: Synthesized) => {
      const template = s.templates.get('Stepline-hello-service')!;
      return ofType(template, 'AWS::Lambda::Version')
        .concat(ofType(template, 'AWS::Lambda::Alias'))
        .map(([id, r]) => [id, r.Properties]);
    };
    expect(pick(after)).toEqual(pick(before));
    const fn = (s: Synthesized) =>
      ofType(s.templates.get('Stepline-hello-service')!, 'AWS::Lambda::Function')[0]![1].Properties;
    expect([fn(before).MemorySize, fn(after).MemorySize]).toEqual([256, 1024]);
  });

  test('the runtime and handler come from the config; the placeholder exports the handler', () => {
    const target = pipeline('orders').deployment!.target!;
    const fn = resourceOf(target.function).Properties;
    expect(fn).toMatchObject({
      FunctionName: 'orders-api',
      Runtime: 'nodejs20.x',
      Handler: 'main.run',
      MemorySize: 512,
      Timeout: 20,
    });
    expect((fn.Code as { ZipFile: string }).ZipFile).toContain('exports["run"]');
    expect(pipeline('billing').deployment!.target).toBeUndefined();
  });
});

describe('limits', () => {
  test('the longest pipeline name still gives a deploy role name AWS accepts', () => {
    const name = `p${'x'.repeat(31)}`;
    const app = synthesize(parseConfig({ pipelines: [pipelineConfig(name, { function: 'f' })] }), { nag: false });
    expect(checkLimits(app.stepline)).toEqual([]);
    // With the longest Region there is, the name is exactly IAM's 64 characters.
    expect(deployRoleName(name, LONGEST_REGION)).toHaveLength(64);
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  test('reports no unacknowledged finding on the platform and the pipelines with deploy', () => {
    const example = synthesize(readConfigFile(join(ROOT, 'stepline.config.ts')));
    const stacks = [
      platform(),
      pipeline('orders'),
      pipeline('billing'),
      pipeline('docs'),
      example.stepline.pipelines.get('hello-service')!,
    ];
    for (const stack of stacks) {
      const report = new AwsSolutionsChecks().validateScope(stack);
      expect(
        report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
      ).toEqual([]);
    }
  });

  test('would report a finding: a "*" grant added to a deploy role is not covered by its acknowledgements', () => {
    const fresh = synthesize(config, { nag: false });
    fresh.stepline.pipelines
      .get('orders')!
      .deployment!.role!.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['lambda:UpdateFunctionCode'], resources: ['*'] }),
      );
    const report = new AwsSolutionsChecks().validateScope(fresh.stepline.pipelines.get('orders')!);
    expect(report.violations.map((v) => [v.ruleName, v.violatingResources.map((r) => r.constructPath)])).toEqual([
      ['AwsSolutions-IAM5[Resource::*]', ['Stepline-orders/Deployment/Role/Role/DefaultPolicy/Resource']],
    ]);
  });

  test('would report a finding on a fresh stack too: the checks run', () => {
    const stack = new Stack(new App(), 'Scratch');
    new iam.Role(stack, 'Wide', { assumedBy: new iam.AccountRootPrincipal() }).addToPolicy(
      new iam.PolicyStatement({ actions: ['lambda:*'], resources: ['*'] }),
    );
    expect(new AwsSolutionsChecks().validateScope(stack).success).toBe(false);
  });
});

describe('lambdas/deploy.ts: the pipeline role, assumed per pipeline', () => {
  const sts = mockClient(STSClient);
  afterEach(() => sts.reset());

  test('assumes stepline-<pipeline>-deploy-<Region> in its own account and Region, the run as session name, and reuses it until 5 minutes before expiry', async () => {
    let now = new Date('2026-11-25T10:00:00Z');
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Arn: 'arn:aws:sts::111122223333:assumed-role/stepline-deploy-function-eu-west-1/x' });
    sts.on(AssumeRoleCommand).callsFake(() => ({
      Credentials: {
        AccessKeyId: 'AKIA',
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        Expiration: new Date(now.getTime() + 60 * 60 * 1000),
      },
    }));
    const roles = new StsDeployRoles(new STSClient({ region: 'eu-west-1' }), () => now);
    const deploy = parseConfig({
      pipelines: [
        {
          name: 'orders',
          source: { type: 'codecommit', repository: 'orders', branch: 'main' },
          build: { buildspec: 'buildspec.yml' },
          deploy: { function: 'orders' },
        },
      ],
    }).pipelines[0]!.deploy!;
    const clientsFor = (pipeline: string, session: string) =>
      roles.clientsFor({ pipeline, deploy, target: 'production' }, session);
    const first = await clientsFor('orders', 'run-1');
    expect(first.lambda).toBeInstanceOf(LambdaClient);
    expect(await clientsFor('orders', 'run-2')).toBe(first);
    await clientsFor('billing', 'run:3');
    now = new Date(now.getTime() + 56 * 60 * 1000);
    expect(await clientsFor('orders', 'run-4')).not.toBe(first);
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
      { RoleArn: 'arn:aws:iam::111122223333:role/stepline-orders-deploy-eu-west-1', RoleSessionName: 'run-1' },
      { RoleArn: 'arn:aws:iam::111122223333:role/stepline-billing-deploy-eu-west-1', RoleSessionName: 'run-3' },
      { RoleArn: 'arn:aws:iam::111122223333:role/stepline-orders-deploy-eu-west-1', RoleSessionName: 'run-4' },
    ]);
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
    // The clients sign with the assumed role's credentials.
    const credentials = await first.lambda.config.credentials();
    expect(credentials).toMatchObject({ accessKeyId: 'AKIA', sessionToken: 'token' });
  });
});
