/**
 * Nothing outlives its owner: `stepline start --serve` run as a user runs it, with a build running,
 * then stopped with Ctrl-C or killed with kill -9; and what the next start finds.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../core/config/stepline-config';
import type { RunningGroup } from '../../local/build-runner/process-registry';
import { LocalRuntime } from '../../local/runtime';
import { LocalModeBusyError } from '../../local/state-lock';
import { buildspecs, demoPipeline, passingSeed } from '../support/pipeline-fixture';
import { liveMembers } from '../support/processes';
import { until } from '../support/until';
import { serveLocalMode } from '../support/cli';

const workTrees = (stateDir: string) => {
  const builds = join(stateDir, 'codebuild', 'builds');
  return existsSync(builds)
    ? readdirSync(builds).flatMap((project) =>
        readdirSync(join(builds, project))
          .map((build) => join(builds, project, build, 'src'))
          .filter((dir) => existsSync(dir)),
      )
    : [];
};

describe('stopping and killing local mode during a build', () => {
  let dir: string;
  let stateDir: string;
  let config: ReturnType<typeof parseConfig>;
  let child: ChildProcess | undefined;
  let stderr = '';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-stop-'));
    stateDir = join(dir, 'state');
    const seed = join(dir, 'seed');
    await mkdir(seed);
    // The build starts a background process of its own, and waits.
    const files = { ...passingSeed, 'build.yml': buildspecs.ok(['(sleep 120 &)', 'echo waiting', 'sleep 120']) };
    for (const [name, content] of Object.entries(files)) await writeFile(join(seed, name), content);
    const input = { pipelines: [demoPipeline(seed)] };
    config = parseConfig(input);
    await writeFile(join(dir, 'config.json'), JSON.stringify(input));
    // Its stderr is kept: an exit other than the one expected shows what local mode said.
    child = await serveLocalMode(join(dir, 'config.json'), stateDir, { stdio: ['ignore', 'ignore', 'pipe'] });
    stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  });

  afterEach(async () => {
    child?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  /** The build's shell group, once it runs the buildspec's commands. */
  const runningBuild = () =>
    until('the build to run', () => {
      const running = join(stateDir, 'codebuild', 'running');
      const records = existsSync(running) ? readdirSync(running).filter((name) => name.endsWith('.json')) : [];
      if (records.length === 0) return undefined;
      const group = JSON.parse(readFileSync(join(running, records[0]!), 'utf8')) as RunningGroup;
      const log = join(group.buildDir, 'build.log');
      return existsSync(log) && readFileSync(log, 'utf8').includes('\nwaiting\n') ? group : undefined;
    });
  const exited = (process: ChildProcess) =>
    new Promise<number | null>((resolve) =>
      process.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))),
    );

  it('Ctrl-C stops the build: its processes end, its work tree goes, its log says so, its run is FAILED', async () => {
    const group = await runningBuild();
    expect(liveMembers(group.pgid).length).toBeGreaterThan(0);
    // One local mode per state directory.
    await expect(LocalRuntime.start({ config, stateDir, persistStore: true })).rejects.toThrow(
      new LocalModeBusyError(stateDir, child!.pid!),
    );

    const exit = exited(child!);
    child!.kill('SIGINT');
    const code = await exit;
    // What local mode said is shown when it exits otherwise.
    expect({ exit: code, said: code === 130 ? '' : stderr }).toEqual({ exit: 130, said: '' });

    expect(liveMembers(group.pgid)).toEqual([]);
    expect(workTrees(stateDir)).toEqual([]);
    const log = readFileSync(join(group.buildDir, 'build.log'), 'utf8');
    expect(log).toMatch(
      /Phase complete: BUILD State: STOPPED\n.*Phase context status code: BUILD_STOPPED Message: Build was stopped\n/,
    );
    const runtime = await LocalRuntime.start({ config, stateDir, persistStore: true });
    try {
      expect(runtime.recovery).toEqual({ stoppedBuilds: [], endedProcessGroups: 0, removedWorkTrees: 0 });
      const [run] = (await runtime.store.listRuns('demo')).items;
      expect(run).toMatchObject({ status: 'FAILED', failure: { error: 'LocalModeStopped' } });
    } finally {
      await runtime.close();
    }
  });

  it('after kill -9, the next start ends what the build left running, removes its work tree and fails its run', async () => {
    const group = await runningBuild();
    const exit = exited(child!);
    child!.kill('SIGKILL');
    await exit;
    // Nothing stopped them: the build's processes outlive local mode until it starts again.
    expect(liveMembers(group.pgid).length).toBeGreaterThan(0);
    expect(workTrees(stateDir)).toHaveLength(1);

    const runtime = await LocalRuntime.start({ config, stateDir, persistStore: true });
    try {
      expect(runtime.recovery).toEqual({ stoppedBuilds: [group.buildId], endedProcessGroups: 1, removedWorkTrees: 1 });
      await until('the build processes to end', () => (liveMembers(group.pgid).length === 0 ? true : undefined), 5000);
      expect(workTrees(stateDir)).toEqual([]);
      expect(readFileSync(join(group.buildDir, 'build.log'), 'utf8')).toMatch(
        /Build was stopped: local mode ended while it ran; its processes were ended when local mode started again\n$/,
      );
      expect(runtime.interruptedRuns).toHaveLength(1);
      const [run] = (await runtime.store.listRuns('demo')).items;
      expect(run).toMatchObject({ status: 'FAILED', failure: { error: 'LocalModeStopped' } });
    } finally {
      await runtime.close();
    }
  });
});
