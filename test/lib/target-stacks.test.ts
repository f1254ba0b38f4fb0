/**
 * Releases into other accounts, on the AWS side: a platform in account 111111111111 whose pipeline "web"
 * stages in account 222222222222 and releases in 333333333333, "api" releases in 333333333333 too, and
 * "home" in the platform's own account. Synthesized with cdk-nag as `cdk synth` does; each template read
 * against what the product's core says (core/deployment/targets.ts) and written out where a value is the
 * point of the test.
 */
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { parseConfig, type SteplineConfig } from '../../core/config/stepline-config';
import { deployRoleTrustPolicy } from '../../core/deployment/targets';
import { buildStepline, type Stepline } from '../../lib/app';
import { PlatformLimitError } from '../../lib/errors';
import { CDK_CONTEXT, statementsOfRole, type Resource, type Statement, type Template } from '../support/cdk';

const PLATFORM = { account: '111111111111', region: 'eu-west-1' };
const STAGING = '222222222222';
const PRODUCTION = '333333333333';

function pipelineWith(name: string, deploy?: Record<string, unknown>) {
  return {
    name,
    source: { type: 'codecommit', repository: name, branch: 'main' },
    build: { buildspec: 'buildspec.yml' },
    ...(deploy ? { deploy } : {}),
  };
}

const BASE = [
  pipelineWith('web', {
    function: 'web',
    account: PRODUCTION,
    staging: { function: 'web-staging', account: STAGING, smokeEvent: {} },
  }),
  pipelineWith('api', { function: 'api', account: PRODUCTION, extraAlarms: ['api-latency'] }),
  pipelineWith('home', { function: 'home' }),
];

interface Built {
  readonly stepline: Stepline;
  readonly templates: ReadonlyMap<string, Template>;
}

function build(config: SteplineConfig, options: { nag?: boolean } = {}): Built {
  const app = new App({ context: CDK_CONTEXT });
  const stepline = buildStepline(app, config, { env: PLATFORM, nag: options.nag ?? false });
  const assembly = app.synth();
  return {
    stepline,
    templates: new Map(assembly.stacks.map((s) => [s.stackName, s.template as Template])),
  };
}

const config = parseConfig({ pipelines: BASE });
let built: Built;
beforeAll(() => {
  built = build(config);
});

const templateOf = (stackName: string) => built.templates.get(stackName)!;
const logicalId = (construct: IConstruct) =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
const ofType = (template: Template, type: string): Resource[] =>
  Object.values(template.Resources).filter((r) => r.Type === type);
const partitionArn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });
const targetStack = (account: string) => built.stepline.targets.get(`Stepline-target-${account}-eu-west-1`)!;
const PLATFORM_BUS = partitionArn(':events:eu-west-1:111111111111:event-bus/stepline');

describe('the target stacks', () => {
  it('are one per target account, in the platform Region, each with that account as its environment', () => {
    expect([...built.stepline.targets.keys()]).toEqual([
      'Stepline-target-222222222222-eu-west-1',
      'Stepline-target-333333333333-eu-west-1',
    ]);
    expect(targetStack(STAGING).account).toBe(STAGING);
    expect(targetStack(PRODUCTION).account).toBe(PRODUCTION);
    expect(targetStack(PRODUCTION).region).toBe('eu-west-1');
  });

  it.each([
    [STAGING, ['web']],
    [PRODUCTION, ['web', 'api']],
  ])(
    'account %s: a deploy role per releasing pipeline, trusted by exactly the platform deploy function role',
    (account, pipelines) => {
      const stack = targetStack(account);
      const roles = ofType(templateOf(stack.stackName), 'AWS::IAM::Role').filter((r) =>
        (r.Properties.RoleName as string | undefined)?.endsWith('-deploy-eu-west-1'),
      );
      expect(roles.map((r) => r.Properties.RoleName)).toEqual(pipelines.map((p) => `stepline-${p}-deploy-eu-west-1`));
      for (const role of roles) {
        expect(role.Properties.AssumeRolePolicyDocument).toEqual({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'sts:AssumeRole',
              Principal: { AWS: partitionArn(':iam::111111111111:role/stepline-deploy-function-eu-west-1') },
            },
          ],
        });
        // What local mode's STS evaluates is the same document.
        expect(role.Properties.AssumeRolePolicyDocument).toEqual(
          stack.resolve(deployRoleTrustPolicy(stack.partition, PLATFORM)),
        );
      }
    },
  );

  it("gives web's role in the staging account exactly the staging function, its artifacts in the platform account and the alarm states", () => {
    const stack = targetStack(STAGING);
    const role = stack.deployments.get('web')!.role;
    const statements = statementsOfRole(templateOf(stack.stackName), logicalId(role.role));
    const stagingFunction = partitionArn(':lambda:eu-west-1:222222222222:function:web-staging');
    const stagingQualifiers = partitionArn(':lambda:eu-west-1:222222222222:function:web-staging:*');
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
        Resource: [stagingFunction, stagingQualifiers],
      },
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: partitionArn(':s3:::*/web/*'),
        Condition: { StringEquals: { 'aws:ResourceAccount': '111111111111' } },
      },
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: partitionArn(':kms:eu-west-1:111111111111:key/*'),
        Condition: { StringEquals: { 'aws:ResourceAccount': '111111111111' } },
      },
      { Effect: 'Allow', Action: 'cloudwatch:DescribeAlarms', Resource: '*' },
    ]);
    expect(stack.deployments.get('web')!.alarms.size).toBe(0);
  });

  it('holds the alarms of the pipelines whose production is there, as the pipeline stack would', () => {
    const production = templateOf(targetStack(PRODUCTION).stackName);
    expect(
      ofType(production, 'AWS::CloudWatch::Alarm')
        .map((a) => a.Properties.AlarmName)
        .sort(),
    ).toEqual(['stepline-api-errors', 'stepline-api-throttles', 'stepline-web-errors', 'stepline-web-throttles']);
    expect(ofType(production, 'AWS::CloudWatch::CompositeAlarm').map((a) => a.Properties.AlarmName)).toEqual([
      'stepline-api-extra-alarms',
    ]);
    expect(ofType(templateOf(targetStack(STAGING).stackName), 'AWS::CloudWatch::Alarm')).toEqual([]);
    // Not in the pipeline stacks, whose targets are elsewhere; "home" keeps its own.
    expect(ofType(built.templates.get('Stepline-web')!, 'AWS::CloudWatch::Alarm')).toEqual([]);
    expect(built.stepline.pipelines.get('web')!.deployment!.role).toBeUndefined();
    expect(built.stepline.pipelines.get('api')!.deployment!.role).toBeUndefined();
    expect(built.stepline.pipelines.get('home')!.deployment!.role).toBeDefined();
    expect(ofType(built.templates.get('Stepline-home')!, 'AWS::CloudWatch::Alarm')).toHaveLength(2);
  });

  it.each([STAGING, PRODUCTION])(
    "account %s: one rule forwards stepline's alarms into ALARM, unchanged, to the platform bus, through a role that may only put events there",
    (account) => {
      const stack = targetStack(account);
      const template = templateOf(stack.stackName);
      const rules = ofType(template, 'AWS::Events::Rule');
      expect(rules).toHaveLength(1);
      const { Properties: rule } = rules[0]!;
      expect(rule.Name).toBe('stepline-alarm-forwarding');
      expect(rule.EventBusName).toBeUndefined();
      expect(rule.EventPattern).toEqual({
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { alarmName: [{ prefix: 'stepline-' }], state: { value: ['ALARM'] } },
      });
      const targets = rule.Targets as Record<string, unknown>[];
      expect(targets).toHaveLength(1);
      expect(targets[0]).toEqual({
        Arn: PLATFORM_BUS,
        Id: expect.any(String),
        RoleArn: { 'Fn::GetAtt': [logicalId(stack.forwarding.role.role), 'Arn'] },
      });
      const role = template.Resources[logicalId(stack.forwarding.role.role)]!;
      expect((role.Properties.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement).toEqual([
        { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'events.amazonaws.com' } },
      ]);
      expect(statementsOfRole(template, logicalId(stack.forwarding.role.role))).toEqual([
        { Effect: 'Allow', Action: 'events:PutEvents', Resource: PLATFORM_BUS },
      ]);
    },
  );

  it('are cdk-nag clean, and a "*" grant added to a target deploy role is reported', () => {
    const checked = build(config, { nag: false });
    for (const stack of [...checked.stepline.targets.values(), checked.stepline.platform]) {
      const report = new AwsSolutionsChecks().validateScope(stack);
      expect(
        report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
      ).toEqual([]);
    }
    const production = checked.stepline.targets.get('Stepline-target-333333333333-eu-west-1')!;
    production.deployments
      .get('api')!
      .role.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['lambda:UpdateFunctionCode'], resources: ['*'] }),
      );
    expect(new AwsSolutionsChecks().validateScope(production).violations.map((v) => v.ruleName)).toEqual([
      'AwsSolutions-IAM5[Resource::*]',
    ]);
  });
});

describe("the platform's side", () => {
  const platformTemplate = () => templateOf('Stepline');
  const ROLES = [
    ['web', STAGING],
    ['web', PRODUCTION],
    ['api', PRODUCTION],
  ] as const;
  const roleArn = (pipeline: string, account: string) =>
    partitionArn(`:iam::${account}:role/stepline-${pipeline}-deploy-eu-west-1`);

  it('the bus accepts alarm state changes from exactly the target accounts', () => {
    const policies = ofType(platformTemplate(), 'AWS::Events::EventBusPolicy');
    expect(policies).toHaveLength(1);
    expect(policies[0]!.Properties).toEqual({
      EventBusName: { Ref: logicalId(built.stepline.platform.sources.bus) },
      StatementId: 'TargetAccountsForwardAlarmStateChanges',
      Statement: {
        Effect: 'Allow',
        Principal: {
          AWS: [partitionArn(':iam::222222222222:root'), partitionArn(':iam::333333333333:root')],
        },
        Action: 'events:PutEvents',
        Resource: PLATFORM_BUS,
        Condition: {
          'ForAllValues:StringEquals': { 'events:source': ['aws.cloudwatch'] },
          StringEquals: { 'events:detail-type': 'CloudWatch Alarm State Change' },
        },
      },
    });
  });

  it('the artifact bucket lets exactly the target deploy roles read their own pipeline prefix', () => {
    const bucket = built.stepline.platform.artifacts.bucket;
    const policy = ofType(platformTemplate(), 'AWS::S3::BucketPolicy').find(
      (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: logicalId(bucket) }),
    )!;
    const granted = (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement.filter(
      (s) => s.Effect === 'Allow',
    );
    expect(granted).toEqual(
      ROLES.map(([pipeline, account], index) => ({
        Sid: `TargetDeployRole${index}${account}`,
        Effect: 'Allow',
        Principal: { AWS: partitionArn(`:iam::${account}:root`) },
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(bucket), 'Arn'] }, `/${pipeline}/*`]] },
        Condition: { ArnEquals: { 'aws:PrincipalArn': roleArn(pipeline, account) } },
      })),
    );
  });

  it('the platform key lets exactly the target deploy roles decrypt, beside the account', () => {
    const key = platformTemplate().Resources[logicalId(built.stepline.platform.platformKey)]!;
    const statements = (key.Properties.KeyPolicy as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements.slice(1)).toEqual(
      ROLES.map(([pipeline, account], index) => ({
        Sid: `TargetDeployRole${index}${account}`,
        Effect: 'Allow',
        Principal: { AWS: partitionArn(`:iam::${account}:root`) },
        Action: 'kms:Decrypt',
        Resource: '*',
        Condition: { ArnEquals: { 'aws:PrincipalArn': roleArn(pipeline, account) } },
      })),
    );
    // The first is CDK's default: the platform account itself.
    expect(statements[0]!.Principal).toEqual({ AWS: partitionArn(':iam::111111111111:root') });
  });

  it('the deploy function may assume exactly the target deploy roles besides its own account pattern', () => {
    const role = built.stepline.platform.functions.deployRole;
    const assume = statementsOfRole(platformTemplate(), logicalId(role.role)).filter(
      (s) => s.Action === 'sts:AssumeRole',
    );
    expect(assume).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Resource: [
          partitionArn(':iam::111111111111:role/stepline-*-deploy-eu-west-1'),
          ...ROLES.map(([pipeline, account]) => roleArn(pipeline, account)),
        ],
      },
    ]);
  });

  it('a rule on the platform bus hands forwarded alarm events to the deploy function as the default bus rule does, with their account', () => {
    const rules = built.stepline.platform.functions.functions.get('deploy')!.rules;
    const [own, forwarded] = [rules.get('AlarmRule')!, rules.get('ForwardedAlarmRule')!].map(
      (rule) => platformTemplate().Resources[logicalId(rule)]!.Properties,
    );
    expect(forwarded!.EventBusName).toEqual({ Ref: logicalId(built.stepline.platform.sources.bus) });
    expect(own!.EventBusName).toBeUndefined();
    expect(forwarded!.EventPattern).toEqual(own!.EventPattern);
    type Transformer = { InputPathsMap: Record<string, string>; InputTemplate: string };
    const targetOf = (rule: Record<string, unknown>) =>
      (rule.Targets as { InputTransformer: Transformer; Arn: unknown }[])[0]!;
    expect(targetOf(forwarded!).Arn).toEqual(targetOf(own!).Arn);
    // The own rule's input, and the account the alarm was forwarded from.
    expect(targetOf(forwarded!).InputTransformer.InputPathsMap).toEqual({
      ...targetOf(own!).InputTransformer.InputPathsMap,
      account: '$.account',
    });
    expect(JSON.parse(targetOf(forwarded!).InputTransformer.InputTemplate.replace(/<([\w-]+)>/g, '"$1"'))).toEqual({
      ...JSON.parse(targetOf(own!).InputTransformer.InputTemplate.replace(/<([\w-]+)>/g, '"$1"')),
      forwardedFrom: 'account',
    });
  });
});

describe('releases into another Region', () => {
  // web releases in account 333333333333 in us-east-1, and stages in the platform's own account in us-west-2.
  let regions: Built;
  beforeAll(() => {
    regions = build(
      parseConfig({
        pipelines: [
          pipelineWith('web', {
            function: 'web',
            account: PRODUCTION,
            region: 'us-east-1',
            staging: { function: 'web-staging', region: 'us-west-2', smokeEvent: {} },
          }),
        ],
      }),
    );
  });
  const stackIn = (account: string, region: string) =>
    regions.stepline.targets.get(`Stepline-target-${account}-${region}`)!;
  const forwardingOf = (account: string, region: string) => {
    const stack = stackIn(account, region);
    const template = regions.templates.get(stack.stackName)!;
    const rules = ofType(template, 'AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    return {
      targets: rules[0]!.Properties.Targets as Record<string, unknown>[],
      statements: statementsOfRole(template, logicalId(stack.forwarding.role.role)),
    };
  };

  it("are target stacks in the target's Region, holding the deploy role named after that Region", () => {
    expect([...regions.stepline.targets.keys()]).toEqual([
      'Stepline-target-111111111111-us-west-2',
      'Stepline-target-333333333333-us-east-1',
    ]);
    expect(stackIn(PRODUCTION, 'us-east-1').region).toBe('us-east-1');
    expect(stackIn(PLATFORM.account, 'us-west-2').region).toBe('us-west-2');
    expect(
      ofType(regions.templates.get('Stepline-target-333333333333-us-east-1')!, 'AWS::IAM::Role')
        .map((r) => r.Properties.RoleName)
        .filter(Boolean),
    ).toEqual(['stepline-web-deploy-us-east-1']);
  });

  it("let the deploy role read the artifacts and decrypt them with the platform key in the platform's Region", () => {
    const stack = stackIn(PRODUCTION, 'us-east-1');
    const statements = statementsOfRole(
      regions.templates.get(stack.stackName)!,
      logicalId(stack.deployments.get('web')!.role.role),
    );
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: partitionArn(':s3:::*/web/*'),
      Condition: { StringEquals: { 'aws:ResourceAccount': '111111111111' } },
    });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: partitionArn(':kms:eu-west-1:111111111111:key/*'),
      Condition: { StringEquals: { 'aws:ResourceAccount': '111111111111' } },
    });
  });

  it("forward alarms from another account to the platform's stepline bus in the platform's Region", () => {
    const { targets, statements } = forwardingOf(PRODUCTION, 'us-east-1');
    expect(targets.map((t) => t.Arn)).toEqual([PLATFORM_BUS]);
    expect(statements).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: PLATFORM_BUS }]);
  });

  it("forward alarms from the platform's own account to its default bus in the platform's Region, where its own alarm rule takes them", () => {
    const defaultBus = partitionArn(':events:eu-west-1:111111111111:event-bus/default');
    const { targets, statements } = forwardingOf(PLATFORM.account, 'us-west-2');
    expect(targets.map((t) => t.Arn)).toEqual([defaultBus]);
    expect(statements).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: defaultBus }]);
  });

  it('are cdk-nag clean', () => {
    for (const stack of [...regions.stepline.targets.values(), regions.stepline.platform]) {
      expect(new AwsSolutionsChecks().validateScope(stack).violations.map((v) => v.ruleName)).toEqual([]);
    }
  });
});

describe('adding a target account', () => {
  it('changes no pipeline stack of the other pipelines, nor the target stacks already there', () => {
    const more = build(
      parseConfig({ pipelines: [...BASE, pipelineWith('jobs', { function: 'jobs', account: '444444444444' })] }),
    );
    for (const name of ['Stepline-web', 'Stepline-api', 'Stepline-home', ...built.stepline.targets.keys()]) {
      expect(more.templates.get(name)).toEqual(built.templates.get(name));
    }
    expect([...more.stepline.targets.keys()]).toContain('Stepline-target-444444444444-eu-west-1');
  });
});

describe('targets stepline refuses at synth', () => {
  const refusal = (pipelines: unknown[], env?: typeof PLATFORM) => {
    try {
      buildStepline(new App({ context: CDK_CONTEXT }), parseConfig({ pipelines }), { env, nag: false });
    } catch (error) {
      expect(error).toBeInstanceOf(PlatformLimitError);
      return (error as PlatformLimitError).message;
    }
    throw new Error('expected the app to refuse the config');
  };

  it("a target outside the platform's Region when the platform is in GovCloud, where no events cross Regions, naming the field", () => {
    expect(
      refusal([pipelineWith('web', { function: 'web', account: PRODUCTION, region: 'us-gov-east-1' })], {
        account: PLATFORM.account,
        region: 'us-gov-west-1',
      }),
    ).toMatch(
      /pipeline "web": deploy\.region us-gov-east-1 is not the platform's Region us-gov-west-1: EventBridge routes no events between Regions/,
    );
  });

  it('createFunction in another account, naming the field', () => {
    expect(
      refusal([pipelineWith('web', { function: 'web', account: PRODUCTION, createFunction: {} })], PLATFORM),
    ).toMatch(/pipeline "web": deploy\.createFunction creates the function in the platform's account/);
  });

  it("a target's account without the platform's account and Region to compare it with", () => {
    expect(refusal([pipelineWith('web', { function: 'web', account: PRODUCTION })])).toMatch(
      /pipeline "web": deploy\.account\/deploy\.region name a target's place, which needs the platform's account and Region/,
    );
  });
});
