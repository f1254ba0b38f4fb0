/**
 * Runs waiting in a QUEUED pipeline's lane outlive a crash of local mode: `stepline start --serve` run as
 * a user runs it, six pushes, its process group killed (kill -9) while the fourth builds, then the next
 * start. On AWS the lane lives in DynamoDB and the waiting runs would run; here too. And a lane held by
 * a run waiting at its release gate stays held across a stop: the gate resumes, the lane waits for it.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../core/config/stepline-config';
import type { RunRecord } from '../../core/records';
import type { RunningGroup } from '../../local/build-runner/process-registry';
import { LocalRuntime } from '../../local/runtime';
import { decideByCli, gateIn } from '../support/approvals';
import { buildspecs, demoPipeline, passingSeed } from '../support/pipeline-fixture';
import { until } from '../support/until';
import { serveLocalMode } from '../support/cli';

describe('killing local mode with runs waiting in a QUEUED lane', () => {
  let dir: string;
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('after kill -9 while the fourth of six runs builds, the fourth is FAILED and the fifth and sixth run, in order', async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-lane-crash-'));
    const stateDir = join(dir, 'state');
    const input = { pipelines: [demoPipeline()] };
    const config = parseConfig(input);
    await writeFile(join(dir, 'config.json'), JSON.stringify(input));
    // Its own process group, to be killed whole as a closed terminal would.
    child = await serveLocalMode(join(dir, 'config.json'), stateDir, {
      stdio: ['ignore', 'pipe', 'ignore'],
      detached: true,
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    await until('local mode to serve', () => (output.includes('\nserving:') ? true : undefined));

    // Six pushes at once: the fourth's build waits until it is killed, the others' end at once.
    const work = join(dir, 'work');
    await mkdir(work);
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=dev', '-c', 'user.email=dev@example.com', ...args], {
        cwd: work,
        encoding: 'utf8',
      }).trim();
    git('init', '-q', '-b', 'main');
    const commits: string[] = [];
    for (let push = 1; push <= 6; push++) {
      const build = push === 4 ? ['echo waiting', 'sleep 120'] : [`echo change ${push}`];
      const files = { ...passingSeed, 'build.yml': buildspecs.ok(build) };
      for (const [name, content] of Object.entries(files)) await writeFile(join(work, name), content);
      git('add', '-A');
      git('commit', '-q', '-m', `push ${push}`);
      git('push', '-q', join(stateDir, 'git', 'demo.git'), 'HEAD:main');
      commits.push(git('rev-parse', 'HEAD'));
    }
    // Each run, as `--serve` prints it when it starts or waits: its id carries its commit.
    const runIdOf = (commit: string) => new RegExp(`^run (demo-${commit.slice(0, 12)}-\\S+)`, 'm').exec(output)?.[1];
    const runs = await until('every push to start a run', () => {
      const ids = commits.map(runIdOf);
      return ids.every(Boolean) ? (ids as string[]) : undefined;
    });
    await until('the fourth run to build', () => {
      const running = join(stateDir, 'codebuild', 'running');
      const records = existsSync(running) ? readdirSync(running).filter((name) => name.endsWith('.json')) : [];
      return records.some((record) => {
        const group = JSON.parse(readFileSync(join(running, record), 'utf8')) as RunningGroup;
        const log = join(group.buildDir, 'build.log');
        return existsSync(log) && readFileSync(log, 'utf8').includes('\nwaiting\n');
      })
        ? true
        : undefined;
    });
    process.kill(-child.pid!, 'SIGKILL');
    await exited;

    const restartedAt = Date.now();
    const runtime = await LocalRuntime.start({ config, stateDir, persistStore: true });
    try {
      // Only the run whose build was running was interrupted.
      expect(runtime.interruptedRuns).toEqual([runs[3]]);
      // The fifth took the lane at the start (the sixth waits for it).
      expect(runtime.lanesMovedOn).toEqual([runs[4]]);
      const before = await Promise.all(runs.slice(0, 4).map((runId) => runtime.store.getRun(runId)));
      expect(before.map((run) => run?.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'FAILED']);
      expect(before[3]).toMatchObject({ failure: { error: 'LocalModeStopped' } });
      const after: RunRecord[] = [];
      for (const runId of runs.slice(4)) after.push(await runtime.waitForRun(runId));
      expect(after.map((run) => run.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
      // They started after the restart, one at a time, in push order.
      expect(Date.parse(after[0]!.startedAt!)).toBeGreaterThanOrEqual(restartedAt);
      expect(Date.parse(after[1]!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(after[0]!.endedAt!));
      expect(await runtime.store.waiting('demo')).toEqual([]);
    } finally {
      await runtime.close();
    }
  }, 180_000);
});

describe('a QUEUED lane held by a run waiting at its release gate, across a stop', () => {
  it('keeps its holder: the gate resumes, and the run waiting behind it starts once the holder ends', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stepline-lane-gate-'));
    // The seed's commits are authored by local@stepline.invalid: Bob may approve them.
    const approval = {
      approvers: [
        { id: 'alice', name: 'Alice', emails: ['alice@example.com'] },
        { id: 'bob', name: 'Bob', emails: ['bob@example.com'] },
      ],
    };
    const config = parseConfig({ pipelines: [{ ...demoPipeline(), approval }] });
    const pipeline = config.pipelines[0]!;
    const options = { config, stateDir: join(dir, 'state'), persistStore: true };
    const push = async (runtime: LocalRuntime, marker: number) => {
      const seed = join(dir, 'seed');
      await mkdir(seed, { recursive: true });
      const files = { ...passingSeed, 'build.yml': buildspecs.ok([`echo change ${marker}`]) };
      for (const [name, content] of Object.entries(files)) await writeFile(join(seed, name), content);
      const [started] = await runtime.runsStartedFor(await runtime.pushSeed(pipeline, seed, `push ${marker}`));
      return started!;
    };
    try {
      let runtime = await LocalRuntime.start(options);
      let gated: string;
      let token: string | undefined;
      let waiting: string;
      try {
        gated = (await push(runtime, 1)).runId;
        token = (await gateIn(runtime, gated, 'WAITING')).taskToken;
        const queued = await push(runtime, 2);
        expect(queued.queued).toBe(true);
        waiting = queued.runId;
      } finally {
        await runtime.close();
      }

      runtime = await LocalRuntime.start(options);
      try {
        expect(runtime.resumedExecutions).toEqual([gated]);
        expect(runtime.interruptedRuns).toEqual([]);
        expect(runtime.lanesMovedOn).toEqual([]);
        // The lane stayed with the gated run: the one behind it still waits, never started.
        expect(await runtime.store.holder('demo')).toMatchObject({ runId: gated });
        expect(await runtime.store.getRun(waiting)).toMatchObject({ status: 'QUEUED' });
        expect(runtime.stepFunctions.listExecutions().map((e) => e.name)).toEqual([gated]);

        // The resumed Task asks for a new token; a decision then resumes it.
        for (let i = 0; i < 100 && (await runtime.store.getApproval(gated))!.taskToken === token; i++)
          await new Promise((resolve) => setTimeout(resolve, 50));
        expect((await decideByCli(runtime, gated, 'bob@example.com', 'approve')).status).toBe(200);
        const holder = await runtime.waitForRun(gated);
        // The run behind it now takes the lane, and waits at its own gate.
        await gateIn(runtime, waiting, 'WAITING');
        expect((await decideByCli(runtime, waiting, 'bob@example.com', 'approve')).status).toBe(200);
        const next = await runtime.waitForRun(waiting);
        expect([holder.status, next.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
        expect(Date.parse(next.startedAt!)).toBeGreaterThanOrEqual(Date.parse(holder.endedAt!));
      } finally {
        await runtime.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
