/**
 * Execution modes in local mode, end to end: pushes to the local repository, the starter admitting
 * runs to the pipeline's lane, executions on the local Step Functions, and the execution status
 * events that move the lane on when each run ends.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../core/config/stepline-config';
import type { RunRecord } from '../../core/records';
import { LocalRuntime } from '../../local/runtime';
import { buildspecs, demoPipeline, passingSeed, startFixture, type Fixture } from '../support/pipeline-fixture';

/** A seed whose build takes a moment (the first one longer), so that the later pushes arrive while it runs. */
const slowSeed = (marker: number) => ({
  ...passingSeed,
  'build.yml': buildspecs.ok([`echo change ${marker}`, `sleep ${marker === 0 ? 4 : 0.2}`]),
});

describe('execution modes in local mode', () => {
  let fixture: Fixture;
  afterEach(async () => {
    await fixture?.close();
    fixture = undefined!;
  });

  async function pushWhileFirstRuns(count: number) {
    const first = await fixture.push(slowSeed(0));
    const [firstRun] = await fixture.runtime.runsStartedFor(first);
    const commits = [first];
    for (let i = 1; i < count; i++) commits.push(await fixture.push(slowSeed(i)));
    const runs: string[] = [firstRun!.runId];
    for (const commitId of commits.slice(1)) runs.push((await fixture.runtime.runsStartedFor(commitId))[0]!.runId);
    const ended: RunRecord[] = [];
    for (const runId of runs) ended.push(await fixture.runtime.waitForRun(runId));
    return ended;
  }

  it('QUEUED (the default): runs one at a time, in push order', async () => {
    fixture = await startFixture();
    const runs = await pushWhileFirstRuns(5);
    expect(runs.map((r) => r.status)).toEqual(Array(5).fill('SUCCEEDED'));
    // Each run starts after the one pushed before it has ended.
    for (let i = 1; i < runs.length; i++) {
      expect(Date.parse(runs[i]!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(runs[i - 1]!.endedAt!));
    }
  });

  it('SUPERSEDED: the runs that waited behind a running one give way to the newest', async () => {
    fixture = await startFixture({}, { executionMode: 'SUPERSEDED' });
    const runs = await pushWhileFirstRuns(4);
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUPERSEDED', 'SUPERSEDED', 'SUCCEEDED']);
    expect(runs[1]!.supersededBy).toBe(runs[3]!.runId);
    expect(runs[2]!.supersededBy).toBe(runs[3]!.runId);
    expect(fixture.runtime.stepFunctions.listExecutions().map((e) => e.name)).toEqual([runs[0]!.runId, runs[3]!.runId]);
  });

  it('PARALLEL: every push runs at once', async () => {
    fixture = await startFixture({}, { executionMode: 'PARALLEL' });
    const runs = await pushWhileFirstRuns(3);
    expect(runs.map((r) => r.status)).toEqual(Array(3).fill('SUCCEEDED'));
    // The later pushes started while the first was still running.
    expect(Date.parse(runs[1]!.startedAt!)).toBeLessThan(Date.parse(runs[0]!.endedAt!));
  });

  /**
   * A persisted local mode with pipeline `demo` in `executionMode`: the first push runs (its build slow),
   * the next `waiting` pushes wait in the lane; then local mode stops (close()) and starts again.
   */
  async function stopWithRunsWaiting(executionMode: string, waiting: number) {
    const dir = await mkdtemp(join(tmpdir(), 'stepline-lanes-'));
    const config = parseConfig({ pipelines: [{ ...demoPipeline(join(dir, 'seed')), executionMode }] });
    const pipeline = config.pipelines[0]!;
    const options = { config, stateDir: join(dir, 'state'), persistStore: true };
    const push = async (runtime: LocalRuntime, marker: number) => {
      await mkdir(join(dir, 'seed'), { recursive: true });
      for (const [path, content] of Object.entries(slowSeed(marker))) await writeFile(join(dir, 'seed', path), content);
      const [started] = await runtime.runsStartedFor(await runtime.pushSeed(pipeline, join(dir, 'seed'), `${marker}`));
      return started!;
    };
    const before = await LocalRuntime.start(options);
    const queued = [];
    let running;
    try {
      running = await push(before, 0);
      for (let marker = 1; marker <= waiting; marker++) queued.push(await push(before, marker));
    } finally {
      await before.close();
    }
    expect(queued.map((run) => run.queued)).toEqual(Array(waiting).fill(true));
    const restartedAt = Date.now();
    const runtime = await LocalRuntime.start(options);
    const close = async () => {
      await runtime.close();
      await rm(dir, { recursive: true, force: true });
    };
    return { runtime, running, queued, restartedAt, push: (marker: number) => push(runtime, marker), close };
  }

  it('a stop leaves the runs waiting in the lane in their place: after the next start they run, in push order', async () => {
    const { runtime, running, queued, restartedAt, push, close } = await stopWithRunsWaiting('QUEUED', 2);
    try {
      // Only the run whose build ran was interrupted (recorded at the stop).
      expect(await runtime.store.getRun(running.runId)).toMatchObject({
        status: 'FAILED',
        failure: { error: 'LocalModeStopped' },
      });
      expect(runtime.interruptedRuns).toEqual([]);
      expect(runtime.lanesMovedOn).toEqual([queued[0]!.runId]);
      const ended: RunRecord[] = [];
      for (const run of queued) ended.push(await runtime.waitForRun(run.runId));
      expect(ended.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
      // Nothing started while local mode stopped; then one at a time, in push order.
      expect(Date.parse(ended[0]!.startedAt!)).toBeGreaterThanOrEqual(restartedAt);
      expect(Date.parse(ended[1]!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(ended[0]!.endedAt!));
      // The lane is free again: the next push runs at once.
      const next = await push(3);
      expect(next).toMatchObject({ duplicate: false });
      expect(next.queued).toBeUndefined();
      expect((await runtime.waitForRun(next.runId)).status).toBe('SUCCEEDED');
      expect(await runtime.store.waiting('demo')).toEqual([]);
    } finally {
      await close();
    }
  });

  it('SUPERSEDED, after a stop: the next start runs the newest waiting run, the others are SUPERSEDED by it', async () => {
    const { runtime, running, queued, close } = await stopWithRunsWaiting('SUPERSEDED', 3);
    try {
      const ended: RunRecord[] = [];
      for (const run of queued) ended.push(await runtime.waitForRun(run.runId));
      expect(ended.map((r) => r.status)).toEqual(['SUPERSEDED', 'SUPERSEDED', 'SUCCEEDED']);
      expect(runtime.lanesMovedOn).toEqual([queued[2]!.runId]);
      expect(ended.slice(0, 2).map((r) => r.supersededBy)).toEqual([queued[2]!.runId, queued[2]!.runId]);
      expect(runtime.stepFunctions.listExecutions().map((e) => e.name)).toEqual([running.runId, queued[2]!.runId]);
      expect(await runtime.store.getRun(running.runId)).toMatchObject({ status: 'FAILED' });
    } finally {
      await close();
    }
  });
});
