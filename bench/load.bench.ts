/**
 * Load benchmark of local mode (part of `npm run bench`): 50 pushes in a burst to one repository,
 * each starting a run of build + two test stages, under the local build quota. Every run must
 * complete, none lost, none doubled; records the wall time, the peak number of processes under local
 * mode, its peak memory and the load average.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../core/config/stepline-config';
import type { StartRunResult } from '../core/runs/start-run';
import { LocalRuntime } from '../local/runtime';

const PUSHES = Number(process.env.BENCH_PUSHES ?? 50);

const buildspec = (commands: string[]) =>
  `version: 0.2\nphases:\n  build:\n    commands:\n${commands.map((c) => `      - ${JSON.stringify(c)}`).join('\n')}\n`;

/** How many processes descend from this one (a snapshot of /proc). */
function descendants(): number {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  let count = 0;
  for (const pid of parents.keys()) {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) {
      if (p === process.pid) {
        count++;
        break;
      }
    }
  }
  return count;
}

/** Runs the load benchmark; resolves with its section of RESULTS.md. */
export async function loadBench(): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'stepline-load-bench-'));
  const seed = join(work, 'seed');
  mkdirSync(seed);
  writeFileSync(
    join(seed, 'build.yml'),
    buildspec(['echo compiling', 'sleep 0.2', 'mkdir -p dist && echo ok > dist/out']),
  );
  writeFileSync(join(seed, 'unit.yml'), buildspec(['echo testing', 'sleep 0.2']));
  writeFileSync(join(seed, 'lint.yml'), buildspec(['echo linting', 'sleep 0.1']));
  const config = parseConfig({
    pipelines: [
      {
        name: 'load',
        source: { type: 'codecommit', repository: 'load', branch: 'main' },
        build: { buildspec: 'build.yml', timeoutMinutes: 30 },
        tests: [
          { name: 'unit', buildspec: 'unit.yml', timeoutMinutes: 30 },
          { name: 'lint', buildspec: 'lint.yml', timeoutMinutes: 30 },
        ],
        // Every run at once: this measures local mode's build quota under a burst, not the lane.
        executionMode: 'PARALLEL',
      },
    ],
  });
  const started: StartRunResult[] = [];
  const runtime = await LocalRuntime.start({
    config,
    stateDir: join(work, 'state'),
    onRunStarted: (run) => started.push(run),
  });
  const pipeline = config.pipelines[0]!;
  let peakProcesses = 0;
  let peakRssMb = 0;
  let peakLoad = 0;
  const sampler = setInterval(() => {
    peakProcesses = Math.max(peakProcesses, descendants());
    peakRssMb = Math.max(peakRssMb, process.memoryUsage().rss / 2 ** 20);
    peakLoad = Math.max(peakLoad, loadavg()[0]!);
  }, 100);

  const t0 = performance.now();
  const commits: string[] = [];
  for (let i = 0; i < PUSHES; i++) {
    writeFileSync(join(seed, 'change.txt'), `change ${i}\n`);
    commits.push(await runtime.pushSeed(pipeline, seed, `push ${i}`));
  }
  const pushedMs = performance.now() - t0;
  const deliveries = (await Promise.all(commits.map((c) => runtime.runsStartedFor(c)))).flat();
  const runs = await Promise.all(deliveries.map((d) => runtime.waitForRun(d.runId)));
  const elapsed = performance.now() - t0;
  clearInterval(sampler);

  const stored = (await runtime.store.listRuns('load', { limit: 1000 })).items;
  const executions = runtime.stepFunctions.listExecutions();
  await runtime.close();
  rmSync(work, { recursive: true, force: true });

  const succeeded = runs.filter((r) => r.status === 'SUCCEEDED').length;
  const distinct = new Set(runs.map((r) => r.runId)).size;
  const verdict =
    succeeded === PUSHES && distinct === PUSHES && stored.length === PUSHES && executions.length === PUSHES;
  console.log(
    `load: ${PUSHES} pushes, ${succeeded} succeeded, ${stored.length} stored, ${executions.length} executions`,
  );
  if (!verdict)
    throw new Error(
      `load bench: runs lost or doubled (${succeeded}/${distinct}/${stored.length}/${executions.length})`,
    );
  return `## Local mode under load

${PUSHES} pushes in a burst to one repository (each a commit on \`main\`, pushed as fast as git allows), each
starting a run of a build and two test stages (\`echo\` and \`sleep 0.1–0.2\`: the runner's own overhead
dominates), with the default local build quota (${availableParallelism()} builds at once on this machine).

| measure | value |
|---|---|
| pushes | ${PUSHES} (all pushed in ${(pushedMs / 1000).toFixed(1)} s) |
| runs SUCCEEDED / recorded / executions | **${succeeded} / ${stored.length} / ${executions.length}** (none lost, none doubled: ${verdict ? 'yes' : 'NO'}) |
| wall time, first push → last run recorded | ${(elapsed / 1000).toFixed(1)} s (${PUSHES * 3} builds) |
| peak processes under local mode | ${peakProcesses} |
| peak memory of local mode (RSS) | ${peakRssMb.toFixed(0)} MB |
| peak 1-minute load average | ${peakLoad.toFixed(1)} |
`;
}
