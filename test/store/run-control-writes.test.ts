/**
 * The run store's writes for run control (store/run-store.ts reopenRun, resetStage), against dynalite: a FAILED run
 * is reopened once however many redrives race, and only a FAILED stage is put back to PENDING.
 */
import type { Redrive } from '../../core/records';
import { queuedRun } from '../support/records';
import { useRunStore } from '../support/store';

describe('run control writes', () => {
  const runStore = useRunStore();
  const redrive = (n: number): Redrive => ({
    by: 'arn:aws:iam::111122223333:user/ana',
    at: '2026-12-03T12:00:00.000Z',
    fromState: 'Run test stages',
    executionArn: `arn:aws:states:eu-west-1:111122223333:execution:stepline-demo:r1-redrive-${n}`,
  });

  beforeEach(async () => {
    const { store } = runStore;
    await store.createRun(queuedRun({ runId: 'r1' }));
    await store.transitionRun('r1', 'RUNNING', { executionArn: 'arn:first' });
    await store.transitionStage('r1', 'unit', 'IN_PROGRESS');
    await store.transitionStage('r1', 'unit', 'FAILED', { failure: { stage: 'unit', error: 'E', cause: 'c' } });
    await store.transitionRun('r1', 'FAILED', {
      endedAt: '2026-12-03T11:00:00.000Z',
      durationMs: 5,
      failure: { error: 'E', cause: 'c' },
    });
  });

  it('reopens a FAILED run once: RUNNING, its end cleared, the redrive listed, active again', async () => {
    const { store } = runStore;
    const failed = (await store.getRun('r1'))!;

    const both = await Promise.all([store.reopenRun(failed, redrive(1)), store.reopenRun(failed, redrive(1))]);
    expect(both.sort()).toEqual([false, true]);
    const reopened = (await store.getRun('r1'))!;
    expect(reopened).toMatchObject({
      status: 'RUNNING',
      executionArn: redrive(1).executionArn,
      redrives: [redrive(1)],
    });
    expect(reopened.endedAt ?? reopened.failure ?? reopened.durationMs).toBeUndefined();
    expect((await store.listActiveRuns()).items.map((r) => r.runId)).toEqual(['r1']);
    // Not FAILED: no second reopen; FAILED again, the next redrive is the second.
    expect(await store.reopenRun(reopened, redrive(2))).toBe(false);
    await store.transitionRun('r1', 'FAILED');
    expect(await store.reopenRun(failed, redrive(2))).toBe(false);
    expect(await store.reopenRun((await store.getRun('r1'))!, redrive(2))).toBe(true);
    expect((await store.getRun('r1'))!.redrives).toEqual([redrive(1), redrive(2)]);
  });

  it('puts only a FAILED stage back to PENDING (no record), so it moves forward again', async () => {
    const { store } = runStore;
    await store.transitionStage('r1', 'lint', 'IN_PROGRESS');

    expect(await store.resetStage('r1', 'lint')).toBe(false);
    expect(await store.resetStage('r1', 'unit')).toBe(true);
    expect((await store.listStages('r1')).map((s) => [s.name, s.status])).toEqual([['lint', 'IN_PROGRESS']]);
    expect(await store.transitionStage('r1', 'unit', 'IN_PROGRESS')).toMatchObject({ status: 'IN_PROGRESS' });
  });
});
