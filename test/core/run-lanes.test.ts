/**
 * Execution modes through the starter (a push arrives) and the recorder (a run ends), on the real
 * run store over dynalite: the lane's conditional writes are what keep runs one at a time.
 */
import type { ExecutionStarter } from '../../core/ports';
import { recordProgress, type ProgressDeps } from '../../core/runs/progress';
import type { PipelineCatalogEntry } from '../../core/catalog';
import type { ExecutionMode, SourceChanged } from '../../core/records';
import { advanceLane } from '../../core/runs/run-lanes';
import { startRun, type StartRunDeps } from '../../core/runs/start-run';
import { useRunStore } from '../support/store';

const commit = (i: number) => i.toString(16).padStart(40, '0');
const push = (i: number): SourceChanged => ({
  pipeline: 'web',
  repository: 'octo/web',
  branch: 'main',
  referenceType: 'branch',
  commitId: commit(i),
  message: `change ${i}`,
  author: { name: 'Ada', email: 'ada@example.com' },
  trigger: {
    kind: 'github',
    deliveryId: `delivery-${i}`,
    eventTime: new Date(Date.UTC(2026, 10, 25, 9, 0, i)).toISOString(),
  },
});

describe('execution modes', () => {
  const runStore = useRunStore();
  let started: string[];
  /** Executions that ended without their run recording it (a lost status event). */
  let aborted: Set<string>;
  let entry: PipelineCatalogEntry;
  let starter: StartRunDeps;
  let recorder: ProgressDeps;

  const configure = (executionMode: ExecutionMode) => {
    started = [];
    entry = {
      stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:stepline-web',
      source: { kind: 'github', repository: 'octo/web' },
      stages: { build: { name: 'build', project: 'stepline-web-build' }, tests: [], testConcurrency: 0 },
      filters: { branches: ['main'], tags: false, skipMarkers: [] },
      executionMode,
    };
    aborted = new Set();
    const executions: ExecutionStarter = {
      status: async (arn) => {
        const name = arn.split(':').pop()!;
        return aborted.has(name) ? 'ABORTED' : started.includes(name) ? 'RUNNING' : undefined;
      },
      start: async ({ name }) => {
        const alreadyStarted = started.includes(name);
        if (!alreadyStarted) started.push(name);
        return { executionArn: `arn:execution:${name}`, alreadyStarted };
      },
    };
    const shared = {
      runs: runStore.store,
      lanes: runStore.store,
      catalog: { lookup: async () => entry },
      executions,
      events: { publish: async () => undefined },
      now: () => new Date('2026-11-25T10:00:00.000Z'),
    };
    starter = { ...shared, commits: { getCommit: async () => ({}), changedFiles: async () => [] } };
    recorder = {
      ...shared,
      approvals: runStore.store,
      builds: { describeBuild: async () => Promise.reject(new Error('unused')), logTail: async () => [] },
    };
  };
  /** What the state machine records when an execution starts, and when it ends. */
  const run = (runId: string) =>
    recordProgress(
      { kind: 'runStarted', runId, executionArn: `arn:execution:${runId}`, startedAt: '2026-11-25T10:00:00.000Z' },
      recorder,
    );
  const succeed = (runId: string) => recordProgress({ kind: 'runSucceeded', runId }, recorder);
  const status = async (runId: string) => (await runStore.store.getRun(runId))?.status;

  it('QUEUED: twenty pushes arriving at once run one at a time, in push order', async () => {
    configure('QUEUED');
    const first = await startRun(push(0), starter);
    await run(first.runId);
    // The other nineteen arrive together, in scrambled order, while the first runs.
    const scrambled = Array.from({ length: 19 }, (_, i) => i + 1).sort((a, b) => ((a * 7) % 19) - ((b * 7) % 19));
    const results = await Promise.all(scrambled.map((i) => startRun(push(i), starter)));
    expect(results.every((r) => r.queued && !r.executionArn)).toBe(true);
    expect(started).toEqual([first.runId]);

    const order = [first.runId];
    for (let step = 0; step < 19; step++) {
      const current = order.at(-1)!;
      await succeed(current);
      // Exactly one more run was started by that end, and none other is running.
      expect(started).toHaveLength(order.length + 1);
      order.push(started.at(-1)!);
      await run(started.at(-1)!);
    }
    await succeed(order.at(-1)!);
    const byPush = await Promise.all(Array.from({ length: 20 }, (_, i) => startRun(push(i), starter)));
    expect(order).toEqual(byPush.map((r) => r.runId));
    expect(byPush.every((r) => r.duplicate)).toBe(true);
    expect(started).toHaveLength(20);
    expect(await runStore.store.waiting('web')).toEqual([]);
    expect(await runStore.store.holder('web')).toBeUndefined();
  });

  it('SUPERSEDED: when the running run ends, only the newest waiting run starts; the others name it', async () => {
    configure('SUPERSEDED');
    const first = await startRun(push(0), starter);
    await run(first.runId);
    const waiting = [];
    for (const i of [1, 2, 3]) waiting.push(await startRun(push(i), starter));
    expect(waiting.map((r) => r.queued)).toEqual([true, true, true]);

    await succeed(first.runId);
    const newest = waiting[2]!.runId;
    expect(started).toEqual([first.runId, newest]);
    for (const older of waiting.slice(0, 2)) {
      expect(await runStore.store.getRun(older.runId)).toMatchObject({
        status: 'SUPERSEDED',
        supersededBy: newest,
        endedAt: '2026-11-25T10:00:00.000Z',
      });
    }
    expect(await runStore.store.waiting('web')).toEqual([]);
  });

  it('PARALLEL: every push starts at once, as before', async () => {
    configure('PARALLEL');
    const results = await Promise.all([0, 1, 2].map((i) => startRun(push(i), starter)));
    expect(results.every((r) => r.executionArn && !r.queued)).toBe(true);
    expect(new Set(started)).toEqual(new Set(results.map((r) => r.runId)));
  });

  it('an aborted execution ends its run FAILED with the reason, and the next run starts', async () => {
    configure('QUEUED');
    const first = await startRun(push(0), starter);
    await run(first.runId);
    const second = await startRun(push(1), starter);
    await recordProgress({ kind: 'executionEnded', runId: first.runId, status: 'ABORTED' }, recorder);
    expect(await runStore.store.getRun(first.runId)).toMatchObject({
      status: 'FAILED',
      failure: { error: 'ExecutionAborted', cause: "the run's execution was aborted before the run recorded its end" },
    });
    expect(started).toEqual([first.runId, second.runId]);
    // The status change of an execution whose run recorded its end changes nothing, and starts nothing twice.
    await run(second.runId);
    await succeed(second.runId);
    await recordProgress({ kind: 'executionEnded', runId: second.runId, status: 'SUCCEEDED' }, recorder);
    expect(await status(second.runId)).toBe('SUCCEEDED');
    expect(started).toHaveLength(2);
  });

  it('completes what a crash interrupted: a lane taken but not started, a lane held by an ended run', async () => {
    configure('QUEUED');
    const first = await startRun(push(0), starter);
    const [holding] = [await runStore.store.holder('web')];
    expect(holding?.runId).toBe(first.runId);
    // Crash after the lane was taken, before StartExecution: the next mover starts it (idempotently).
    started = [];
    expect(await advanceLane('web', 'QUEUED', recorder)).toMatchObject({ runId: first.runId });
    expect(started).toEqual([first.runId]);
    // Crash after the run ended, before the lane was freed: the next arrival frees it and starts.
    await run(first.runId);
    await runStore.store.transitionRun(first.runId, 'SUCCEEDED', { endedAt: '2026-11-25T10:01:00.000Z' });
    const second = await startRun(push(1), starter);
    expect(second).toMatchObject({ executionArn: `arn:execution:${second.runId}`, duplicate: false });
  });

  it('a redelivered push still waiting is admitted again, once; one that ran is only a duplicate', async () => {
    configure('QUEUED');
    const first = await startRun(push(0), starter);
    await run(first.runId);
    const waiting = await startRun(push(1), starter);
    expect(await startRun(push(1), starter)).toEqual({ runId: waiting.runId, duplicate: true, queued: true });
    expect(await runStore.store.waiting('web')).toHaveLength(1);
    expect(await startRun(push(0), starter)).toEqual({
      runId: first.runId,
      duplicate: true,
      executionArn: `arn:execution:${first.runId}`,
    });
  });

  it('the sweep catches up with an execution whose status event was lost: run FAILED, next run started', async () => {
    configure('QUEUED');
    const first = await startRun(push(0), starter);
    await run(first.runId);
    const second = await startRun(push(1), starter);
    aborted.add(first.runId);
    // Too young to sweep: its own steps may still be moving it.
    await recordProgress({ kind: 'sweep' }, { ...recorder, now: () => new Date('2026-11-25T10:05:00.000Z') });
    expect(await status(first.runId)).toBe('RUNNING');
    await recordProgress({ kind: 'sweep' }, { ...recorder, now: () => new Date('2026-11-25T10:11:00.000Z') });
    expect(await runStore.store.getRun(first.runId)).toMatchObject({
      status: 'FAILED',
      failure: { error: 'ExecutionAborted' },
    });
    expect(started).toEqual([first.runId, second.runId]);
    // Sweeping again changes nothing.
    await recordProgress({ kind: 'sweep' }, { ...recorder, now: () => new Date('2026-11-25T10:12:00.000Z') });
    expect(started).toEqual([first.runId, second.runId]);
  });
});
