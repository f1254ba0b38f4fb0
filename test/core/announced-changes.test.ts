/**
 * Every write of a deployment record through the deploy function's store is told as DeploymentChanged (what a live
 * console redraws); a move that did not happen (the record was in none of its from-statuses) tells nothing, and a
 * failure to tell never fails the write.
 */
import { announcingChanges } from '../../core/deployment/announced-changes';
import type { DeploymentRecord, RunEvent } from '../../core/records';
import { useRunStore } from '../support/store';

const deployment: DeploymentRecord = {
  runId: 'r1',
  pipeline: 'web',
  function: 'web',
  alias: 'live',
  fromVersion: '1',
  steps: [{ weight: 0.1, bakeSeconds: 0 }],
  step: -1,
  status: 'IN_PROGRESS',
  alarms: [],
  alarmsSeen: [],
  interventions: [],
  startedAt: '2026-12-03T10:00:00.000Z',
};

describe('announcingChanges', () => {
  const runStore = useRunStore();

  it('tells each write of the record once, with its pipeline', async () => {
    const told: RunEvent[] = [];
    const store = announcingChanges(runStore.store, { publish: async (event) => void told.push(event) });
    await store.createDeployment(deployment);
    await store.recordStep('r1', 0, { step: 0, weight: 0.1, at: '2026-12-03T10:01:00.000Z' });
    await store.recordIntervention('r1', {
      action: 'pause',
      by: 'alice',
      reason: 'look',
      at: '2026-12-03T10:02:00.000Z',
    });
    expect(await store.moveDeployment('r1', ['IN_PROGRESS'], 'ROLLING_BACK', { outcome: 'alarm' })).toMatchObject({
      status: 'ROLLING_BACK',
    });
    // Not moved (it is ROLLING_BACK): nothing changed, nothing told.
    expect(await store.moveDeployment('r1', ['IN_PROGRESS'], 'SUCCEEDED')).toBeUndefined();
    expect(told).toEqual(Array(4).fill({ kind: 'DeploymentChanged', runId: 'r1', pipeline: 'web' }));
    expect((await runStore.store.getDeployment('r1'))!.stepsTaken).toHaveLength(1);
  });

  it('never fails a write for an announcement that failed', async () => {
    const store = announcingChanges(runStore.store, {
      publish: async () => {
        throw new Error('the bus refused it');
      },
    });
    await expect(store.createDeployment(deployment)).resolves.toMatchObject({ runId: 'r1' });
    await expect(store.moveDeployment('r1', ['IN_PROGRESS'], 'PAUSED')).resolves.toMatchObject({ status: 'PAUSED' });
  });
});
