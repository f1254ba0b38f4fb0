/**
 * Account quotas in stepline's words (core/quotas.ts): what the stacks need of each quota, per account, Region and
 * bus; the verdict against the defaults (synth) and against an account's applied quotas and use (the doctor).
 */
import {
  ACCOUNT_QUOTAS,
  countQuotaNeeds,
  defaultIn,
  formatQuotaReport,
  hardExceeded,
  judgeAgainstAccount,
  judgeAgainstDefaults,
  quotaById,
  type StackResources,
  type TemplateResource,
} from '../../core/quotas';

/** A stack of `n` resources of each given type. */
function stack(name: string, types: Record<string, number>, env: { account?: string; region?: string } = {}) {
  const resources: Record<string, TemplateResource> = {};
  for (const [type, n] of Object.entries(types))
    for (let i = 0; i < n; i++) resources[`${type.replace(/\W/g, '')}${i}`] = { Type: type };
  return { stackName: name, ...env, resources } satisfies StackResources;
}

function rules(n: number, properties: Record<string, unknown> = {}): Record<string, TemplateResource> {
  return Object.fromEntries(
    Array.from({ length: n }, (_, i) => [`Rule${i}`, { Type: 'AWS::Events::Rule', Properties: properties }]),
  );
}

const ENV = { account: '111122223333', region: 'eu-west-1' };

describe('the quota table', () => {
  test('every quota says its default, whether it can be raised, its page, and how to raise it when it can', () => {
    for (const quota of ACCOUNT_QUOTAS) {
      expect(quota.defaultValue).toBeGreaterThan(0);
      expect(quota.source).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
      if (quota.serviceQuota) expect(quota.serviceQuota.quotaCode).toMatch(/^L-[0-9A-F]{8}$/);
      if (!quota.adjustable) expect(quota.serviceQuota).toBeUndefined();
    }
  });

  test("EventBridge's rules per bus default to 300, and to 100 in af-south-1 and eu-south-1; unknown Region: the lowest", () => {
    const rulesPerBus = quotaById('eventbridge-rules-per-bus');
    expect(defaultIn(rulesPerBus, 'us-east-1')).toBe(300);
    expect(defaultIn(rulesPerBus, 'af-south-1')).toBe(100);
    expect(defaultIn(rulesPerBus, 'eu-south-1')).toBe(100);
    expect(defaultIn(rulesPerBus, undefined)).toBe(100);
    expect(defaultIn(quotaById('iam-roles'), undefined)).toBe(1000);
  });
});

describe('countQuotaNeeds', () => {
  test('counts each kind across the stacks of an account and Region, rules per bus, roles per account', () => {
    const needs = countQuotaNeeds([
      {
        ...stack('Stepline', { 'AWS::IAM::Role': 8, 'AWS::Logs::LogGroup': 9, 'AWS::SSM::Parameter': 7 }, ENV),
        resources: {
          ...stack('x', { 'AWS::IAM::Role': 8, 'AWS::Logs::LogGroup': 9, 'AWS::SSM::Parameter': 7 }).resources,
          Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'stepline' } },
          OnBus: { Type: 'AWS::Events::Rule', Properties: { EventBusName: { Ref: 'Bus' } } },
          OnDefault: { Type: 'AWS::Events::Rule', Properties: { ScheduleExpression: 'rate(5 minutes)' } },
          Advanced: { Type: 'AWS::SSM::Parameter', Properties: { Tier: 'Advanced' } },
        },
      },
      ...['a', 'b'].map((p) => ({
        ...stack(
          `Stepline-${p}`,
          { 'AWS::IAM::Role': 4, 'AWS::CodeBuild::Project': 2, 'AWS::CloudWatch::Alarm': 2 },
          ENV,
        ),
        resources: {
          ...stack('x', { 'AWS::IAM::Role': 4, 'AWS::CodeBuild::Project': 2, 'AWS::CloudWatch::Alarm': 2 }).resources,
          Run: { Type: 'AWS::Events::Rule', Properties: { EventBusName: 'stepline' } },
          Push: { Type: 'AWS::Events::Rule', Properties: {} },
          ByArn: {
            Type: 'AWS::Events::Rule',
            Properties: { EventBusName: 'arn:aws:events:eu-west-1:111122223333:event-bus/stepline' },
          },
          Machine: { Type: 'AWS::StepFunctions::StateMachine' },
        },
      })),
      // Another Region of the same account: its own regional quotas, the same IAM roles quota.
      stack('Stepline-c', { 'AWS::IAM::Role': 3, 'AWS::CodeBuild::Project': 1 }, { ...ENV, region: 'us-east-1' }),
    ]);
    const counts = needs.map((n) => [n.quota.id, n.region ?? '-', n.bus ?? '-', n.count]);
    expect(counts).toEqual([
      ['eventbridge-rules-per-bus', 'eu-west-1', 'default', 3],
      ['eventbridge-rules-per-bus', 'eu-west-1', 'stepline', 5],
      ['iam-roles', '-', '-', 19],
      ['cloudformation-stacks', 'eu-west-1', '-', 3],
      ['cloudformation-stacks', 'us-east-1', '-', 1],
      ['codebuild-projects', 'eu-west-1', '-', 4],
      ['codebuild-projects', 'us-east-1', '-', 1],
      ['step-functions-state-machines', 'eu-west-1', '-', 2],
      ['ssm-standard-parameters', 'eu-west-1', '-', 7],
      ['cloudwatch-log-groups', 'eu-west-1', '-', 9],
      ['cloudwatch-alarms', 'eu-west-1', '-', 4],
    ]);
    expect(needs.every((n) => n.account === ENV.account)).toBe(true);
  });

  test('a rule whose pattern uses a wildcard counts against the 30 wildcard rules its bus allows', () => {
    const needs = countQuotaNeeds([
      {
        stackName: 'S',
        resources: {
          ...rules(2, { EventPattern: { detail: { alarmName: [{ prefix: 'stepline-' }] } } }),
          Wild: { Type: 'AWS::Events::Rule', Properties: { EventPattern: { source: [{ wildcard: 'aws.*' }] } } },
        },
      },
    ]);
    expect(needs.map((n) => [n.quota.id, n.bus, n.count])).toEqual([
      ['eventbridge-rules-per-bus', 'default', 3],
      ['eventbridge-wildcard-rules-per-bus', 'default', 1],
      ['cloudformation-stacks', undefined, 1],
    ]);
  });
});

describe('judgeAgainstDefaults', () => {
  test('within, approaching at 80%, exceeding past the default; the Region decides the rules default', () => {
    const atRegion = (region: string | undefined, n: number) =>
      judgeAgainstDefaults(countQuotaNeeds([{ stackName: 'S', region, resources: rules(n) }])).find(
        (v) => v.need.quota.id === 'eventbridge-rules-per-bus',
      )!;
    expect(atRegion('us-east-1', 90).status).toBe('within');
    expect(atRegion('us-east-1', 240).status).toBe('approaching');
    expect(atRegion('us-east-1', 301).status).toBe('exceeds');
    expect(atRegion('af-south-1', 90).status).toBe('approaching');
    expect(atRegion('af-south-1', 101).status).toBe('exceeds');
    const unknown = atRegion(undefined, 90);
    expect(unknown.status).toBe('approaching');
    expect(unknown.message).toContain(
      '90% of the default 100 (the lowest of any Region: the Region is not known at synth)',
    );
  });

  test('a config past the IAM roles default is named: the quota, its default, that it can be raised, and how', () => {
    const stacks = Array.from({ length: 201 }, (_, i) => stack(`Stepline-p${i}`, { 'AWS::IAM::Role': 6 }, ENV));
    const verdicts = judgeAgainstDefaults(countQuotaNeeds(stacks));
    const roles = verdicts.find((v) => v.need.quota.id === 'iam-roles')!;
    expect(roles.status).toBe('exceeds');
    expect(roles.message).toBe(
      'IAM roles per account (iam/L-FE177D64), account 111122223333: this app needs 1,206, 121% of the default 1,000 — exceeds it; ' +
        'adjustable: aws service-quotas request-service-quota-increase --service-code iam --quota-code L-FE177D64 --desired-value 1600 --region us-east-1; ' +
        'shared: everything else in the account, in every Region, counts against it too',
    );
    // Adjustable: a warning, not a refusal.
    expect(hardExceeded(verdicts)).toEqual([]);
    const stacksVerdict = verdicts.find((v) => v.need.quota.id === 'cloudformation-stacks')!;
    expect(stacksVerdict.status).toBe('within');
    expect(stacksVerdict.message).toMatch(
      /^CloudFormation stacks \(cloudformation\/L-0485CB21\), account 111122223333, eu-west-1: this app needs 201, 10% of the default 2,000; shared/,
    );
  });

  test('past a quota that cannot be raised, the verdict is a refusal; the default bus is shared, the platform bus is not', () => {
    const verdicts = judgeAgainstDefaults(
      countQuotaNeeds([
        {
          stackName: 'S',
          region: 'eu-west-1',
          resources: {
            ...rules(31, { EventBusName: 'stepline', EventPattern: { source: [{ wildcard: '*' }] } }),
            ...Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`P${i}`, { Type: 'AWS::SSM::Parameter' }])),
          },
        },
      ]),
    );
    expect(hardExceeded(verdicts).map((v) => v.message)).toEqual([
      'EventBridge rules containing wildcards per event bus, bus stepline, eu-west-1: this app needs 31, 103% of the default 30 — exceeds it; not adjustable; not in Service Quotas and not adjustable: match with prefix, suffix or exact values instead of wildcards',
      'Systems Manager Parameter Store standard parameters, eu-west-1: this app needs 10,001, 100% of the default 10,000 — exceeds it; not adjustable; shared: everything else in the account and Region counts against it too; not adjustable: past it, parameters must use the advanced tier (100,000 per account and Region, charged)',
    ]);
  });

  test('the report names each quota and its default, the ones past the warning share first', () => {
    const lines = formatQuotaReport(
      judgeAgainstDefaults(
        countQuotaNeeds([
          stack('S', { 'AWS::IAM::Role': 850, 'AWS::CodeBuild::Project': 3 }, ENV),
          { stackName: 'T', ...ENV, resources: rules(2) },
        ]),
      ),
    );
    expect(lines[0]).toMatch(
      /^warning: IAM roles per account .*: this app needs 850, 85% of the default 1,000 — approaching it \(80% or more\); adjustable: /,
    );
    expect(lines.slice(1).every((line) => line.startsWith('ok: '))).toBe(true);
    expect(lines.join('\n')).toContain(
      'CodeBuild build projects (codebuild/L-ACCF6C0D), account 111122223333, eu-west-1: this app needs 3, 0% of the default 5,000',
    );
    expect(lines.join('\n')).toContain(
      'EventBridge rules per event bus (events/L-244521F2), bus default, account 111122223333, eu-west-1: this app needs 2, 1% of the default 300; shared: everything else that puts a rule on the default bus counts against it too',
    );
  });
});

describe('judgeAgainstAccount', () => {
  const needs = countQuotaNeeds([stack('S', { 'AWS::IAM::Role': 40, 'AWS::CodeBuild::Project': 10 }, ENV)]);

  test("what stepline already has deployed is replaced by the need, not added to it; the account's other use is", () => {
    const verdicts = judgeAgainstAccount(needs, (need) =>
      need.quota.id === 'iam-roles'
        ? { limit: 1000, limitIs: 'applied', used: 990, byStepline: 30 }
        : { limit: 50, limitIs: 'applied', used: 5, byStepline: 5 },
    );
    const roles = verdicts.find((v) => v.need.quota.id === 'iam-roles')!;
    expect(roles.projected).toBe(1000);
    expect(roles.status).toBe('approaching');
    expect(roles.message).toContain(
      "the account uses 990 now (30 of them stepline's), this app needs 40: 1,000 after deploying, 100% of the applied 1,000",
    );
    const projects = verdicts.find((v) => v.need.quota.id === 'codebuild-projects')!;
    expect([projects.projected, projects.status]).toEqual([10, 'within']);
  });

  test('an applied quota raised past the need is within; one lowered under it exceeds', () => {
    const judge = (limit: number) =>
      judgeAgainstAccount(needs, () => ({ limit, limitIs: 'applied', used: 100, byStepline: 0 })).find(
        (v) => v.need.quota.id === 'iam-roles',
      )!.status;
    expect(judge(2000)).toBe('within');
    expect(judge(139)).toBe('exceeds');
  });

  test("Lambda's code storage is said in GB", () => {
    const [storage] = judgeAgainstAccount(
      [{ quota: quotaById('lambda-code-storage'), region: 'eu-west-1', account: ENV.account, count: 0 }],
      () => ({ limit: 75 * 1024 ** 3, limitIs: 'applied', used: 70 * 1024 ** 3, byStepline: 0 }),
    );
    expect(storage!.status).toBe('approaching');
    expect(storage!.message).toMatch(
      /^Lambda function and layer storage \(lambda\/L-2ACBD22F\), account 111122223333, eu-west-1: the account's functions use 70 GB, 93% of the applied 75 GB — approaching it \(80% or more\); adjustable: .* --desired-value 88;/,
    );
  });
});
