import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { InvalidTransitionError, RunAlreadyExistsError, RunNotFoundError } from '../../core/errors';
import type { ApprovalDecision, ApprovalRecord, DeploymentRecord, NotificationRecord } from '../../core/records';
import { RunStore } from '../../store/run-store';
import { queuedRun } from '../support/records';
import { useRunStore } from '../support/store';

describe('RunStore (dynalite, real SDK v3)', () => {
  const runStore = useRunStore();
  let store: RunStore;
  beforeEach(() => {
    store = runStore.store;
  });

  describe('createRun', () => {
    it('creates a run once and reads it back', async () => {
      const run = queuedRun();
      await store.createRun(run);
      expect(await store.getRun(run.runId)).toEqual(run);
    });

    it('refuses a second create and hands back the existing run', async () => {
      const run = queuedRun();
      await store.createRun(run);
      const duplicate = store.createRun({ ...run, createdAt: '2030-01-01T00:00:00.000Z' });
      await expect(duplicate).rejects.toBeInstanceOf(RunAlreadyExistsError);
      await expect(duplicate).rejects.toMatchObject({ existing: run });
      expect(await store.getRun(run.runId)).toEqual(run);
    });
  });

  describe('transitionRun', () => {
    it('moves a run forward and records the fields', async () => {
      const run = await store.createRun(queuedRun());
      const running = await store.transitionRun(run.runId, 'RUNNING', {
        executionArn: 'arn:aws:states:local:000000000000:execution:web:x',
        startedAt: '2026-11-25T09:00:02.000Z',
      });
      expect(running).toMatchObject({ status: 'RUNNING', executionArn: expect.stringContaining('execution') });
      const done = await store.transitionRun(run.runId, 'SUCCEEDED', { endedAt: '2026-11-25T09:01:00.000Z' });
      expect(done).toEqual({ ...running, status: 'SUCCEEDED', endedAt: '2026-11-25T09:01:00.000Z' });
    });

    it('never moves a run backwards', async () => {
      const run = await store.createRun(queuedRun());
      await store.transitionRun(run.runId, 'RUNNING');
      await store.transitionRun(run.runId, 'FAILED');
      const backwards = store.transitionRun(run.runId, 'RUNNING');
      await expect(backwards).rejects.toBeInstanceOf(InvalidTransitionError);
      await expect(backwards).rejects.toThrow(`run ${run.runId} cannot move from FAILED to RUNNING`);
      await expect(store.transitionRun(run.runId, 'SUCCEEDED')).rejects.toThrow('cannot move from FAILED to SUCCEEDED');
      expect((await store.getRun(run.runId))?.status).toBe('FAILED');
    });

    it('treats a repeated transition as done (a retried task)', async () => {
      const run = await store.createRun(queuedRun());
      const first = await store.transitionRun(run.runId, 'RUNNING', { startedAt: 'first' });
      const again = await store.transitionRun(run.runId, 'RUNNING', { startedAt: 'second' });
      expect(again).toEqual(first);
    });

    it('does not create a run it cannot find', async () => {
      await expect(store.transitionRun('missing', 'RUNNING')).rejects.toBeInstanceOf(RunNotFoundError);
      expect(await store.getRun('missing')).toBeUndefined();
    });
  });

  describe('stages', () => {
    it('records a stage from its start to its end and lists a run’s stages', async () => {
      const run = await store.createRun(queuedRun());
      await store.transitionStage(run.runId, 'build', 'IN_PROGRESS', { startedAt: 't0' });
      await store.transitionStage(run.runId, 'unit', 'IN_PROGRESS', { startedAt: 't1' });
      await store.transitionStage(run.runId, 'build', 'SUCCEEDED', { buildId: 'web-build:1', durationMs: 1200 });
      const stages = await store.listStages(run.runId);
      expect(stages).toEqual([
        {
          runId: run.runId,
          name: 'build',
          status: 'SUCCEEDED',
          startedAt: 't0',
          buildId: 'web-build:1',
          durationMs: 1200,
        },
        { runId: run.runId, name: 'unit', status: 'IN_PROGRESS', startedAt: 't1' },
      ]);
    });

    it('records a failure of a stage that never started, and nothing after an end', async () => {
      const run = await store.createRun(queuedRun());
      await store.transitionStage(run.runId, 'unit', 'FAILED', { failure: { error: 'States.Timeout', cause: 'x' } });
      await expect(store.transitionStage(run.runId, 'unit', 'IN_PROGRESS')).rejects.toThrow(
        `stage unit of run ${run.runId} cannot move from FAILED to IN_PROGRESS`,
      );
      await expect(store.transitionStage(run.runId, 'unit', 'SUCCEEDED')).rejects.toBeInstanceOf(
        InvalidTransitionError,
      );
    });
  });

  describe('queries', () => {
    it("lists a pipeline's runs newest first, a page at a time", async () => {
      for (const minute of [1, 3, 2]) {
        await store.createRun(queuedRun({ runId: `web-run-${minute}`, createdAt: `2026-11-25T09:0${minute}:00.000Z` }));
      }
      await store.createRun(queuedRun({ runId: 'api-run-1', pipeline: 'api' }));
      const first = await store.listRuns('web', { limit: 2 });
      expect(first.items.map((r) => r.runId)).toEqual(['web-run-3', 'web-run-2']);
      const second = await store.listRuns('web', { limit: 2, cursor: first.cursor });
      expect(second.items.map((r) => r.runId)).toEqual(['web-run-1']);
      await expect(store.listRuns('web', { cursor: 'not-a-cursor' })).rejects.toThrow('invalid page cursor');
    });

    it('lists active runs only, and drops a run from them when it ends', async () => {
      await store.createRun(queuedRun({ runId: 'a', createdAt: '2026-11-25T09:01:00.000Z' }));
      await store.createRun(queuedRun({ runId: 'b', createdAt: '2026-11-25T09:02:00.000Z' }));
      await store.transitionRun('a', 'RUNNING');
      expect((await store.listActiveRuns()).items.map((r) => r.runId)).toEqual(['a', 'b']);
      await store.transitionRun('a', 'SUCCEEDED');
      expect((await store.listActiveRuns()).items.map((r) => r.runId)).toEqual(['b']);
    });
  });

  // Every create is one put-if-absent, every status change one conditional transition (store/table.ts):
  // what each record makes of a repeat differs, and is kept.
  describe('gates, decisions and links', () => {
    const gate: ApprovalRecord = {
      runId: 'r1',
      pipeline: 'web',
      branch: 'main',
      commitRange: { to: 'c1' },
      commits: [],
      tests: [],
      risk: { class: 'normal', reasons: [] },
      required: { approvals: 1 },
      asked: ['ana'],
      openedAt: '2026-11-25T09:00:00.000Z',
      deadline: '2026-11-26T09:00:00.000Z',
      status: 'PENDING',
    };

    it('opens a gate once; a second open resolves with the first', async () => {
      expect(await store.createApproval(gate)).toEqual(gate);
      expect(await store.createApproval({ ...gate, asked: ['bo'] })).toEqual(gate);
      expect(await store.getApproval('r1')).toEqual(gate);
    });

    it('moves a gate forward only, a repeat being done', async () => {
      await store.createApproval(gate);
      const waiting = await store.transitionApproval('r1', 'WAITING', { taskToken: 'token-1' });
      expect(await store.transitionApproval('r1', 'WAITING', { taskToken: 'token-2' })).toEqual(waiting);
      await store.transitionApproval('r1', 'APPROVED');
      await expect(store.transitionApproval('r1', 'WAITING')).rejects.toThrow(
        'release gate of run r1 cannot move from APPROVED to WAITING',
      );
      await expect(store.transitionApproval('other', 'WAITING')).rejects.toBeInstanceOf(RunNotFoundError);
    });

    it('moves a gate from the status a writer read only: of two writers ending it, the second is refused', async () => {
      await store.createApproval(gate);
      await store.transitionApproval('r1', 'WAITING', { taskToken: 'token-1' });
      const [first, second] = await Promise.allSettled([
        store.transitionApproval('r1', 'APPROVED', { approvedBy: ['ana'] }, 'WAITING'),
        store.transitionApproval('r1', 'APPROVED', { approvedBy: ['bo'] }, 'WAITING'),
      ]);
      const outcomes = [first, second].map((o) => o.status);
      expect(outcomes.sort()).toEqual(['fulfilled', 'rejected']);
      const refused = [first, second].find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(InvalidTransitionError);
      expect((refused.reason as Error).message).toBe('release gate of run r1 cannot move from APPROVED to APPROVED');
      const winner = (await store.getApproval('r1'))!;
      expect(winner.status).toBe('APPROVED');
      expect([first, second].find((o) => o.status === 'fulfilled')).toMatchObject({ value: winner });
      await expect(store.transitionApproval('other', 'APPROVED', {}, 'WAITING')).rejects.toBeInstanceOf(
        RunNotFoundError,
      );
    });

    it("records an approver's decision once, and hands back the first to a second", async () => {
      const approve: ApprovalDecision = {
        runId: 'r1',
        approverId: 'ana',
        decision: 'approve',
        via: 'cli',
        principal: 'ana@example.com',
        at: '2026-11-25T09:01:00.000Z',
      };
      expect(await store.recordDecision(approve)).toBeUndefined();
      expect(await store.recordDecision({ ...approve, decision: 'reject', at: '2026-11-25T09:02:00.000Z' })).toEqual(
        approve,
      );
      expect(await store.listDecisions('r1')).toEqual([approve]);
    });

    it('uses a link once', async () => {
      expect(await store.useLink('r1', 'nonce-1', '2026-11-25T09:01:00.000Z')).toBe(true);
      expect(await store.useLink('r1', 'nonce-1', '2026-11-25T09:02:00.000Z')).toBe(false);
    });
  });

  describe('notifications', () => {
    const notification: NotificationRecord = {
      runId: 'r1',
      id: 'slack:ended',
      channel: 'slack',
      status: 'PENDING',
      message: { text: 'done' },
      createdAt: '2026-11-25T09:00:00.000Z',
      attempts: [],
    };
    const at = (minute: number) => new Date(`2026-11-25T09:0${minute}:00.000Z`);

    it('records a notification once; a second record resolves with the first', async () => {
      expect(await store.recordNotification(notification)).toEqual(notification);
      expect(await store.recordNotification({ ...notification, message: { text: 'other' } })).toEqual(notification);
    });

    it('claims a notification for one sender until the claim lapses, and records each attempt', async () => {
      await store.recordNotification(notification);
      expect(await store.claimNotification('r1', 'slack:ended', at(0), at(1), 3)).toBe(true);
      expect(await store.claimNotification('r1', 'slack:ended', at(0), at(1), 3)).toBe(false);
      expect(await store.claimNotification('r1', 'slack:ended', at(2), at(3), 3)).toBe(true);
      const failed = { at: at(2).toISOString(), outcome: 'FAILED' as const, error: 'timeout' };
      await store.recordAttempt('r1', 'slack:ended', failed);
      expect(await store.listNotifications('r1')).toEqual([{ ...notification, status: 'FAILED', attempts: [failed] }]);
      // An attempt is recorded only by the sender holding the claim.
      await expect(store.recordAttempt('r1', 'slack:ended', failed)).rejects.toBeInstanceOf(
        ConditionalCheckFailedException,
      );
      expect(await store.claimNotification('r1', 'slack:ended', at(4), at(5), 1)).toBe(false);
      expect(await store.claimNotification('r1', 'slack:ended', at(4), at(5), 2)).toBe(true);
    });
  });

  describe('deployments', () => {
    const deployment: DeploymentRecord = {
      runId: 'r1',
      pipeline: 'web',
      function: 'web-api',
      alias: 'live',
      fromVersion: '1',
      toVersion: '2',
      steps: [],
      step: -1,
      status: 'IN_PROGRESS',
      alarms: [],
      alarmsSeen: [],
      interventions: [],
      startedAt: '2026-11-25T09:00:00.000Z',
    };

    it('records a deployment once; a second start resolves with the first', async () => {
      expect(await store.createDeployment(deployment)).toEqual(deployment);
      expect(await store.createDeployment({ ...deployment, fromVersion: '7' })).toEqual(deployment);
    });

    it('moves a deployment only from the statuses named, back and forth, and never takes a repeat as done', async () => {
      await store.createDeployment(deployment);
      const paused = await store.moveDeployment('r1', ['IN_PROGRESS'], 'PAUSED', { pausedAt: 't1' });
      expect(paused).toEqual({ ...deployment, status: 'PAUSED', pausedAt: 't1' });
      expect(await store.moveDeployment('r1', ['IN_PROGRESS'], 'PAUSED', { pausedAt: 't2' })).toBeUndefined();
      expect(await store.moveDeployment('r1', ['PAUSED'], 'IN_PROGRESS')).toMatchObject({ status: 'IN_PROGRESS' });
      expect(await store.moveDeployment('missing', ['IN_PROGRESS'], 'PAUSED')).toBeUndefined();
      expect(await store.getDeployment('r1')).toEqual({ ...deployment, pausedAt: 't1' });
    });
  });
});
