/**
 * Local mode's two accounts, executed through the pipeline's state machine: staging in one account,
 * production in another, each stood up under its own account id; the deploy function reaching each through
 * its deploy role, assumed with local STS against the role's trust policy; and an alarm in the production
 * account rolling the release back through the target stack's forwarding rule onto the platform's bus.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../core/config/stepline-config';
import { deployRoleArn, deployRoleTrustPolicy } from '../../core/deployment/targets';
import type { BusEvent } from '../../local/event-bus';
import { LocalRuntime } from '../../local/runtime';
import { demoPipeline, passingSeed, startFixture, type Fixture } from '../support/pipeline-fixture';

const STAGING = { account: '111111111111', region: 'local' };
const PRODUCTION = { account: '222222222222', region: 'local' };

const handler = (body: string) =>
  `version: 0.2\nphases:\n  build:\n    commands:\n      - mkdir -p dist\n      - ${JSON.stringify(`echo '${body}' > dist/index.js`)}\nartifacts:\n  files:\n    - '**/*'\n  base-directory: dist\n`;
/** A version that answers with the ARN it was invoked by: where it runs, as Lambda's context says. */
const good = handler('exports.handler = async (event, context) => ({ arn: context.invokedFunctionArn });');
/** A version that passes the staging smoke check (`ping`) and fails its callers' traffic. */
const bad = handler('exports.handler = async (event) => { if (event.ping) return {}; throw new Error("boom"); };');

/** Staging in one account, production in another; no approval policy, so an approved release goes on at once. */
const deploy = (strategy: Record<string, unknown>) => ({
  deploy: {
    function: 'hello',
    account: PRODUCTION.account,
    strategy,
    staging: { function: 'hello-staging', account: STAGING.account, smokeEvent: { ping: true } },
  },
});

async function until(condition: () => Promise<boolean> | boolean, what: string, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('releasing into other accounts in local mode', () => {
  let fixture: Fixture;
  afterEach(() => fixture?.close());

  async function run(build: string) {
    const commitId = await fixture.push({ ...passingSeed, 'build.yml': build });
    const [started] = await fixture.runtime.runsStartedFor(commitId);
    return started!.runId;
  }

  it('stages in one account and releases in another: each function serves the build under its own account id', async () => {
    fixture = await startFixture({}, deploy({ type: 'canary', steps: [50], bakeSeconds: 0 }));
    const runId = await run(good);

    expect((await fixture.runtime.waitForRun(runId)).status).toBe('SUCCEEDED');
    // Where `stepline start` looks for a release's alias and alarms: the target's account.
    expect(fixture.runtime.targetAccount('demo').environment).toEqual(PRODUCTION);
    expect(fixture.runtime.targetAccount('demo', 'staging').environment).toEqual(STAGING);
    const production = fixture.runtime.targetAccount('demo').lambdas;
    const staging = fixture.runtime.accounts.get(STAGING).lambdas;
    expect(production.getAlias('hello', 'live')).toMatchObject({
      aliasArn: 'arn:aws:lambda:local:222222222222:function:hello:live',
      functionVersion: '2',
    });
    expect((await production.invoke('hello', 'live', {})).payload).toEqual({
      arn: 'arn:aws:lambda:local:222222222222:function:hello:live',
    });
    expect(staging.getAlias('hello-staging', 'live').functionVersion).toBe('2');
    expect((await staging.invoke('hello-staging', 'live', {})).payload).toEqual({
      arn: 'arn:aws:lambda:local:111111111111:function:hello-staging:live',
    });
    expect(await fixture.runtime.store.getDeployment(runId)).toMatchObject({ status: 'SUCCEEDED', toVersion: '2' });
    // Nothing of either target is in the platform's account.
    expect(() => fixture.runtime.lambdas.getFunctionConfiguration('hello')).toThrow(
      'Function not found: arn:aws:lambda:local:000000000000:function:hello',
    );
  }, 60_000);

  it("rolls back the moment the production account's alarm fires: its event crosses to the platform's bus", async () => {
    let now = new Date();
    fixture = await startFixture(
      { now: () => now, alarmIntervalMs: 60_000 },
      deploy({ type: 'canary', steps: [50], bakeSeconds: 300 }),
    );
    const forwarded: BusEvent[] = [];
    fixture.runtime.sourceBus.addRule({
      name: 'test-sees-forwarded-alarms',
      pattern: { source: ['aws.cloudwatch'] },
      target: async (event) => forwarded.push(event as BusEvent),
    });
    const production = fixture.runtime.accounts.get(PRODUCTION);
    const runId = await run(bad);
    await until(async () => (await fixture.runtime.store.getDeployment(runId))?.step === 0, 'the first step');
    // Traffic through the production alias: half of it reaches the bad version.
    for (let i = 0; i < 20; i++) await production.lambdas.invoke('hello', 'live', {});
    now = new Date(now.getTime() + 120_000);
    const [fired] = production.alarms.evaluate().filter((event) => event.detail.alarmName === 'stepline-demo-errors');
    expect(fired).toMatchObject({
      account: PRODUCTION.account,
      resources: ['arn:aws:cloudwatch:local:222222222222:alarm:stepline-demo-errors'],
      detail: { state: { value: 'ALARM' } },
    });

    await until(
      async () => (await fixture.runtime.store.getDeployment(runId))?.status === 'ROLLED_BACK',
      'the rollback',
    );
    // The alarm's own event, as the production account sent it, reached the platform's bus.
    expect(forwarded).toEqual([fired]);
    expect(await fixture.runtime.store.getDeployment(runId)).toMatchObject({
      status: 'ROLLED_BACK',
      outcome: expect.stringMatching(/^alarm stepline-demo-errors is in ALARM: Threshold Crossed/),
    });
    expect(production.lambdas.getAlias('hello', 'live')).toMatchObject({ functionVersion: '1' });
    expect(
      Object.keys(production.lambdas.getAlias('hello', 'live').routingConfig?.additionalVersionWeights ?? {}),
    ).toEqual([]);
    // Within the step's 300 s bake: the event rolled it back, not the check after the bake.
    expect(fixture.runtime.stepFunctions.listExecutions().find((e) => e.name === runId)?.status).toBe('RUNNING');
  }, 60_000);

  it('a production deploy role that does not trust the platform refuses the release with AccessDenied, as STS does', async () => {
    fixture = await startFixture({}, deploy({ type: 'allAtOnce', bakeSeconds: 0 }));
    const role = deployRoleArn('aws', 'demo', PRODUCTION);
    // The role trusts another platform's deploy function, not this one.
    fixture.runtime.iam.updateAssumeRolePolicy(
      role,
      deployRoleTrustPolicy('aws', { account: '999999999999', region: 'local' }),
    );
    const runId = await run(good);

    const finished = await fixture.runtime.waitForRun(runId);
    expect(finished.status).toBe('FAILED');
    expect(finished.failure).toMatchObject({
      error: 'AccessDenied',
      cause: expect.stringContaining(
        `User: arn:aws:sts::000000000000:assumed-role/stepline-deploy-function-local/stepline-deploy is not authorized to perform: sts:AssumeRole on resource: ${role}`,
      ),
    });
    // Staged in the account whose role trusts the platform; production untouched.
    expect(fixture.runtime.accounts.get(STAGING).lambdas.getAlias('hello-staging', 'live').functionVersion).toBe('2');
    expect(fixture.runtime.accounts.get(PRODUCTION).lambdas.getAlias('hello', 'live').functionVersion).toBe('1');
  }, 60_000);
});

describe('target accounts across a restart, and out of reach', () => {
  it("a stop while the production account's traffic is split ends the release there, through its deploy role", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stepline-cross-account-'));
    const stateDir = join(dir, 'state');
    const config = parseConfig({
      pipelines: [{ ...demoPipeline(), ...deploy({ type: 'canary', steps: [50], bakeSeconds: 300 }) }],
    });
    const seedDir = join(dir, 'seed');
    await mkdir(seedDir);
    for (const [name, content] of Object.entries({ ...passingSeed, 'build.yml': good }))
      await writeFile(join(seedDir, name), content);
    let runtime = await LocalRuntime.start({ config, stateDir, persistStore: true });
    try {
      const [started] = await runtime.runsStartedFor(await runtime.pushSeed(config.pipelines[0]!, seedDir, 'change'));
      const runId = started!.runId;
      await until(async () => (await runtime.store.getDeployment(runId))?.step === 0, 'the first step');
      const production = runtime.accounts.get(PRODUCTION).lambdas;
      expect(production.getAlias('hello', 'live').routingConfig?.additionalVersionWeights).toEqual({ '2': 0.5 });
      await runtime.close();

      runtime = await LocalRuntime.start({ config, stateDir, persistStore: true });
      expect(await runtime.store.getDeployment(runId)).toMatchObject({
        status: 'ROLLED_BACK',
        outcome: 'local mode stopped during the release; all traffic of hello:live is on version 1',
      });
    } finally {
      await runtime.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses, before anything starts, a target in another Region (made on AWS only), naming the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stepline-cross-account-'));
    try {
      const config = parseConfig({
        pipelines: [
          { ...demoPipeline(), deploy: { function: 'hello', account: PRODUCTION.account, region: 'eu-west-1' } },
        ],
      });
      await expect(LocalRuntime.start({ config, stateDir: join(dir, 'state') })).rejects.toThrow(
        /pipeline "demo": deploy\.region eu-west-1: local mode stands in for one Region \(local\)/,
      );
      // Nothing was begun: the state directory is not even locked.
      const runtime = await LocalRuntime.start({
        config: parseConfig({ pipelines: [demoPipeline()] }),
        stateDir: join(dir, 'state'),
      });
      await runtime.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
