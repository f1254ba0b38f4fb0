/**
 * Releasing to Lambda in local mode, executed through the pipeline's state machine: the build's
 * artifact becomes a new version of the target function, traffic moves through its alias step by step,
 * and a failing pre-traffic check or an alarm rolls it back.
 */
import { passingSeed, startFixture, type Fixture } from '../support/pipeline-fixture';

const handler = (body: string) =>
  `version: 0.2\nphases:\n  build:\n    commands:\n      - mkdir -p dist\n      - ${JSON.stringify(`echo '${body}' > dist/index.js`)}\nartifacts:\n  files:\n    - '**/*'\n  base-directory: dist\n`;
const good = handler('exports.handler = async () => ({ ok: true });');
const bad = handler('exports.handler = async () => { throw new Error("boom"); };');

describe('releasing to Lambda', () => {
  let fixture: Fixture;
  afterEach(() => fixture?.close());

  async function run(build: string) {
    const commitId = await fixture.push({ ...passingSeed, 'build.yml': build });
    const [started] = await fixture.runtime.runsStartedFor(commitId);
    return started!.runId;
  }

  it('promotes a good version through every canary step: the alias serves it alone', async () => {
    fixture = await startFixture(
      {},
      { deploy: { function: 'hello', strategy: { type: 'canary', steps: [10, 50], bakeSeconds: 0 } } },
    );
    const runId = await run(good);
    const finished = await fixture.runtime.waitForRun(runId);
    expect(finished.status).toBe('SUCCEEDED');
    expect(await fixture.runtime.store.getDeployment(runId)).toMatchObject({
      status: 'SUCCEEDED',
      fromVersion: '1',
      toVersion: '2',
      // Past the last of the two steps: promoted.
      step: 2,
    });
    const taken = (await fixture.runtime.store.getDeployment(runId))!.stepsTaken!;
    expect(taken.map((t) => [t.step, t.weight])).toEqual([
      [0, 0.1],
      [1, 0.5],
      [2, 1],
    ]);
    expect(taken.every((t) => /^\d{4}-\d\d-\d\dT/.test(t.at))).toBe(true);
    const alias = fixture.runtime.lambdas.getAlias('hello', 'live');
    expect(alias.functionVersion).toBe('2');
    expect(Object.keys(alias.routingConfig?.additionalVersionWeights ?? {})).toEqual([]);
    expect((await fixture.runtime.lambdas.invoke('hello', 'live', {})).payload).toEqual({ ok: true });
  });

  it('rolls back a version whose pre-traffic check fails, before it takes any traffic', async () => {
    fixture = await startFixture({}, { deploy: { function: 'hello', preTraffic: { event: { ping: true } } } });
    const runId = await run(bad);
    const finished = await fixture.runtime.waitForRun(runId);
    expect(finished.status).toBe('FAILED');
    expect(finished.failure?.error).toBe('Deploy.RolledBack');
    expect(finished.failure?.cause).toMatch(/^the pre-traffic check of version 2 failed: Unhandled: .*boom/);
    expect(fixture.runtime.lambdas.getAlias('hello', 'live').functionVersion).toBe('1');
    // Rolled back by the state machine's Catch: the execution's end (FAILED), which reaches the deploy
    // function too, leaves the deployment as the Catch ended it.
    expect(await fixture.runtime.store.getDeployment(runId)).toMatchObject({
      status: 'ROLLED_BACK',
      step: -1,
      outcome: expect.stringMatching(/^the pre-traffic check of version 2 failed: /),
    });
  });

  it('rolls back the moment the errors alarm fires during a bake, and the run fails with the alarm', async () => {
    let now = new Date();
    fixture = await startFixture(
      { now: () => now, alarmIntervalMs: 60_000 },
      { deploy: { function: 'hello', strategy: { type: 'canary', steps: [50], bakeSeconds: 5 } } },
    );
    const runId = await run(bad);
    for (let i = 0; i < 200 && (await fixture.runtime.store.getDeployment(runId))?.step !== 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    // Traffic through the alias: half of it reaches the bad version.
    for (let i = 0; i < 20; i++) await fixture.runtime.lambdas.invoke('hello', 'live', {});
    now = new Date(now.getTime() + 120_000);
    const events = fixture.runtime.alarms.evaluate();
    expect(events.map((e) => `${e.detail.alarmName}: ${e.detail.state.value}`)).toContain(
      'stepline-demo-errors: ALARM',
    );

    // Rolled back by the alarm rule, before the bake ended.
    for (let i = 0; i < 100 && (await fixture.runtime.store.getDeployment(runId))?.status !== 'ROLLED_BACK'; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fixture.runtime.lambdas.getAlias('hello', 'live')).toMatchObject({ functionVersion: '1' });
    expect(
      Object.keys(fixture.runtime.lambdas.getAlias('hello', 'live').routingConfig?.additionalVersionWeights ?? {}),
    ).toEqual([]);
    const finished = await fixture.runtime.waitForRun(runId);
    expect(finished.status).toBe('FAILED');
    expect(finished.failure).toMatchObject({
      error: 'Deploy.RolledBack',
      cause: expect.stringMatching(/^alarm stepline-demo-errors is in ALARM: Threshold Crossed/),
    });
  });

  it("an operator's pause holds the step; an alarm during the pause still rolls back at once; controls are refused in the wrong state", async () => {
    let now = new Date();
    fixture = await startFixture(
      { now: () => now, alarmIntervalMs: 60_000 },
      { deploy: { function: 'hello', strategy: { type: 'canary', steps: [50], bakeSeconds: 1 } } },
    );
    const runId = await run(bad);
    for (let i = 0; i < 200 && (await fixture.runtime.store.getDeployment(runId))?.step !== 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    const control = (action: string, reason = 'watching it') =>
      fetch(`${fixture.runtime.endpoint.url}/cli/deployments/${runId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-stepline-local-identity': 'ana@example.com' },
        body: JSON.stringify({ action, reason }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { message: string } }));

    expect(await control('pause')).toEqual({
      status: 200,
      body: expect.objectContaining({ message: 'deployment PAUSED' }),
    });
    expect(await control('pause')).toEqual({
      status: 409,
      body: {
        message: `cannot pause the deployment of hello:live (run ${runId}): it is PAUSED; only an IN_PROGRESS deployment pauses`,
      },
    });
    expect((await control('resume', '')).status).toBe(400);
    // The bake ends while paused: the step holds.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await fixture.runtime.store.getDeployment(runId))!.status).toBe('PAUSED');

    for (let i = 0; i < 20; i++) await fixture.runtime.lambdas.invoke('hello', 'live', {});
    now = new Date(now.getTime() + 120_000);
    fixture.runtime.alarms.evaluate();
    for (let i = 0; i < 100 && (await fixture.runtime.store.getDeployment(runId))?.status !== 'ROLLED_BACK'; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const deployment = (await fixture.runtime.store.getDeployment(runId))!;
    expect(deployment.status).toBe('ROLLED_BACK');
    expect(deployment.interventions).toEqual([
      expect.objectContaining({
        action: 'pause',
        by: 'arn:aws:sts::000000000000:assumed-role/stepline-local/ana@example.com',
        reason: 'watching it',
      }),
    ]);
    expect(fixture.runtime.lambdas.getAlias('hello', 'live').functionVersion).toBe('1');
    expect((await control('resume')).status).toBe(409);
    expect((await fixture.runtime.waitForRun(runId)).status).toBe('FAILED');
  }, 30_000);

  describe('a pause, held by the state machine', () => {
    // Waits 100 times shorter (local/time-scale.ts): the 10 s hold takes 100 ms, the 5 min hold 3 s. The
    // clock is the test's: how long the pause has lasted is what the test says.
    let now: Date;
    let pausedAt: number;
    async function pausedRun() {
      now = new Date();
      fixture = await startFixture(
        { now: () => now, timeScale: 100, alarmIntervalMs: 60_000 },
        {
          deploy: {
            function: 'hello',
            strategy: { type: 'canary', steps: [50], bakeSeconds: 60 },
            maxPauseHours: 1,
          },
        },
      );
      const runId = await run(good);
      for (let i = 0; i < 400 && (await fixture.runtime.store.getDeployment(runId))?.step !== 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      const control = (action: string) =>
        fetch(`${fixture.runtime.endpoint.url}/cli/deployments/${runId}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-stepline-local-identity': 'ana@example.com' },
          body: JSON.stringify({ action, reason: 'watching the p99' }),
        }).then((r) => r.status);
      expect(await control('pause')).toBe(200);
      pausedAt = now.getTime();
      // The bake ends while paused; the 10 s holds loop.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await fixture.runtime.store.getDeployment(runId))!.status).toBe('PAUSED');
      // Five minutes into the pause: the next check holds for 5 min (3 s here), no longer 10 s.
      now = new Date(pausedAt + 300_000);
      await new Promise((resolve) => setTimeout(resolve, 400));
      return { runId, control };
    }

    it('grows its hold, and past deploy.maxPauseHours rolls back with an outcome that says so', async () => {
      const { runId } = await pausedRun();
      now = new Date(pausedAt + 3600_000);
      const since = Date.now();
      for (let i = 0; i < 300 && (await fixture.runtime.store.getDeployment(runId))?.status !== 'ROLLED_BACK'; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      // Still in the 5-minute hold when the pause passed its maximum: with the old 10 s hold (100 ms here)
      // the check would have come at once.
      expect(Date.now() - since).toBeGreaterThanOrEqual(2000);
      expect(await fixture.runtime.store.getDeployment(runId)).toMatchObject({
        status: 'ROLLED_BACK',
        outcome: `paused since ${new Date(pausedAt).toISOString()}, longer than the pipeline's maximum pause of 1 h (deploy.maxPauseHours): rolled back so traffic is not left split`,
      });
      const alias = fixture.runtime.lambdas.getAlias('hello', 'live');
      expect(alias.functionVersion).toBe('1');
      expect(Object.keys(alias.routingConfig?.additionalVersionWeights ?? {})).toEqual([]);
      expect((await fixture.runtime.waitForRun(runId)).status).toBe('FAILED');
    }, 30_000);

    it('resumed before its maximum, the deployment goes on and promotes', async () => {
      const { runId, control } = await pausedRun();
      now = new Date(pausedAt + 3000_000);
      expect(await control('resume')).toBe(200);
      expect((await fixture.runtime.waitForRun(runId)).status).toBe('SUCCEEDED');
      expect(await fixture.runtime.store.getDeployment(runId)).toMatchObject({ status: 'SUCCEEDED', step: 1 });
      expect(fixture.runtime.lambdas.getAlias('hello', 'live').functionVersion).toBe('2');
    }, 30_000);
  });

  it('an execution stopped during the traffic shift ends its release: ROLLED_BACK, saying so, all traffic on the old version', async () => {
    fixture = await startFixture(
      {},
      { deploy: { function: 'hello', strategy: { type: 'canary', steps: [50], bakeSeconds: 300 } } },
    );
    const runId = await run(good);
    for (let i = 0; i < 400 && (await fixture.runtime.store.getDeployment(runId))?.step !== 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    expect(fixture.runtime.lambdas.getAlias('hello', 'live').routingConfig?.additionalVersionWeights).toEqual({
      2: 0.5,
    });

    // As StopExecution from the console: the execution ends ABORTED in its bake, local mode goes on.
    const execution = fixture.runtime.stepFunctions.listExecutions().find((e) => e.name === runId)!;
    await fixture.runtime.stepFunctions.stopExecution(execution.executionArn);
    expect(execution.status).toBe('ABORTED');

    // The execution's end reached the deploy function through its rule, as on AWS.
    expect((await fixture.runtime.waitForRun(runId)).status).toBe('FAILED');
    expect(await fixture.runtime.store.getDeployment(runId)).toMatchObject({
      status: 'ROLLED_BACK',
      outcome:
        'the execution was aborted during the release (stopped in the console or by StopExecution); all traffic of hello:live is on version 1',
      endedAt: expect.any(String),
    });
    const alias = fixture.runtime.lambdas.getAlias('hello', 'live');
    expect(alias.functionVersion).toBe('1');
    expect(Object.keys(alias.routingConfig?.additionalVersionWeights ?? {})).toEqual([]);
  }, 30_000);

  it('blue/green switches all traffic at once, and an alarm during its bake switches it back in one step', async () => {
    let now = new Date();
    fixture = await startFixture(
      { now: () => now, alarmIntervalMs: 60_000 },
      { deploy: { function: 'hello', strategy: { type: 'allAtOnce', bakeSeconds: 3 } } },
    );
    const runId = await run(bad);
    for (let i = 0; i < 200 && fixture.runtime.lambdas.getAlias('hello', 'live').functionVersion !== '2'; i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    expect(
      Object.keys(fixture.runtime.lambdas.getAlias('hello', 'live').routingConfig?.additionalVersionWeights ?? {}),
    ).toEqual([]);
    for (let i = 0; i < 5; i++) await fixture.runtime.lambdas.invoke('hello', 'live', {});
    now = new Date(now.getTime() + 120_000);
    fixture.runtime.alarms.evaluate();
    for (let i = 0; i < 100 && fixture.runtime.lambdas.getAlias('hello', 'live').functionVersion !== '1'; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fixture.runtime.lambdas.getAlias('hello', 'live').functionVersion).toBe('1');
    expect((await fixture.runtime.waitForRun(runId)).failure?.error).toBe('Deploy.RolledBack');
  });

  it('an alarm already firing refuses the deployment, or lets it through as a hotfix judged on the alarm recovering', async () => {
    fixture = await startFixture(
      {},
      { deploy: { function: 'hello', strategy: { type: 'canary', steps: [50], bakeSeconds: 0 } } },
    );
    fixture.runtime.alarms.setState('stepline-demo-errors', 'ALARM', 'the incident the hotfix is for');
    const refused = await fixture.runtime.waitForRun(await run(good));
    expect(refused.status).toBe('FAILED');
    expect(refused.failure).toMatchObject({
      error: 'Deploy.Refused',
      cause: expect.stringContaining('alarm stepline-demo-errors is in ALARM (the incident the hotfix is for)'),
    });
    expect(fixture.runtime.lambdas.getAlias('hello', 'live').functionVersion).toBe('1');
    await fixture.close();

    let now = new Date();
    fixture = await startFixture(
      { now: () => now, alarmIntervalMs: 60_000 },
      {
        deploy: {
          function: 'hello',
          whenAlarmsFire: 'hotfix',
          strategy: { type: 'canary', steps: [50], bakeSeconds: 2 },
        },
      },
    );
    fixture.runtime.alarms.setState('stepline-demo-errors', 'ALARM', 'the incident the hotfix is for');
    const runId = await run(good);
    for (let i = 0; i < 200 && (await fixture.runtime.store.getDeployment(runId))?.step !== 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    expect((await fixture.runtime.store.getDeployment(runId))!.hotfix).toEqual({ firing: ['stepline-demo-errors'] });
    // The good version answers: the alarm recovers before the bake's check.
    for (let i = 0; i < 5; i++) await fixture.runtime.lambdas.invoke('hello', 'live', {});
    now = new Date(now.getTime() + 120_000);
    fixture.runtime.alarms.evaluate();
    expect((await fixture.runtime.waitForRun(runId)).status).toBe('SUCCEEDED');
    expect(fixture.runtime.lambdas.getAlias('hello', 'live').functionVersion).toBe('2');
  });

  it('deploys to staging all at once and smoke-checks it before the gate; a failing smoke check stops the run there', async () => {
    const staging = { function: 'hello-staging', smokeEvent: { ping: true } };
    fixture = await startFixture(
      {},
      {
        approval: { approvers: [{ id: 'ana', emails: ['ana@example.com'] }], classes: { high: { approvals: 1 } } },
        deploy: { function: 'hello', staging, strategy: { type: 'allAtOnce', bakeSeconds: 0 } },
      },
    );
    const broken = await fixture.runtime.waitForRun(await run(bad));
    expect(broken.status).toBe('FAILED');
    expect(broken.failure).toMatchObject({
      error: 'StagingFailedError',
      cause: expect.stringContaining('the smoke check of hello-staging:live (version 2) failed'),
    });
    // Stopped before the gate: nobody was asked, production untouched.
    expect(await fixture.runtime.store.getApproval(broken.runId)).toBeUndefined();
    expect(fixture.runtime.lambdas.getAlias('hello', 'live').functionVersion).toBe('1');

    const runId = await run(good);
    for (let i = 0; i < 400 && (await fixture.runtime.store.getApproval(runId))?.status !== 'WAITING'; i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    // Staged before the gate opened: the staging alias serves the new version already.
    expect(fixture.runtime.lambdas.getAlias('hello-staging', 'live').functionVersion).toBe('3');
    expect(fixture.runtime.lambdas.getAlias('hello', 'live').functionVersion).toBe('1');
  });
});
