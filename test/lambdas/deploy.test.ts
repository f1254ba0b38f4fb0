/**
 * The deploy handler on the real run store (dynalite) and local mode's Lambda through the real Lambda
 * client: an alarm of a pipeline finds that pipeline's deployment among every active run, not only the
 * first page of them; a rollback after a failed Task records the failure's message.
 */
import { FunctionUpdateFailedError } from '../../core/deployment/errors';
import { LambdaDeployer } from '../../lambdas/adapters/lambda-deployer';
import { createHandler } from '../../lambdas/deploy';
import { queuedRun } from '../support/records';
import { startLocalLambda, webWithTwoVersions, type LocalLambda } from '../support/local-lambda';
import { useRunStore } from '../support/store';

/** How long a code update stays in progress here. */
const UPDATE_MS = 100;

describe('the deploy handler on an alarm', () => {
  const runStore = useRunStore();
  let local: LocalLambda;

  beforeEach(async () => {
    local = await startLocalLambda({ updateMs: UPDATE_MS });
    await webWithTwoVersions(local);
  });
  afterEach(() => local.close());

  const unused = () => {
    throw new Error('not used here');
  };
  const handlerOn = () =>
    createHandler(
      {
        deployments: runStore.store,
        runs: runStore.store,
        catalog: { lookup: unused },
        builds: { describeBuild: unused, logTail: unused },
        now: () => new Date('2026-11-25T09:40:00.000Z'),
        forPipeline: async () => ({ deployer: new LambdaDeployer(local.lambda), alarms: { states: unused } }),
      },
      () => undefined,
    );
  /** Run `web-run` of pipeline web, its deployment at its first step: half the traffic on version 2. */
  const deploying = async () => {
    await runStore.store.createRun(
      queuedRun({ runId: 'web-run', pipeline: 'web', createdAt: '2026-11-25T09:30:00.000Z' }),
    );
    await runStore.store.createDeployment({
      runId: 'web-run',
      pipeline: 'web',
      function: 'web',
      alias: 'live',
      fromVersion: '1',
      toVersion: '2',
      steps: [{ weight: 0.5, bakeSeconds: 60 }],
      step: 0,
      status: 'IN_PROGRESS',
      alarms: ['web-errors'],
      alarmsSeen: [],
      interventions: [],
      startedAt: '2026-11-25T09:31:00.000Z',
    });
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
      pipeline: 'web',
      alarmName: 'web-errors',
      state: 'ALARM',
      reason: 'Threshold Crossed',
      timestamp: '2026-11-25T09:40:00.000Z',
    });

    expect(answer).toEqual({ rolledBack: ['web-run'] });
    expect(await store.getDeployment('web-run')).toMatchObject({
      status: 'ROLLED_BACK',
      outcome: 'alarm web-errors is in ALARM: Threshold Crossed',
    });
    expect(local.functions.getAlias('web', 'live')).toMatchObject({ functionVersion: '1' });
    expect(local.functions.getAlias('web', 'live').routingConfig).toBeUndefined();
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
