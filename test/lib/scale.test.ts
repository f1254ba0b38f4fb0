/**
 * The platform at organisation scale: a hundred pipelines in one app, each stack well inside
 * CloudFormation's and Lambda's limits, the same EventBridge rules as for one pipeline, and one pipeline
 * added or removed without touching the others (nor the platform); at 1,000 pipelines the same rules,
 * counted in the app built in-process (a full synth of that size is the bench's, bench/synth.bench.ts).
 * Also the limit checks themselves, each made to fail.
 */
import { App, CfnResource, CfnWaitConditionHandle, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../../core/config/stepline-config';
import { PLATFORM_FUNCTIONS } from '../../core/platform-functions';
import { buildStepline } from '../../lib/app';
import { LIMITS, checkLimits, checkTemplateSizes } from '../../lib/limits';
import { CDK_CONTEXT, synthesize, type Synthesized } from '../support/cdk';
import { manyPipelines, manyPipelinesInput } from '../../bench/many-pipelines';

/**
 * The EventBridge rules across every stack of an app, by bus (a rule without EventBusName is on the default
 * bus), and how many stacks hold one: the number stepline owns, whatever the number of pipelines.
 */
function rulesOf(app: Synthesized) {
  const rules = [...app.templates].flatMap(([stack, template]) =>
    Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Events::Rule')
      .map((r) => ({ stack, bus: r.Properties.EventBusName === undefined ? 'default' : 'stepline' })),
  );
  return {
    total: rules.length,
    onDefaultBus: rules.filter((r) => r.bus === 'default').length,
    stacks: [...new Set(rules.map((r) => r.stack))],
  };
}

describe('a hundred pipelines', () => {
  let hundred: Synthesized;
  beforeAll(() => {
    hundred = synthesize(manyPipelines(100), { nag: false });
  });

  test('synthesize into the platform and a stack per pipeline, and pass the limit checks', () => {
    expect(hundred.assembly.stacks).toHaveLength(101);
    expect(checkLimits(hundred.stepline)).toEqual([]);
    expect(checkTemplateSizes(hundred.assembly)).toEqual([]);
  });

  test("every stack stays under 60% of CloudFormation's resource and template-size limits", () => {
    for (const [stack, template] of hundred.templates) {
      const resources = Object.keys(template.Resources).length;
      const bytes = Buffer.byteLength(hundred.texts.get(stack)!, 'utf8');
      expect({ stack, resources: resources <= 0.6 * LIMITS.resourcesPerStack }).toEqual({ stack, resources: true });
      expect({ stack, bytes: bytes <= 0.6 * LIMITS.templateBytes }).toEqual({ stack, bytes: true });
    }
  });

  test("every function's environment stays under half of Lambda's 4 KB, references counted at their longest", () => {
    const functions = [...hundred.templates.values()].flatMap((t) =>
      Object.values(t.Resources).filter((r) => r.Type === 'AWS::Lambda::Function'),
    );
    // The platform's, one per declaration (the bench pipelines have no deploy target, so no function of their own).
    expect(functions).toHaveLength(Object.keys(PLATFORM_FUNCTIONS).length);
    for (const fn of functions) {
      const variables = JSON.stringify((fn.Properties.Environment as { Variables: unknown }).Variables);
      // Each reference ({"Ref": …} or {"Fn::GetAtt": …}) becomes a value of at most 256 characters.
      const longest = variables.replace(/\{"(Ref|Fn::GetAtt)":[^}]*\}/g, `"${'x'.repeat(256)}"`);
      // The decision function names the most: table, bus, endpoint and two secrets (about 1.4 KB).
      expect(Buffer.byteLength(longest, 'utf8')).toBeLessThan(2048);
    }
  });

  test('cdk-nag finds nothing unacknowledged in any of the 101 stacks', () => {
    const findings = hundred.assembly.stacks.flatMap((artifact) => {
      const stack = hundred.app.node.findChild(artifact.id) as Stack;
      return new AwsSolutionsChecks().validateScope(stack).violations.map((v) => `${artifact.id}: ${v.ruleName}`);
    });
    expect(findings).toEqual([]);
  });

  test('the same EventBridge rules as one pipeline: routing does not grow with the pipelines', () => {
    const one = synthesize(manyPipelines(1), { nag: false });
    expect(rulesOf(hundred)).toEqual(rulesOf(one));
    // On the default bus the push rule, the alarm rule, the two execution-ended rules and the two sweep
    // schedules; on the platform's bus the run rule, the notifier's rule and the rule for alarms forwarded
    // from target accounts; all in the platform stack.
    expect(rulesOf(hundred)).toEqual({ total: 9, onDefaultBus: 6, stacks: ['Stepline'] });
  });

  test('adding a pipeline adds its stack and changes no other template', () => {
    const more = synthesize(manyPipelines(101), { nag: false });
    expect(more.assembly.stacks).toHaveLength(102);
    for (const [stack, text] of hundred.texts)
      expect({ stack, same: more.texts.get(stack) === text }).toEqual({ stack, same: true });
  });

  test('removing a pipeline removes its stack and changes no other template', () => {
    const config = manyPipelines(100);
    const fewer = synthesize({ pipelines: config.pipelines.filter((p) => p.name !== 'service-050') }, { nag: false });
    expect(fewer.texts.has('Stepline-service-050')).toBe(false);
    for (const [stack, text] of fewer.texts)
      expect({ stack, same: hundred.texts.get(stack) === text }).toEqual({ stack, same: true });
  });
});

describe('a thousand pipelines', () => {
  test('the same nine rules: counted in the app built in-process (synthesizing 1,001 templates is the bench)', () => {
    const app = new App({ context: CDK_CONTEXT });
    buildStepline(app, manyPipelines(1000), { nag: false });
    const rules = app.node.findAll().filter((construct) => construct instanceof events.CfnRule);
    expect(rules.map((rule) => Stack.of(rule).stackName)).toEqual(Array(9).fill('Stepline'));
  }, 180_000);
});

describe('deploying pipelines, extra alarms among them', () => {
  /** `count` CodeCommit pipelines, each deploying to its own function, every other with an extra alarm. */
  const deploying = (count: number) =>
    parseConfig({
      pipelines: manyPipelinesInput(count).pipelines.map((pipeline, i) => ({
        ...pipeline,
        deploy: { function: pipeline.name, ...(i % 2 ? { extraAlarms: [`${pipeline.name}-5xx`] } : {}) },
      })),
    });

  test('1 and 20 deploying pipelines: the same rules; adding one changes no other template', () => {
    const twenty = synthesize(deploying(20), { nag: false });
    const more = synthesize(deploying(21), { nag: false });
    expect(rulesOf(twenty)).toEqual(rulesOf(synthesize(deploying(1), { nag: false })));
    expect(rulesOf(more)).toEqual(rulesOf(twenty));
    expect(more.assembly.stacks).toHaveLength(22);
    for (const [stack, text] of twenty.texts)
      expect({ stack, same: more.texts.get(stack) === text }).toEqual({ stack, same: true });
  });
});

describe('limit checks', () => {
  const oneApp = () => buildStepline(new App({ context: CDK_CONTEXT }), manyPipelines(1), { nag: false });

  test('a stack past 500 resources is refused, naming the pipeline, the limit and what to change', () => {
    const stepline = oneApp();
    const stack = stepline.pipelines.get('service-000')!;
    const before = checkLimits(stepline);
    for (let i = 0; i < 490; i++) new CfnWaitConditionHandle(stack, `Filler${i}`);
    expect(before).toEqual([]);
    expect(checkLimits(stepline)).toEqual([
      {
        where: 'pipeline "service-000" (stack Stepline-service-000)',
        message: expect.stringMatching(
          /^5\d\d resources, CloudFormation allows 500 per stack; declare fewer test stages for this pipeline, or split it into two pipelines$/,
        ),
      },
    ]);
  });

  test("a function environment past Lambda's 4 KB is refused, naming the function", () => {
    const stepline = oneApp();
    stepline.platform.functions.startRun.addEnvironment('BIG', 'x'.repeat(3800));
    expect(checkLimits(stepline)).toEqual([
      {
        where: 'platform stack Stepline',
        message: expect.stringMatching(
          /^function Stepline\/Functions\/StartRun\/Resource has up to \d+ bytes of environment variables, Lambda allows 4096 in all; move data out of its environment$/,
        ),
      },
    ]);
  });

  test('the largest pipeline the config allows passes every check: longest names, ten test stages', () => {
    const name = `p${'x'.repeat(30)}1`;
    const config = parseConfig({
      pipelines: [
        {
          name,
          source: { type: 'codecommit', repository: 'r'.repeat(100), branch: 'b'.repeat(256) },
          build: { buildspec: 'build.yml' },
          tests: Array.from({ length: 10 }, (_, i) => ({ name: `t${'y'.repeat(29)}${i}x`, buildspec: 'test.yml' })),
        },
      ],
    });
    const stepline = buildStepline(new App({ context: CDK_CONTEXT }), config, { nag: false });
    expect(checkLimits(stepline)).toEqual([]);
  });

  test('a catalog entry past what a standard SSM parameter holds is refused, naming the pipeline', () => {
    const stepline = oneApp();
    const entry = stepline.pipelines.get('service-000')!.catalogEntry.node.defaultChild as ssm.CfnParameter;
    entry.value = 'x'.repeat(4100);
    expect(checkLimits(stepline)).toEqual([
      {
        where: 'pipeline "service-000"',
        message:
          'its catalog entry takes up to 4102 bytes, a standard SSM parameter holds 4096; use shorter stage names, fewer test stages or a smaller approval policy',
      },
    ]);
  });

  test('a template past 1 MB is refused once synthesized, naming the stack', () => {
    const app = new App();
    const stack = new Stack(app, 'Big');
    new CfnResource(stack, 'Large', {
      type: 'AWS::SSM::Parameter',
      properties: { Type: 'String', Value: 'x'.repeat(LIMITS.templateBytes) },
    });
    expect(checkTemplateSizes(app.synth())).toEqual([
      {
        where: 'stack Big',
        message: expect.stringMatching(/^its template is \d+ bytes, CloudFormation accepts 1000000; /),
      },
    ]);
  });
});
