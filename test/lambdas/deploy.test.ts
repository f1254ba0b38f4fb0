/**
 * The deploy handler on the real run store (dynalite) and local mode's Lambda through the real Lambda
 * client: an alarm of a pipeline, known by its name alone, finds that pipeline's deployment among every
 * active run, not only the first page of them; the composite over a pipeline's extra alarms rolls back for
 * the user's alarm in ALARM; an alarm of no deploying pipeline's moves nothing; a rollback after a failed
 * Task records the failure's message.
 */
import { catalogEntry, parseConfig } from '../../core/config/stepline-config';
import { FunctionUpdateFailedError } from '../../core/deployment/errors';
import { LambdaDeployer } from '../../lambdas/adapters/lambda-deployer';
import type { AlarmSeen, DeploymentStatus } from '../../core/records';
import { createHandler, type DeployDeps } from '../../lambdas/deploy';
import type { RunStore } from '../../store/run-store';
import { queuedRun } from '../support/records';
import { startLocalLambda, webWithTwoVersions, type LocalLambda } from '../support/local-lambda';
import { useRunStore } from '../support/store';

const unused = () => {
  throw new Error('not used here');
};

/** The deploy handler on the test's store; the ports a deployment request does not reach refuse to be used. */
function deployHandler(
  store: RunStore,
  now: () => Date,
  forPipeline: DeployDeps['forPipeline'],
  catalog: DeployDeps['catalog'] = { lookup: unused },
) {
  return createHandler(
    {
      deployments: store,
      runs: store,
      catalog,
      builds: { describeBuild: unused, logTail: unused },
      now,
      forPipeline,
    },
    () => undefined,
  );
}

/** How long a code update stays in progress here. */
const UPDATE_MS = 100;

/** Run `web-run`'s deployment of `web` in `status`, at its first step (half the traffic on version 2). */
function webDeployment(status: DeploymentStatus, alarms: string[]) {
  return {
    runId: 'web-run',
    pipeline: 'web',
    function: 'web',
    alias: 'live',
    fromVersion: '1',
    toVersion: '2',
    steps: [{ weight: 0.5, bakeSeconds: 60 }],
    step: 0,
    status,
    alarms,
    alarmsSeen: [],
    interventions: [],
    startedAt: '2026-11-25T09:31:00.000Z',
    ...(status === 'ROLLED_BACK' || status === 'SUCCEEDED' ? { endedAt: '2026-11-25T09:35:00.000Z' } : {}),
  };
}

describe('the deploy handler on an alarm', () => {
  const runStore = useRunStore();
  let local: LocalLambda;

  beforeEach(async () => {
    local = await startLocalLambda({ updateMs: UPDATE_MS });
    await webWithTwoVersions(local);
  });
  afterEach(() => local.close());

  /** The catalog: pipeline web deploys to web:live, with an alarm of the user's own. */
  const [web] = parseConfig({
    pipelines: [
      {
        name: 'web',
        source: { type: 'codecommit', repository: 'web', branch: 'main' },
        build: { buildspec: 'buildspecs/build.yml' },
        deploy: { function: 'web', extraAlarms: ['web-5xx'] },
      },
    ],
  }).pipelines;
  const catalog: DeployDeps['catalog'] = {
    lookup: async (pipeline) =>
      pipeline === 'web'
        ? catalogEntry(web!, 'arn:aws:states:eu-west-1:111122223333:stateMachine:stepline-web')
        : undefined,
  };
  /** What the alarm reader answers for the user's alarm web-5xx. */
  let userAlarm: AlarmSeen;
  /** The pipelines whose clients (deploy role) the handler asked for. */
  let pipelinesAsked: string[];
  beforeEach(() => (pipelinesAsked = []));
  const handlerOn = () =>
    deployHandler(
      runStore.store,
      () => new Date('2026-11-25T09:40:00.000Z'),
      async (pipeline) => {
        pipelinesAsked.push(pipeline);
        return {
          deployer: new LambdaDeployer(local.lambda),
          alarms: {
            states: async (names) => {
              expect(names).toEqual(['web-5xx']);
              return [userAlarm];
            },
          },
        };
      },
      catalog,
    );
  /** Run `web-run` of pipeline web, its deployment at its first step: half the traffic on version 2. */
  const deploying = async () => {
    await runStore.store.createRun(
      queuedRun({ runId: 'web-run', pipeline: 'web', createdAt: '2026-11-25T09:30:00.000Z' }),
    );
    await runStore.store.createDeployment(
      webDeployment('IN_PROGRESS', ['stepline-web-errors', 'stepline-web-throttles', 'web-5xx']),
    );
    local.functions.updateAlias('web', 'live', {
      functionVersion: '1',
      routingConfig: { additionalVersionWeights: { 2: 0.5 } },
    });
  };

  it("rolls back the pipeline's deployment when it is beyond the first page of active runs", async () => {
    const store = runStore.store;
    // 60 active runs of other pipelines, older than the deploying one: the active index lists them first.
    for (let i = 0; i < 60; i++) {
      await store.createRun(
        queuedRun({
          runId: `other-${String(i).padStart(2, '0')}`,
          pipeline: `other-${i}`,
          createdAt: `2026-11-25T08:${String(i).padStart(2, '0')}:00.000Z`,
        }),
      );
    }
    await deploying();
    expect((await store.listActiveRuns({ limit: 50 })).items.map((run) => run.runId)).not.toContain('web-run');

    const handler = handlerOn();

    const answer = await handler({
      kind: 'alarm',
      alarmName: 'stepline-web-errors',
      state: 'ALARM',
      reason: 'Threshold Crossed',
      timestamp: '2026-11-25T09:40:00.000Z',
    });

    expect(answer).toEqual({ rolledBack: ['web-run'] });
    expect(await store.getDeployment('web-run')).toMatchObject({
      status: 'ROLLED_BACK',
      outcome: 'alarm stepline-web-errors is in ALARM: Threshold Crossed',
    });
    expect(pipelinesAsked).toEqual(['web']);
    expect(local.functions.getAlias('web', 'live')).toMatchObject({ functionVersion: '1' });
    expect(local.functions.getAlias('web', 'live').routingConfig).toBeUndefined();
  });

  it("the composite over the pipeline's extra alarms rolls back for the user's alarm in ALARM, naming it", async () => {
    await deploying();
    userAlarm = { name: 'web-5xx', state: 'ALARM', reason: '5xx above 2%', at: '2026-11-25T09:39:00.000Z' };

    const answer = await handlerOn()({
      kind: 'alarm',
      alarmName: 'stepline-web-extra-alarms',
      state: 'ALARM',
      reason: 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:web-5xx transitioned to ALARM',
      timestamp: '2026-11-25T09:40:00.000Z',
    });

    expect(answer).toEqual({ rolledBack: ['web-run'] });
    expect(await runStore.store.getDeployment('web-run')).toMatchObject({
      status: 'ROLLED_BACK',
      outcome: 'alarm web-5xx is in ALARM: 5xx above 2%',
    });
  });

  it('the composite of a user alarm already back to OK rolls nothing back (the check after the bake reads it again)', async () => {
    await deploying();
    userAlarm = { name: 'web-5xx', state: 'OK', at: '2026-11-25T09:39:30.000Z' };

    const answer = await handlerOn()({
      kind: 'alarm',
      alarmName: 'stepline-web-extra-alarms',
      state: 'ALARM',
      timestamp: '2026-11-25T09:40:00.000Z',
    });

    expect(answer).toEqual({ rolledBack: [] });
    expect(await runStore.store.getDeployment('web-run')).toMatchObject({ status: 'IN_PROGRESS' });
  });

  it.each([
    // The prefix, but no suffix stepline gives its alarms.
    'stepline-web-latency',
    // A stepline alarm's shape, but no pipeline of that name is deployed.
    'stepline-gone-errors',
    // Pipeline web exists, but has no p99 alarm (no threshold set).
    'stepline-web-p99-duration',
  ])("%s: no deploying pipeline's alarm: nothing moves, no pipeline's role is taken", async (alarmName) => {
    await deploying();

    const answer = await handlerOn()({
      kind: 'alarm',
      alarmName,
      state: 'ALARM',
      timestamp: '2026-11-25T09:40:00.000Z',
    });

    expect(answer).toEqual({ rolledBack: [] });
    expect(pipelinesAsked).toEqual([]);
    expect(await runStore.store.getDeployment('web-run')).toMatchObject({ status: 'IN_PROGRESS' });
    expect(local.functions.getAlias('web', 'live').routingConfig).toEqual({ additionalVersionWeights: { 2: 0.5 } });
  });

  it("a rollback after a failed release says why in Lambda's words, not its error JSON", async () => {
    await deploying();
    const failure = new FunctionUpdateFailedError('web', 'KMSKeyAccessDenied', 'Lambda was unable to decrypt');

    const answer = await handlerOn()({
      kind: 'rollback',
      runId: 'web-run',
      // As Step Functions' Catch hands over a function's error.
      error: {
        Error: failure.name,
        Cause: JSON.stringify({ errorType: failure.name, errorMessage: failure.message, trace: ['at …'] }),
      },
    });

    expect(answer).toEqual({
      status: 'ROLLED_BACK',
      outcome:
        'FunctionUpdateFailedError: Lambda could not update the code of web (KMSKeyAccessDenied): Lambda was unable to decrypt',
    });
    expect(local.functions.getAlias('web', 'live').routingConfig).toBeUndefined();
  });
});

describe("the deploy handler at a pipeline execution's end", () => {
  const runStore = useRunStore();
  let local: LocalLambda;
  /** The alias moves the handler made, through the real deployer. */
  let routed: string[];
  /** The pipelines whose deploy role the handler took. */
  let rolesTaken: string[];
  let clock: number;

  beforeEach(async () => {
    local = await startLocalLambda({ updateMs: UPDATE_MS });
    await webWithTwoVersions(local);
    routed = [];
    rolesTaken = [];
    clock = Date.parse('2026-11-25T09:40:00.000Z');
  });
  afterEach(() => local.close());

  const handlerOn = () =>
    deployHandler(
      runStore.store,
      // Each reading of the clock a minute later: a second delivery would stamp another end.
      () => new Date((clock += 60_000)),
      async (pipeline) => {
        rolesTaken.push(pipeline);
        const deployer = new LambdaDeployer(local.lambda);
        const routeAlias = deployer.routeAlias.bind(deployer);
        deployer.routeAlias = async (fn, alias, primary, weights) => {
          routed.push(`${fn}:${alias} → ${primary} ${JSON.stringify(weights)}`);
          return routeAlias(fn, alias, primary, weights);
        };
        return { deployer, alarms: { states: unused } };
      },
    );
  /** Run `web-run`'s deployment in `status`, at its first step: half the traffic on version 2. */
  const deploying = async (status: DeploymentStatus = 'IN_PROGRESS') => {
    await runStore.store.createDeployment(webDeployment(status, ['web-errors']));
    local.functions.updateAlias('web', 'live', {
      functionVersion: '1',
      routingConfig: { additionalVersionWeights: { 2: 0.5 } },
    });
  };
  const ended = (status: string) => ({ kind: 'executionEnded', runId: 'web-run', status });

  it.each([
    [
      'ABORTED',
      'IN_PROGRESS',
      'the execution was aborted during the release (stopped in the console or by StopExecution)',
    ],
    ['TIMED_OUT', 'PAUSED', 'the execution timed out during the release'],
    ['FAILED', 'IN_PROGRESS', 'the execution failed during the release without rolling it back'],
  ] as const)(
    "an execution %s while its deployment is %s: rolled back through the pipeline's role, the outcome saying how the execution ended",
    async (execution, deployment, reason) => {
      await deploying(deployment);

      const answer = await handlerOn()(ended(execution));

      const outcome = `${reason}; all traffic of web:live is on version 1`;
      expect(answer).toEqual({ status: 'ROLLED_BACK', outcome });
      expect(await runStore.store.getDeployment('web-run')).toMatchObject({ status: 'ROLLED_BACK', outcome });
      expect(rolesTaken).toEqual(['web']);
      expect(local.functions.getAlias('web', 'live')).toMatchObject({ functionVersion: '1' });
      expect(local.functions.getAlias('web', 'live').routingConfig).toBeUndefined();
    },
  );

  it('an execution that succeeded, one without a deployment, or one whose deployment has ended: nothing moves', async () => {
    const handler = handlerOn();
    expect(await handler(ended('ABORTED'))).toEqual({});

    await deploying('IN_PROGRESS');
    expect(await handler(ended('SUCCEEDED'))).toEqual({});
    expect(await runStore.store.getDeployment('web-run')).toMatchObject({ status: 'IN_PROGRESS' });

    await runStore.store.moveDeployment('web-run', ['IN_PROGRESS'], 'ROLLED_BACK', { outcome: 'alarm web-errors' });
    // The state machine's Catch rolled it back before the execution failed.
    expect(await handler(ended('FAILED'))).toEqual({});
    expect(await runStore.store.getDeployment('web-run')).toMatchObject({
      status: 'ROLLED_BACK',
      outcome: 'alarm web-errors',
    });

    expect(rolesTaken).toEqual([]);
    expect(routed).toEqual([]);
    expect(local.functions.getAlias('web', 'live').routingConfig).toEqual({ additionalVersionWeights: { 2: 0.5 } });
  });

  it('an end delivered twice rolls back once: the second delivery finds the deployment ended', async () => {
    await deploying();
    const handler = handlerOn();

    await handler(ended('ABORTED'));
    const first = await runStore.store.getDeployment('web-run');
    expect(await handler(ended('ABORTED'))).toEqual({});

    expect(await runStore.store.getDeployment('web-run')).toEqual(first);
    expect(routed).toEqual(['web:live → 1 {}']);
  });

  it('a delivery retried after the first attempt died mid-rollback finishes it, its reason said once', async () => {
    await deploying();
    const reason = 'the execution was aborted during the release (stopped in the console or by StopExecution)';
    // The first attempt's first write, then nothing (its Lambda timed out): Lambda retries the event.
    await runStore.store.moveDeployment('web-run', ['IN_PROGRESS'], 'ROLLING_BACK', { outcome: reason });

    await handlerOn()(ended('ABORTED'));

    expect(await runStore.store.getDeployment('web-run')).toMatchObject({
      status: 'ROLLED_BACK',
      outcome: `${reason}; all traffic of web:live is on version 1`,
    });
    expect(local.functions.getAlias('web', 'live').routingConfig).toBeUndefined();
  });

  it('an end delivered twice at once rolls back once, its reason said once', async () => {
    await deploying();
    const handler = handlerOn();

    await Promise.all([handler(ended('ABORTED')), handler(ended('ABORTED'))]);

    expect(await runStore.store.getDeployment('web-run')).toMatchObject({
      status: 'ROLLED_BACK',
      outcome:
        'the execution was aborted during the release (stopped in the console or by StopExecution); all traffic of web:live is on version 1',
    });
    expect(local.functions.getAlias('web', 'live')).toMatchObject({ functionVersion: '1' });
    expect(local.functions.getAlias('web', 'live').routingConfig).toBeUndefined();
  });
});
