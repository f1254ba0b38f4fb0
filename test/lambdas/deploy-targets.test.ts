/**
 * The deploy handler asks for the clients of the right target: "Deploy to staging" the staging target's
 * (which may be in another account than production's), every other step the production target's. On the
 * real run store (dynalite); the target's clients are recorded and refused, so each request stops there.
 */
import { createHandler, type DeployDeps } from '../../lambdas/deploy';
import type { ReleaseTarget } from '../../core/deployment/targets';
import { queuedRun } from '../support/records';
import { useRunStore } from '../support/store';

class TargetAsked extends Error {}

describe('the deploy handler: which target each request works on', () => {
  const runStore = useRunStore();
  let asked: [string, ReleaseTarget, string | undefined][];

  const handler = () => {
    asked = [];
    const deps: DeployDeps = {
      deployments: runStore.store,
      runs: runStore.store,
      catalog: { lookup: async () => undefined },
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
});
