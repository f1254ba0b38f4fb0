/**
 * The deploy handler asks for the clients of the right target: "Deploy to staging" the staging target's
 * (which may be in another account than production's), every other step the production target's. On the
 * real run store (dynalite); the target's clients are recorded and refused, so each request stops there.
 */
import { catalogEntry, parseConfig } from '../../core/config/stepline-config';
import type { ReleaseTarget } from '../../core/deployment/targets';
import { createHandler, type DeployDeps } from '../../lambdas/deploy';
import { queuedRun } from '../support/records';
import { useRunStore } from '../support/store';

class TargetAsked extends Error {}

describe('the deploy handler: which target each request works on', () => {
  const runStore = useRunStore();
  let asked: [string, ReleaseTarget, string | undefined][];

  /** web stages in 222222222222 and releases in 333333333333; home releases in the platform's account. */
  const pipelines = parseConfig({
    pipelines: [
      {
        name: 'web',
        source: { type: 'codecommit', repository: 'web', branch: 'main' },
        build: { buildspec: 'buildspec.yml' },
        deploy: {
          function: 'web',
          account: '333333333333',
          staging: { function: 'web-staging', account: '222222222222', smokeEvent: {} },
        },
      },
      {
        name: 'home',
        source: { type: 'codecommit', repository: 'home', branch: 'main' },
        build: { buildspec: 'buildspec.yml' },
        deploy: { function: 'home' },
      },
    ],
  }).pipelines;
  const handler = () => {
    asked = [];
    const deps: DeployDeps = {
      deployments: runStore.store,
      runs: runStore.store,
      catalog: {
        lookup: async (name) => {
          const pipeline = pipelines.find((p) => p.name === name);
          return (
            pipeline && catalogEntry(pipeline, `arn:aws:states:eu-west-1:111111111111:stateMachine:stepline-${name}`)
          );
        },
      },
      builds: {
        describeBuild: async () => {
          throw new Error('not reached: the target is asked for first');
        },
        logTail: async () => [],
      },
      now: () => new Date('2026-11-25T09:40:00.000Z'),
      forPipeline: async (pipeline, target, session) => {
        asked.push([pipeline, target, session]);
        throw new TargetAsked();
      },
    };
    return createHandler(deps, () => undefined);
  };

  beforeEach(async () => {
    await runStore.store.createRun(queuedRun({ runId: 'web-run', pipeline: 'web' }));
    await runStore.store.createRun(queuedRun({ runId: 'home-run', pipeline: 'home' }));
  });

  it.each([
    [{ kind: 'staging', runId: 'web-run', buildId: 'b:1' }, 'staging'],
    [{ kind: 'release', runId: 'web-run', buildId: 'b:1' }, 'production'],
    [{ kind: 'promote', runId: 'web-run' }, 'production'],
    [{ kind: 'check', runId: 'web-run' }, 'production'],
  ] as const)('%o works on the %s target, the run as the session', async (request, target) => {
    await expect(handler()(request)).rejects.toThrow(TargetAsked);
    expect(asked).toEqual([['web', target, 'web-run']]);
  });

  const alarm = (alarmName: string, forwardedFrom?: string) => ({
    kind: 'alarm',
    alarmName,
    state: 'ALARM',
    reason: 'Threshold Crossed',
    timestamp: '2026-11-25T09:39:00.000+0000',
    ...(forwardedFrom ? { forwardedFrom } : {}),
  });

  it("acts on a forwarded alarm only from the account of the pipeline's production target", async () => {
    await expect(handler()(alarm('stepline-web-errors', '333333333333'))).rejects.toThrow(TargetAsked);
    expect(asked).toEqual([['web', 'production', 'web-run']]);
  });

  it.each([
    ['stepline-web-errors', '222222222222'],
    ['stepline-web-errors', '444444444444'],
    ['stepline-home-errors', '333333333333'],
  ])('refuses %s forwarded from account %s: no rollback, no role assumed', async (alarmName, account) => {
    expect(await handler()(alarm(alarmName, account))).toEqual({ rolledBack: [] });
    expect(asked).toEqual([]);
  });

  it("acts on an alarm of the platform's own default bus (not forwarded)", async () => {
    await expect(handler()(alarm('stepline-home-errors'))).rejects.toThrow(TargetAsked);
    expect(asked).toEqual([['home', 'production', 'home-run']]);
  });
});
