import type { BuildInspector } from '../../core/ports';
import type { RunEvent } from '../../core/records';
import { buildIdOfCause, recordProgress, recordUnfinishedRun, type ProgressDeps } from '../../core/runs/progress';
import { queuedRun } from '../support/records';
import { useRunStore } from '../support/store';

describe('recordProgress', () => {
  const runStore = useRunStore();
  let deps: ProgressDeps;
  const builds: BuildInspector = {
    describeBuild: async (id) => ({
      id,
      status: 'FAILED',
      startTime: new Date('2026-11-25T09:00:00Z'),
      endTime: new Date('2026-11-25T09:00:42Z'),
      logs: { groupName: 'g', streamName: 's' },
      failedPhase: { type: 'PRE_BUILD', status: 'FAILED', context: 'COMMAND_EXECUTION_ERROR: exit status 1' },
    }),
    logTail: async (_logs, lines) => ['npm ERR! missing script: lint'].slice(-lines),
  };

  beforeEach(async () => {
    deps = {
      runs: runStore.store,
      lanes: runStore.store,
      approvals: runStore.store,
      builds,
      catalog: { lookup: async () => undefined },
      executions: {
        start: async () => Promise.reject(new Error('no run waits in these tests')),
        status: async () => 'RUNNING',
      },
      events: { publish: async () => undefined },
      now: () => new Date('2026-11-25T09:01:00.000Z'),
    };
    await deps.runs.createRun(queuedRun({ runId: 'r1' }));
    await recordProgress(
      { kind: 'runStarted', runId: 'r1', executionArn: 'arn:x', startedAt: '2026-11-25T09:00:00.000Z' },
      deps,
    );
  });

  it('records a failed build from the Cause a startBuild.sync task fails with', async () => {
    const cause = JSON.stringify({ Build: { Id: 'p:9', BuildStatus: 'FAILED' } });
    const stage = await recordProgress(
      { kind: 'stageFailed', runId: 'r1', stage: 'build', error: { Error: 'States.TaskFailed', Cause: cause } },
      deps,
    );
    expect(stage).toMatchObject({
      status: 'FAILED',
      buildId: 'p:9',
      durationMs: 42_000,
      failure: {
        stage: 'build',
        error: 'States.TaskFailed',
        cause: 'build p:9 FAILED in phase PRE_BUILD: COMMAND_EXECUTION_ERROR: exit status 1',
        logTail: ['npm ERR! missing script: lint'],
      },
    });
    const run = await recordProgress(
      { kind: 'runFailed', runId: 'r1', error: { Error: 'States.TaskFailed', Cause: cause } },
      deps,
    );
    expect(run).toMatchObject({
      status: 'FAILED',
      durationMs: 60_000,
      failure: { stage: 'build', logTail: ['npm ERR! missing script: lint'] },
    });
  });

  it('records a task that failed without a build (a timeout) with its own error', async () => {
    const stage = await recordProgress(
      { kind: 'stageFailed', runId: 'r1', stage: 'unit', error: { Error: 'States.Timeout', Cause: 'Task timed out' } },
      deps,
    );
    expect(stage).toMatchObject({
      status: 'FAILED',
      failure: { stage: 'unit', error: 'States.Timeout', cause: 'Task timed out' },
    });
    expect(stage).not.toHaveProperty('buildId');
  });

  it('fails a run that stopped before any stage failed with the error that stopped it', async () => {
    const run = await recordProgress(
      { kind: 'runFailed', runId: 'r1', error: { Error: 'Lambda.ServiceException', Cause: 'Rate exceeded' } },
      deps,
    );
    expect(run).toMatchObject({
      status: 'FAILED',
      failure: { error: 'Lambda.ServiceException', cause: 'Rate exceeded' },
    });
    expect(run).not.toHaveProperty('failure.stage');
  });

  it('a gate whose Task timed out is closed EXPIRED with the run, and nothing is left to resume', async () => {
    const store = runStore.store;
    await store.createApproval({
      runId: 'r1',
      pipeline: 'demo',
      branch: 'main',
      commitRange: { to: 'a'.repeat(40) },
      commits: [],
      tests: [],
      risk: { class: 'normal', reasons: [] },
      required: { approvals: 1 },
      asked: ['bob'],
      openedAt: '2026-11-25T09:00:30.000Z',
      deadline: '2026-11-25T09:01:00.000Z',
      status: 'WAITING',
      taskToken: 'token',
    });
    const run = await recordProgress(
      { kind: 'runExpired', runId: 'r1', error: { Error: 'States.Timeout', Cause: '' } },
      deps,
    );
    expect(run).toMatchObject({ status: 'EXPIRED', failure: { error: 'States.Timeout' } });
    expect(await store.getApproval('r1')).toMatchObject({
      status: 'EXPIRED',
      outcome: 'nobody decided before the deadline 2026-11-25T09:01:00.000Z',
      resumedAt: '2026-11-25T09:01:00.000Z',
    });
    expect((await store.listAudit('r1')).map((e) => [e.event, e.via])).toEqual([['expired', 'clock']]);
  });

  it('a rejected run is REJECTED with the rejection as its failure', async () => {
    const run = await recordProgress(
      { kind: 'runRejected', runId: 'r1', error: { Error: 'Approval.Rejected', Cause: 'rejected by bob: no' } },
      deps,
    );
    expect(run).toMatchObject({
      status: 'REJECTED',
      failure: { error: 'Approval.Rejected', cause: 'rejected by bob: no' },
    });
  });

  it("a redriven run's execution ends it, by its name; an earlier execution's end told late does not", async () => {
    await recordProgress({ kind: 'runFailed', runId: 'r1' }, deps);
    const failed = (await runStore.store.getRun('r1'))!;
    const redrive = { by: 'ana', at: '2026-11-25T09:02:00.000Z', fromState: 'Run test stages' };
    expect(await runStore.store.reopenRun(failed, { ...redrive, executionArn: 'arn:x:r1-redrive-1' })).toBe(true);

    const late = await recordProgress({ kind: 'executionEnded', runId: 'r1', status: 'FAILED' }, deps);
    expect(late).toMatchObject({ status: 'RUNNING' });
    const ended = await recordProgress({ kind: 'executionEnded', runId: 'r1-redrive-1', status: 'ABORTED' }, deps);
    expect(ended).toMatchObject({ runId: 'r1', status: 'FAILED', failure: { error: 'ExecutionAborted' } });
  });

  it('an aborted execution leaves its run FAILED naming why, its stages as they were, and its end announced', async () => {
    const announced: RunEvent[] = [];
    deps = { ...deps, events: { publish: async (event) => void announced.push(event) } };
    await recordProgress({ kind: 'stageStarted', runId: 'r1', stage: 'build' }, deps);
    const run = await recordProgress({ kind: 'executionEnded', runId: 'r1', status: 'ABORTED' }, deps);
    expect(run).toMatchObject({
      status: 'FAILED',
      durationMs: 60_000,
      failure: { error: 'ExecutionAborted', cause: "the run's execution was aborted before the run recorded its end" },
    });
    expect(await deps.runs.listStages('r1')).toEqual([
      expect.objectContaining({ name: 'build', status: 'IN_PROGRESS' }),
    ]);
    const { pipeline } = (await deps.runs.getRun('r1'))!;
    // The stage's start told to live consoles, then the run's end.
    expect(announced).toEqual([
      { kind: 'StageChanged', runId: 'r1', pipeline },
      { kind: 'RunEnded', runId: 'r1', pipeline },
    ]);
  });

  it('records an unfinished run the same way for any reason given, and runs what comes before the announcement first', async () => {
    const steps: string[] = [];
    deps = { ...deps, events: { publish: async (event) => void steps.push(`announced ${event.kind}`) } };
    const failure = { error: 'LocalModeStopped', cause: 'local mode stopped while this run was in progress' };
    const run = await recordUnfinishedRun('r1', failure, deps, async (recorded) =>
      steps.push(`then ${recorded.status}`),
    );
    expect(run).toMatchObject({ status: 'FAILED', failure });
    expect(steps).toEqual(['then FAILED', 'announced RunEnded']);
    // A run that has ended is left as it is, and its end announced again.
    const again = await recordUnfinishedRun('r1', { error: 'Other', cause: 'other' }, deps);
    expect(again).toMatchObject({ status: 'FAILED', failure });
    expect(await recordUnfinishedRun('no-such-run', failure, deps)).toBeUndefined();
  });

  it('finds the build id only in a CodeBuild Cause', () => {
    expect(buildIdOfCause('{"Build":{"Id":"p:1"}}')).toBe('p:1');
    expect(buildIdOfCause('{"errorType":"Error"}')).toBeUndefined();
    expect(buildIdOfCause('{not json')).toBeUndefined();
    expect(buildIdOfCause(undefined)).toBeUndefined();
  });
});
