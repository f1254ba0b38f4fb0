/**
 * The deployment's traffic protocol on the real run store (dynalite) and local mode's Lambda runtime
 * through the real Lambda client: every interleaving of a traffic step and a rollback ends with the
 * alias on the old version and no weight on the new one; operators' controls are recorded and refused
 * in the wrong state.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  checkAfterBake,
  control,
  deployToStaging,
  finish,
  publishNewVersion,
  promote,
  rollBack,
  rollBackAbandoned,
  shiftTraffic,
  startDeployment,
  type DeploymentDeps,
  type FunctionDeployer,
} from '../../core/deployment/protocol';
import {
  ControlRefusedError,
  DeploymentHaltedError,
  FunctionUpdateFailedError,
  FunctionUpdateTimedOutError,
} from '../../core/deployment/errors';
import type { AlarmSeen } from '../../core/records';
import { LambdaDeployer } from '../../lambdas/adapters/lambda-deployer';
import { startLocalLambda, webWithTwoVersions, type LocalLambda } from '../support/local-lambda';
import { useRunStore } from '../support/store';

/** A deployer whose alias moves can be held, to force an interleaving. */
class HeldDeployer implements FunctionDeployer {
  private held?: { until: Promise<void>; reached: () => void };
  constructor(private readonly real: FunctionDeployer) {}
  aliasVersions(fn: string, alias: string) {
    return this.real.aliasVersions(fn, alias);
  }
  updateCode(fn: string, artifact: string) {
    return this.real.updateCode(fn, artifact);
  }
  publishVersion(fn: string) {
    return this.real.publishVersion(fn);
  }
  invoke(fn: string, qualifier: string, event: unknown) {
    return this.real.invoke(fn, qualifier, event);
  }
  /** The next alias move waits for `release`; resolves when it is waiting. */
  holdNext(): { waiting: Promise<void>; release: () => void } {
    let release!: () => void;
    let reached!: () => void;
    const waiting = new Promise<void>((resolve) => (reached = resolve));
    this.held = { until: new Promise<void>((resolve) => (release = resolve)), reached };
    return { waiting, release };
  }
  async routeAlias(fn: string, alias: string, primary: string, weights: Readonly<Record<string, number>>) {
    const held = this.held;
    this.held = undefined;
    if (held) {
      held.reached();
      await held.until;
    }
    return this.real.routeAlias(fn, alias, primary, weights);
  }
}

/** How long a code update stays in progress here. */
const UPDATE_MS = 100;

describe('the deployment protocol', () => {
  const runStore = useRunStore();
  let local: LocalLambda;
  let deployer: HeldDeployer;
  let deps: DeploymentDeps;
  const alarms: AlarmSeen[] = [];

  beforeEach(async () => {
    local = await startLocalLambda({ updateMs: UPDATE_MS });
    deployer = new HeldDeployer(new LambdaDeployer(local.lambda));
    await webWithTwoVersions(local);
    deps = { deployments: runStore.store, deployer, now: () => new Date('2026-11-25T10:00:00.000Z') };
    alarms.length = 0;
    const deployment = await startDeployment(
      {
        runId: 'r1',
        pipeline: 'web',
        function: 'web',
        alias: 'live',
        steps: [
          { weight: 0.1, bakeSeconds: 0 },
          { weight: 0.5, bakeSeconds: 0 },
        ],
        alarms: ['web-errors'],
        whenAlarmsFire: 'refuse',
        maxPauseHours: 24,
      },
      { ...deps, deployments: runStore.store, alarms: { states: async () => alarms } },
    );
    expect(deployment).toMatchObject({ status: 'IN_PROGRESS', fromVersion: '1', step: -1 });
    await runStore.store.moveDeployment('r1', ['IN_PROGRESS'], 'IN_PROGRESS', { toVersion: '2' });
  });
  afterEach(() => local.close());

  const alias = () => local.functions.getAlias('web', 'live');

  it('moves traffic step by step, then promotes: the new version takes all and routing is cleared', async () => {
    await shiftTraffic('r1', 0, deps);
    expect(alias()).toMatchObject({ functionVersion: '1', routingConfig: { additionalVersionWeights: { '2': 0.1 } } });
    await shiftTraffic('r1', 1, deps);
    expect(alias().routingConfig?.additionalVersionWeights).toEqual({ '2': 0.5 });
    expect(await promote('r1', deps)).toMatchObject({ status: 'IN_PROGRESS', step: 2 });
    const done = await finish('r1', { ...deps, alarms: { states: async () => alarms } });
    expect(done).toMatchObject({ status: 'SUCCEEDED', step: 2 });
    expect(alias().functionVersion).toBe('2');
    expect(Object.keys(alias().routingConfig?.additionalVersionWeights ?? {})).toEqual([]);
  });

  it('a step whose alias move lands after a rollback puts the old version back itself', async () => {
    const hold = deployer.holdNext();
    const step = shiftTraffic('r1', 0, deps);
    await hold.waiting;
    // The rollback runs to its end while the step's move is in flight.
    expect(await rollBack('r1', 'alarm web-errors', deps)).toMatchObject({ status: 'ROLLED_BACK' });
    hold.release();
    await expect(step).rejects.toBeInstanceOf(DeploymentHaltedError);
    expect(alias().functionVersion).toBe('1');
    expect(Object.keys(alias().routingConfig?.additionalVersionWeights ?? {})).toEqual([]);
  });

  it("a rollback whose alias move lands after a step's overwrites it", async () => {
    await shiftTraffic('r1', 0, deps);
    const hold = deployer.holdNext();
    const rollback = rollBack('r1', 'alarm web-errors', deps);
    await hold.waiting;
    await expect(shiftTraffic('r1', 1, deps)).rejects.toBeInstanceOf(DeploymentHaltedError);
    hold.release();
    expect(await rollback).toMatchObject({ status: 'ROLLED_BACK', outcome: 'alarm web-errors' });
    expect(alias().functionVersion).toBe('1');
    expect(Object.keys(alias().routingConfig?.additionalVersionWeights ?? {})).toEqual([]);
  });

  it('a promotion racing a rollback never leaves the new version serving', async () => {
    const hold = deployer.holdNext();
    const promotion = promote('r1', deps);
    await hold.waiting;
    await rollBack('r1', 'alarm web-errors', deps);
    hold.release();
    await expect(promotion).rejects.toBeInstanceOf(DeploymentHaltedError);
    expect(alias().functionVersion).toBe('1');
  });

  it('rolls back once however many ask at once', async () => {
    await shiftTraffic('r1', 0, deps);
    const results = await Promise.all([
      rollBack('r1', 'alarm web-errors', deps),
      rollBack('r1', 'alarm web-throttles', deps),
      rollBack('r1', 'pre-traffic check failed', deps),
    ]);
    expect(new Set(results.map((r) => r.status)).size).toBeGreaterThan(0);
    const final = (await runStore.store.getDeployment('r1'))!;
    expect(final.status).toBe('ROLLED_BACK');
    expect(['alarm web-errors', 'alarm web-throttles', 'pre-traffic check failed']).toContain(final.outcome);
    expect(alias().functionVersion).toBe('1');
  });

  it('an abandoned release with traffic split is rolled back, its outcome saying where all traffic is', async () => {
    await shiftTraffic('r1', 0, deps);
    expect(await rollBackAbandoned('r1', 'local mode stopped during the release', deps)).toMatchObject({
      status: 'ROLLED_BACK',
      endedAt: '2026-11-25T10:00:00.000Z',
      outcome: 'local mode stopped during the release; all traffic of web:live is on version 1',
    });
    expect(alias().functionVersion).toBe('1');
    expect(Object.keys(alias().routingConfig?.additionalVersionWeights ?? {})).toEqual([]);
  });

  it('an abandoned release an operator had paused is rolled back too, traffic no longer split', async () => {
    await shiftTraffic('r1', 0, deps);
    await control('r1', 'pause', 'ana', 'watching the dashboards', deps);
    expect((await runStore.store.getDeployment('r1'))!.status).toBe('PAUSED');
    expect(await rollBackAbandoned('r1', 'local mode stopped during the release', deps)).toMatchObject({
      status: 'ROLLED_BACK',
      outcome: 'local mode stopped during the release; all traffic of web:live is on version 1',
    });
    expect(alias().functionVersion).toBe('1');
    expect(Object.keys(alias().routingConfig?.additionalVersionWeights ?? {})).toEqual([]);
  });

  it("an operator's abort finishes a rollback left half done, and is refused once it has ended", async () => {
    await shiftTraffic('r1', 0, deps);
    await runStore.store.moveDeployment('r1', ['IN_PROGRESS'], 'ROLLING_BACK', { outcome: 'alarm web-errors' });
    expect(await control('r1', 'abort', 'ana', 'the alias is still split', deps)).toMatchObject({
      status: 'ROLLED_BACK',
      outcome: 'alarm web-errors; aborted by ana: the alias is still split; all traffic of web:live is on version 1',
    });
    expect(alias().functionVersion).toBe('1');
    expect(Object.keys(alias().routingConfig?.additionalVersionWeights ?? {})).toEqual([]);
    await expect(control('r1', 'abort', 'ana', 'again', deps)).rejects.toBeInstanceOf(ControlRefusedError);
  });

  it('an abandoned rollback is finished with its reason kept; an ended deployment is left as it is', async () => {
    await shiftTraffic('r1', 0, deps);
    await runStore.store.moveDeployment('r1', ['IN_PROGRESS'], 'ROLLING_BACK', { outcome: 'alarm web-errors' });
    const ended = await rollBackAbandoned('r1', 'local mode stopped during the release', deps);
    expect(ended).toMatchObject({
      status: 'ROLLED_BACK',
      outcome: 'alarm web-errors; local mode stopped during the release; all traffic of web:live is on version 1',
    });
    expect(alias().functionVersion).toBe('1');
    expect(await rollBackAbandoned('r1', 'again', deps)).toEqual(ended);
  });

  it("a rollback in flight when its execution's end finishes it first answers with the ended deployment", async () => {
    await shiftTraffic('r1', 0, deps);
    // The Roll back Task's rollback has begun and is moving the alias when the execution times out.
    const held = deployer.holdNext();
    const inFlight = rollBack('r1', 'alarm web-errors', deps);
    await held.waiting;
    const abandoned = await rollBackAbandoned('r1', 'the execution timed out during the release', deps);
    held.release();

    expect(await inFlight).toEqual(abandoned);
    expect(abandoned).toMatchObject({
      status: 'ROLLED_BACK',
      outcome: 'alarm web-errors; the execution timed out during the release; all traffic of web:live is on version 1',
    });
    expect(alias().functionVersion).toBe('1');
    expect(Object.keys(alias().routingConfig?.additionalVersionWeights ?? {})).toEqual([]);
  });

  it('an alias stood up again since (it serves neither version of the release) is not moved, and is said as it is', async () => {
    // As after local mode's restart: the alias on a placeholder, the release's versions gone.
    await runStore.store.moveDeployment('r1', ['IN_PROGRESS'], 'PAUSED', { fromVersion: '7', toVersion: '8' });
    expect(await rollBackAbandoned('r1', 'local mode stopped during the release', deps)).toMatchObject({
      status: 'ROLLED_BACK',
      outcome: 'local mode stopped during the release; all traffic of web:live is on version 1',
    });
    expect(alias().functionVersion).toBe('1');
  });

  it("a pause's hold doubles from 10 s to 5 min, and a pause past the maximum rolls back with an outcome that says so", async () => {
    let now = new Date('2026-11-25T10:00:00.000Z');
    const steps = { ...deps, now: () => now, alarms: { states: async () => alarms } };
    await shiftTraffic('r1', 0, steps);
    expect(await checkAfterBake('r1', steps)).toEqual({ paused: false, holdSeconds: 10 });
    await control('r1', 'pause', 'ana', 'watching the p99', steps);
    // Each hold waits as long as the pause has lasted: the loop's checks come after 10, 20, 40 … s.
    const holds: number[] = [];
    for (let i = 0; i < 8; i++) {
      const { paused, holdSeconds } = await checkAfterBake('r1', steps);
      expect(paused).toBe(true);
      holds.push(holdSeconds);
      now = new Date(now.getTime() + holdSeconds * 1000);
    }
    expect(holds).toEqual([10, 10, 20, 40, 80, 160, 300, 300]);
    expect(alias().routingConfig).toBeDefined();

    now = new Date(Date.parse('2026-11-25T10:00:00.000Z') + 24 * 3600_000);
    await expect(checkAfterBake('r1', steps)).rejects.toBeInstanceOf(DeploymentHaltedError);
    const deployment = (await runStore.store.getDeployment('r1'))!;
    expect(deployment).toMatchObject({
      status: 'ROLLED_BACK',
      outcome:
        "paused since 2026-11-25T10:00:00.000Z, longer than the pipeline's maximum pause of 24 h (deploy.maxPauseHours): rolled back so traffic is not left split",
    });
    expect(alias()).toMatchObject({ functionVersion: '1' });
    expect(alias().routingConfig?.additionalVersionWeights ?? {}).toEqual({});
  });

  it('a resumed pause no longer counts: the next pause is measured from its own start', async () => {
    let now = new Date('2026-11-25T10:00:00.000Z');
    const steps = { ...deps, now: () => now, alarms: { states: async () => alarms } };
    await shiftTraffic('r1', 0, steps);
    await control('r1', 'pause', 'ana', 'watching', steps);
    now = new Date(now.getTime() + 23 * 3600_000);
    await control('r1', 'resume', 'ana', 'fine', steps);
    expect(await checkAfterBake('r1', steps)).toEqual({ paused: false, holdSeconds: 10 });
    await control('r1', 'pause', 'ana', 'again', steps);
    now = new Date(now.getTime() + 2 * 3600_000);
    expect(await checkAfterBake('r1', steps)).toEqual({ paused: true, holdSeconds: 300 });
    expect((await runStore.store.getDeployment('r1'))!.status).toBe('PAUSED');
  });

  it('a deployment paused before pausedAt was recorded is measured from its pause intervention', async () => {
    let now = new Date('2026-11-25T10:00:00.000Z');
    const steps = { ...deps, now: () => now, alarms: { states: async () => alarms } };
    await shiftTraffic('r1', 0, steps);
    await runStore.store.moveDeployment('r1', ['IN_PROGRESS'], 'PAUSED');
    await runStore.store.recordIntervention('r1', {
      action: 'pause',
      by: 'ana',
      reason: 'before the upgrade',
      at: '2026-11-25T11:00:00.000Z',
    });
    now = new Date('2026-11-26T10:30:00.000Z');
    expect(await checkAfterBake('r1', steps)).toEqual({ paused: true, holdSeconds: 300 });
    now = new Date('2026-11-26T11:00:00.000Z');
    await expect(checkAfterBake('r1', steps)).rejects.toBeInstanceOf(DeploymentHaltedError);
    expect((await runStore.store.getDeployment('r1'))!.outcome).toMatch(/^paused since 2026-11-25T11:00:00.000Z, /);
    expect(alias()).toMatchObject({ functionVersion: '1' });
  });

  it('pause, resume, promote and abort are recorded with who and why, and refused in the wrong state', async () => {
    await shiftTraffic('r1', 0, deps);
    await control('r1', 'pause', 'ana', 'watching the p99', deps);
    await expect(control('r1', 'pause', 'ana', 'again', deps)).rejects.toThrow(
      'cannot pause the deployment of web:live (run r1): it is PAUSED; only an IN_PROGRESS deployment pauses',
    );
    await control('r1', 'resume', 'ana', 'p99 is fine', deps);
    const promoted = await control('r1', 'promote', 'ben', 'finish now', deps);
    expect(promoted).toMatchObject({ status: 'IN_PROGRESS', step: 2 });
    // The remaining step moves nothing; the state machine then finishes.
    await shiftTraffic('r1', 1, deps);
    expect(alias().functionVersion).toBe('2');
    expect((await finish('r1', { ...deps, alarms: { states: async () => alarms } })).status).toBe('SUCCEEDED');
    expect(
      (await runStore.store.getDeployment('r1'))!.interventions.map((i) => `${i.action} by ${i.by}: ${i.reason}`),
    ).toEqual(['pause by ana: watching the p99', 'resume by ana: p99 is fine', 'promote by ben: finish now']);
    await expect(control('r1', 'abort', 'ben', 'too late', deps)).rejects.toBeInstanceOf(ControlRefusedError);
    expect(alias().functionVersion).toBe('2');
  });

  it('refuses to start into a firing alarm when the policy says so', async () => {
    alarms.push({ name: 'web-errors', state: 'ALARM', reason: 'Threshold Crossed', at: '2026-11-25T09:59:00.000Z' });
    const refused = await startDeployment(
      {
        runId: 'r2',
        pipeline: 'web',
        function: 'web',
        alias: 'live',
        steps: [],
        alarms: ['web-errors'],
        whenAlarmsFire: 'refuse',
        maxPauseHours: 24,
      },
      { ...deps, deployments: runStore.store, alarms: { states: async () => alarms } },
    );
    expect(refused).toMatchObject({ status: 'REFUSED' });
    expect(refused.outcome).toContain('alarm web-errors is in ALARM (Threshold Crossed)');
  });
});

describe('releasing the build as a new version', () => {
  const runStore = useRunStore();
  let local: LocalLambda;
  let deps: DeploymentDeps;
  /** The reason the next code update of "web" fails with, if any. */
  let failure: { reasonCode: string; reason: string } | undefined;

  const artifact = async (name: string, body: string) => pathToFileURL(await local.code(name, body)).href;

  beforeEach(async () => {
    failure = undefined;
    local = await startLocalLambda({ updateMs: UPDATE_MS, updateOutcome: () => failure });
    const { functions, lambda } = local;
    for (const name of ['web', 'web-staging']) {
      functions.createFunction({ name, handler: 'index.handler' });
      functions.updateFunctionCode(name, fileURLToPath(await artifact(`${name}-v1`, '1')));
      await functions.updated(name);
      functions.createAlias(name, 'live', functions.publishVersion(name).version);
    }
    deps = {
      deployments: runStore.store,
      deployer: new LambdaDeployer(lambda, { firstPollMs: 20 }),
      now: () => new Date('2026-11-25T10:00:00.000Z'),
    };
    await startDeployment(
      {
        runId: 'r1',
        pipeline: 'web',
        function: 'web',
        alias: 'live',
        steps: [{ weight: 0.1, bakeSeconds: 0 }],
        alarms: [],
        whenAlarmsFire: 'refuse',
        maxPauseHours: 24,
      },
      { ...deps, deployments: runStore.store, alarms: { states: async () => [] } },
    );
  });
  afterEach(() => local.close());

  it('publishes once Lambda has ended the code update, not while it is in progress', async () => {
    const released = await publishNewVersion('r1', await artifact('web-v2', '2'), deps);

    expect(released.toVersion).toBe('2');
    expect(local.functions.getFunctionConfiguration('web').lastUpdate).toEqual({ status: 'Successful' });
    expect((await local.functions.invoke('web', '2', {})).payload).toBe(2);
    expect(local.functions.getAlias('web', 'live').functionVersion).toBe('1');
  });

  it("stops with Lambda's reason when the code update fails: no version is published, the alias stays", async () => {
    failure = { reasonCode: 'InvalidZipFileException', reason: 'Could not unzip uploaded file' };

    const release = publishNewVersion('r1', await artifact('web-v2', '2'), deps);

    await expect(release).rejects.toBeInstanceOf(FunctionUpdateFailedError);
    await expect(release).rejects.toThrow(
      'Lambda could not update the code of web (InvalidZipFileException): Could not unzip uploaded file',
    );
    expect((await runStore.store.getDeployment('r1'))!.toVersion).toBeUndefined();
    expect(local.functions.getAlias('web', 'live').functionVersion).toBe('1');
    expect((await local.functions.invoke('web', undefined, {})).payload).toBe(1);
  });

  it('stops waiting for an update that does not end in time', async () => {
    const slow = await startLocalLambda({ updateMs: 10_000 });
    try {
      slow.functions.createFunction({ name: 'web', handler: 'index.handler' });
      const update = new LambdaDeployer(slow.lambda, { firstPollMs: 20, maxUpdateWaitMs: 50 }).updateCode(
        'web',
        await artifact('web-slow', '3'),
      );

      await expect(update).rejects.toBeInstanceOf(FunctionUpdateTimedOutError);
    } finally {
      await slow.close();
    }
  });

  it('staging, too, publishes only after the update has ended', async () => {
    const version = await deployToStaging(
      { function: 'web-staging', alias: 'live', smokeEvent: {} },
      await artifact('web-staging-v2', '2'),
      deps.deployer,
    );

    expect(version).toBe('2');
    expect(local.functions.getAlias('web-staging', 'live').functionVersion).toBe('2');
  });
});
