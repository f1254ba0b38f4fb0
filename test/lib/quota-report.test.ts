/**
 * The quota report of a real app (lib/quota-report.ts): the counts of three pipelines, two of them deploying, read
 * from the constructed app, as the synthesized templates say them; the warnings `cdk synth` shows; a refusal.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { parseConfig } from '../../core/config/stepline-config';
import { countQuotaNeeds, formatQuotaReport, type QuotaNeed } from '../../core/quotas';
import { buildStepline, type Stepline } from '../../lib/app';
import { annotateQuotas, quotaReport, stacksOfApp, stacksOfAssembly } from '../../lib/quota-report';
import { CDK_CONTEXT, type Template } from '../support/cdk';

const pipeline = (name: string, deploy?: Record<string, unknown>) => ({
  name,
  source: { type: 'codecommit', repository: name, branch: 'main' },
  build: { buildspec: 'buildspecs/build.yml' },
  tests: [{ name: 'unit', buildspec: 'buildspecs/unit.yml' }],
  ...(deploy ? { deploy } : {}),
});

const config = parseConfig({
  pipelines: [
    pipeline('orders', { function: 'orders-api', createFunction: { memoryMb: 256, timeoutSeconds: 10 } }),
    pipeline('billing', { function: 'billing' }),
    pipeline('docs'),
  ],
});

/** The app, without bundling the handlers (the counts do not read the code). */
function build(env?: { account: string; region: string }): { app: App; stepline: Stepline } {
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  return { app, stepline: buildStepline(app, config, { env, nag: false }) };
}

const needOf = (needs: readonly QuotaNeed[], id: string, bus?: string) =>
  needs.find((n) => n.quota.id === id && n.bus === bus)?.count;

describe('the quota report of three pipelines, two of them deploying', () => {
  let needs: QuotaNeed[];
  let assembly: CloudAssembly;
  let templates: Template[];
  beforeAll(() => {
    const { app } = build({ account: '111122223333', region: 'eu-west-1' });
    needs = countQuotaNeeds(stacksOfApp(app));
    assembly = app.synth();
    templates = assembly.stacks.map((s) => JSON.parse(readFileSync(s.templateFullPath, 'utf8')) as Template);
  });
  const inTemplates = (type: string) =>
    templates.flatMap((t) => Object.values(t.Resources)).filter((r) => r.Type === type);

  test('counts what the config gives: a stack per pipeline, a project per stage, a machine each, two alarms per deployment', () => {
    expect(needOf(needs, 'cloudformation-stacks')).toBe(4);
    expect(needOf(needs, 'codebuild-projects')).toBe(6);
    expect(needOf(needs, 'step-functions-state-machines')).toBe(3);
    expect(needOf(needs, 'cloudwatch-alarms')).toBe(4);
    expect(needs.every((n) => n.account === '111122223333')).toBe(true);
    expect(needs.filter((n) => n.quota.scope === 'region').every((n) => n.region === 'eu-west-1')).toBe(true);
  });

  test('counts every role, log group, parameter and rule the synthesized templates declare, rules per bus', () => {
    expect(needOf(needs, 'iam-roles')).toBe(inTemplates('AWS::IAM::Role').length);
    expect(needOf(needs, 'cloudwatch-log-groups')).toBe(inTemplates('AWS::Logs::LogGroup').length);
    expect(needOf(needs, 'ssm-standard-parameters')).toBe(inTemplates('AWS::SSM::Parameter').length);
    const rules = inTemplates('AWS::Events::Rule');
    const onDefault = rules.filter((r) => r.Properties.EventBusName === undefined).length;
    expect(needOf(needs, 'eventbridge-rules-per-bus', 'default')).toBe(onDefault);
    expect(needOf(needs, 'eventbridge-rules-per-bus', 'stepline')).toBe(rules.length - onDefault);
    expect(onDefault).toBeGreaterThan(0);
    expect(rules.length - onDefault).toBeGreaterThan(0);
  });

  test('the synthesized assembly gives the same counts as the constructed app', () => {
    expect(countQuotaNeeds(stacksOfAssembly(assembly))).toEqual(needs);
  });

  test('the report names each quota and its default; the app is far within every default', () => {
    const { app } = build({ account: '111122223333', region: 'eu-west-1' });
    const verdicts = quotaReport(app);
    expect(verdicts.every((v) => v.status === 'within')).toBe(true);
    const report = formatQuotaReport(verdicts).join('\n');
    for (const [name, limit] of [
      ['EventBridge rules per event bus (events/L-244521F2), bus default', '300'],
      ['EventBridge rules per event bus (events/L-244521F2), bus stepline', '300'],
      ['IAM roles per account (iam/L-FE177D64)', '1,000'],
      ['CloudFormation stacks (cloudformation/L-0485CB21)', '2,000'],
      ['CodeBuild build projects (codebuild/L-ACCF6C0D)', '5,000'],
      ['Step Functions registered state machines', '100,000'],
      ['Systems Manager Parameter Store standard parameters', '10,000'],
      ['CloudWatch Logs log groups (logs/L-C7B9AAAB)', '1,000,000'],
      ['CloudWatch alarms', '5,000'],
    ])
      expect(report).toMatch(new RegExp(`^ok: ${escape(name!)}.*% of the default ${limit}(;|$)`, 'm'));
  });
});

describe('at synth', () => {
  test('a quota the app approaches is a warning on the platform stack, which `cdk synth` shows', () => {
    const { app, stepline } = build({ account: '111122223333', region: 'af-south-1' });
    // af-south-1 allows 100 rules per bus: 80 on the default bus reach the warning share.
    for (let i = 0; i < 80; i++)
      new events.CfnRule(stepline.platform, `Filler${i}`, { scheduleExpression: 'rate(1 day)' });
    const { verdicts, refused } = annotateQuotas(stepline);
    expect(refused).toEqual([]);
    expect(verdicts.filter((v) => v.status !== 'within').map((v) => [v.need.quota.id, v.need.bus])).toEqual([
      ['eventbridge-rules-per-bus', 'default'],
    ]);
    const warnings = app
      .synth()
      .getStackArtifact('Stepline')
      .messages.filter((m) => m.level === 'warning')
      .map((m) => String(m.entry.data));
    expect(warnings).toEqual([
      expect.stringMatching(
        /^EventBridge rules per event bus \(events\/L-244521F2\), bus default, account 111122223333, af-south-1: this app needs \d+, \d+% of the default 100 — approaching it \(80% or more\); adjustable: aws service-quotas request-service-quota-increase --service-code events --quota-code L-244521F2 --desired-value \d+; shared: everything else that puts a rule on the default bus counts against it too \[ack: stepline:quota:eventbridge-rules-per-bus:default\]$/,
      ),
    ]);
  });

  test('a quota that cannot be raised, exceeded by the app alone, is refused', () => {
    const { stepline } = build();
    for (let i = 0; i < 31; i++)
      new events.CfnRule(stepline.platform, `Wildcard${i}`, {
        eventBusName: 'stepline',
        eventPattern: { source: [{ wildcard: 'aws.*' }] },
      });
    expect(annotateQuotas(stepline).refused).toEqual([
      {
        where: 'account quotas',
        message: expect.stringMatching(
          /^EventBridge rules containing wildcards per event bus, bus stepline, any Region: this app needs 3\d, 10\d% of the default 30 — exceeds it; not adjustable; /,
        ),
      },
    ]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
