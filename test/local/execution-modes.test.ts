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

  it('a stop with a run running and one waiting leaves the lane usable: the next push after a restart runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stepline-lanes-'));
    const config = parseConfig({ pipelines: [demoPipeline(join(dir, 'seed'))] });
    const pipeline = config.pipelines[0]!;
    const options = { config, stateDir: join(dir, 'state'), persistStore: true };
    const seed = async (marker: number) => {
      await mkdir(join(dir, 'seed'), { recursive: true });
      for (const [path, content] of Object.entries(slowSeed(marker))) await writeFile(join(dir, 'seed', path), content);
    };
    let runtime = await LocalRuntime.start(options);
    try {
      await seed(0);
      const running = await runtime.runsStartedFor(await runtime.pushSeed(pipeline, join(dir, 'seed'), 'first'));
      await seed(1);
      const waiting = await runtime.runsStartedFor(await runtime.pushSeed(pipeline, join(dir, 'seed'), 'second'));
      expect(waiting[0]).toMatchObject({ queued: true });
      await runtime.close();
      runtime = await LocalRuntime.start(options);
      for (const run of [...running, ...waiting]) {
        expect(await runtime.store.getRun(run.runId)).toMatchObject({
          status: 'FAILED',
          failure: { error: 'LocalModeStopped' },
        });
      }
      await seed(2);
      const [next] = await runtime.runsStartedFor(await runtime.pushSeed(pipeline, join(dir, 'seed'), 'third'));
      expect(next).toMatchObject({ duplicate: false });
      expect(next!.queued).toBeUndefined();
      expect((await runtime.waitForRun(next!.runId)).status).toBe('SUCCEEDED');
      expect(await runtime.store.waiting('demo')).toEqual([]);
    } finally {
      await runtime.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
