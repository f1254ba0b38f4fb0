/**
 * Benchmark of the local build cache (part of `npm run bench`), on two projects: the example's stages
 * (build, then its test stages side by side, as the pipeline runs them) and a project with a real dependency
 * tree (bench/fixtures/dependency-tree: jest, eslint and TypeScript, about 380 packages, one test), each
 * through the local build runner with an empty cache (cold) and again on the unchanged lockfile (warm), cold
 * and warm alternating round by round so that drift in the machine's load hits both alike. Then a run of the
 * example after a lockfile change (a devDependency removed): its install must match the new lockfile, nothing
 * stale restored — asserted, the bench fails otherwise. Target: warm / cold ≤ 0.6 (medians) for both.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tar from 'tar';
import { isCodeCommitPipeline, parseConfig, stageSpecs, type StageSpec } from '../core/config/stepline-config';
import { LocalBuildRunner } from '../local/build-runner';
import configInput from '../stepline.config';
import { median } from './pipeline.bench';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const root = resolve(__dirname, '..');
const CACHE_PHASES = ['DOWNLOAD_SOURCE', 'INSTALL', 'UPLOAD_ARTIFACTS'];
/** The project with a real dependency tree (jest, eslint, TypeScript: about 380 packages). */
const FIXTURE = 'bench/fixtures/dependency-tree';
/** The devDependency the lockfile change removes: no stage but lint needs it. */
const REMOVED = 'prettier';

interface LockFile {
  packages: Record<string, { version?: string; optional?: boolean }>;
}

/** Runs the cache benchmark; resolves with its section of RESULTS.md. */
export async function cacheBench(): Promise<string> {
  const pipeline = parseConfig(configInput).pipelines.find(isCodeCommitPipeline);
  if (!pipeline?.localSeed) throw new Error('the cache bench needs a CodeCommit pipeline with a localSeed');
  const [build, ...tests] = stageSpecs(pipeline);
  const work = mkdtempSync(join(tmpdir(), 'stepline-cache-bench-'));
  const example = seededRepository(join(root, pipeline.localSeed), join(work, 'example'));
  const exampleTimes = await coldAndWarm(work, example.repo, { build, tests });
  const fixture = parseConfig({
    pipelines: [
      {
        name: 'dependency-tree',
        source: { type: 'codecommit', repository: 'dependency-tree', branch: 'main' },
        build: { buildspec: 'buildspec.yml' },
      },
    ],
  }).pipelines[0]!;
  const tree = seededRepository(join(root, FIXTURE), join(work, 'dependency-tree'));
  const treeTimes = await coldAndWarm(work, tree.repo, { build: stageSpecs(fixture)[0]!, tests: [] });
  const { repo, git } = example;

  // A lockfile change after a warm cache: the build stage must install the new tree, not restore the old.
  const cacheDir = join(work, 'cache-change');
  await pipelineStages(work, repo, cacheDir, { build, tests: [] });
  const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as LockFile & {
    packages: Record<string, { devDependencies?: Record<string, string> }>;
  };
  const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  if (!lock.packages[`node_modules/${REMOVED}`]) throw new Error(`the example no longer depends on ${REMOVED}`);
  delete lock.packages[`node_modules/${REMOVED}`];
  delete lock.packages['']!.devDependencies![REMOVED];
  delete manifest.devDependencies[REMOVED];
  writeFileSync(join(repo, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  writeFileSync(join(repo, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  git('commit', '--quiet', '--all', '--message', `drop ${REMOVED}`);
  const changed = await pipelineStages(work, repo, cacheDir, { build, tests: [] });
  const key = /^\[Container\] \S+ \S+ Cache key: (\S+)$/m.exec(changed.logs[0]!)?.[1];
  if (!key || !changed.logs[0]!.includes(`No cache to restore: none for key ${key}`)) {
    throw new Error('the build after the lockfile change restored a cache');
  }
  const installed = await installedTree(join(cacheDir, build.project, 'keyed', `${encodeURIComponent(key)}.tar.gz`));
  const expected = lockedTree(lock);
  const stale = Object.keys(installed).filter((path) => installed[path] !== expected[path]);
  // Optional packages are installed for this platform only (esbuild's binaries), the others all.
  const missing = Object.keys(expected).filter(
    (path) => installed[path] === undefined && !lock.packages[path]!.optional,
  );
  if (stale.length || missing.length || `node_modules/${REMOVED}` in installed) {
    throw new Error(
      `node_modules after the lockfile change does not match the lockfile: stale ${stale.join(', ')}; missing ${missing.join(', ')}`,
    );
  }
  rmSync(work, { recursive: true, force: true });

  const seconds = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(2)).join(', ');
  const rows = (times: typeof treeTimes, target: string) => {
    const ratio = median(times.warmMs) / median(times.coldMs);
    const installRatio = median(times.warmInstallMs) / median(times.coldInstallMs);
    return `| cold: empty cache | ${(median(times.coldMs) / 1000).toFixed(2)} s | | ${seconds(times.coldMs)} |
| warm: unchanged lockfile | ${(median(times.warmMs) / 1000).toFixed(2)} s | | ${seconds(times.warmMs)} |
| ratio warm / cold | **${ratio.toFixed(3)}** | ${target} | |
| of which getting \`node_modules\` (source + restore, install, save phases), cold | ${(median(times.coldInstallMs) / 1000).toFixed(2)} s | | ${seconds(times.coldInstallMs)} |
| of which getting \`node_modules\`, warm | ${(median(times.warmInstallMs) / 1000).toFixed(2)} s | | ${seconds(times.warmInstallMs)} |
| ratio of the install's share, warm / cold | ${installRatio.toFixed(3)} | | |`;
  };
  return `## Local build cache

Two projects through the local build runner, each buildspec caching \`node_modules\` keyed by \`package-lock.json\` and skipping \`npm ci\` when it was restored. Cold: an empty cache (each stage installs, then saves its archive); warm: the same commit again (each stage restores). ${RUNS} measured rounds after one warm-up round, cold and warm alternating; npm's download cache is warm in both.

**A project with a real dependency tree** (\`${FIXTURE}\`: jest, eslint and TypeScript, ${Object.keys(lockedTree(JSON.parse(readFileSync(join(root, FIXTURE, 'package-lock.json'), 'utf8')) as LockFile)).length} packages in its lockfile, one test; one stage, \`npm test\`):

| measure | median | target | samples |
|---|---|---|---|
${rows(treeTimes, '≤ 0.6')}

**The example** (\`${pipeline.localSeed}\`: \`${build.project}\`, then ${tests.map((t) => `\`${t.project}\``).join(' and ')} in parallel; three small devDependencies):

| measure | median | target | samples |
|---|---|---|---|
${rows(exampleTimes, '≤ 0.6')}

The rest of either run (the tests, and for the example \`tsc\`, esbuild and prettier) is the same work cold or warm: the cache can only take away the install's share, which is most of the first project's build and about half of the example's.

After a lockfile change (\`${REMOVED}\` removed), the build stage's key missed and \`npm ci\` installed afresh: its \`node_modules\` (as saved under the new key) holds exactly the packages and versions of the new \`package-lock.json\` (${Object.keys(installed).length} installed, the optional ones of other platforms left out by npm), and no \`${REMOVED}\` (asserted).
`;
}

/** A git repository at `repo` seeded with `seed`'s files (built output left out), committed on `main`. */
function seededRepository(seed: string, repo: string) {
  cpSync(seed, repo, {
    recursive: true,
    filter: (path) => !/\/(node_modules|dist|\.build|reports)(\/|$)/.test(path),
  });
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', repo, '-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...args], {
      encoding: 'utf8',
    }).trim();
  git('init', '--quiet', '--initial-branch=main');
  git('add', '--all');
  git('commit', '--quiet', '--message', 'seed');
  return { repo, git };
}

/** Build, then the test stages in parallel; resolves with the wall time, failing on any failed build. */
async function pipelineStages(
  work: string,
  repo: string,
  cacheDir: string,
  stages: { build: StageSpec; tests: StageSpec[] },
) {
  const builds = new LocalBuildRunner({ rootDir: join(work, 'codebuild'), cacheDir });
  const stage = async (spec: StageSpec) => {
    const { build: result, logFile } = await builds.run({
      projectName: spec.project,
      buildspecPath: spec.buildspec,
      repositoryPath: repo,
      sourceVersion: 'main',
    });
    if (result.buildStatus !== 'SUCCEEDED') throw new Error(`${spec.project} ${result.buildStatus}: see ${logFile}`);
    // What the cache changes: the restore (in DOWNLOAD_SOURCE), the install, the save (in UPLOAD_ARTIFACTS).
    const installMs = (result.phases ?? [])
      .filter((phase) => CACHE_PHASES.includes(phase.phaseType ?? ''))
      .reduce((sum, phase) => sum + (phase.endTime!.getTime() - phase.startTime!.getTime()), 0);
    return { log: readFileSync(logFile, 'utf8'), installMs };
  };
  const t0 = performance.now();
  const first = await stage(stages.build);
  const rest = await Promise.all(stages.tests.map(stage));
  const ms = performance.now() - t0;
  const all = [first, ...rest];
  // The install's share of the wall time: the build's, then the longest of the test stages run side by side.
  const installMs = first.installMs + Math.max(0, ...rest.map((r) => r.installMs));
  return { ms, installMs, logs: all.map((r) => r.log) };
}

/** RUNS rounds of a cold run (empty cache) then a warm one (the same commit), after one unmeasured round. */
async function coldAndWarm(work: string, repo: string, stages: { build: StageSpec; tests: StageSpec[] }) {
  const times = {
    coldMs: [] as number[],
    warmMs: [] as number[],
    coldInstallMs: [] as number[],
    warmInstallMs: [] as number[],
  };
  // One unmeasured round first: the Node runtime of the buildspecs and npm's download cache, which every
  // later round reuses, cold or warm.
  for (let i = 0; i <= RUNS; i++) {
    const cacheDir = join(work, `cache-${i}`);
    const cold = await pipelineStages(work, repo, cacheDir, stages);
    const warm = await pipelineStages(work, repo, cacheDir, stages);
    const restored = warm.logs.filter((log) => /^\[Container\] \S+ \S+ Restored cache for key npm-/m.test(log));
    if (restored.length !== warm.logs.length) throw new Error('a warm build restored no cache');
    rmSync(cacheDir, { recursive: true, force: true });
    if (i === 0) continue;
    times.coldMs.push(cold.ms);
    times.warmMs.push(warm.ms);
    times.coldInstallMs.push(cold.installMs);
    times.warmInstallMs.push(warm.installMs);
    console.log(
      `cache round ${i} of ${repo}: cold ${(cold.ms / 1000).toFixed(2)} s (install ${(cold.installMs / 1000).toFixed(2)} s), warm ${(warm.ms / 1000).toFixed(2)} s (install ${(warm.installMs / 1000).toFixed(2)} s)`,
    );
  }
  return times;
}

/** The packages a saved archive's `node_modules/.package-lock.json` (npm's record of the tree) says are installed. */
async function installedTree(archive: string): Promise<Record<string, string>> {
  const out = mkdtempSync(join(tmpdir(), 'stepline-cache-bench-tree-'));
  try {
    await tar.extract({ file: archive, cwd: out, strict: true }, ['src/node_modules/.package-lock.json']);
    return lockedTree(JSON.parse(readFileSync(join(out, 'src/node_modules/.package-lock.json'), 'utf8')) as LockFile);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** A lockfile's packages (but the root) by path, with their versions. */
function lockedTree(lock: LockFile): Record<string, string> {
  return Object.fromEntries(
    Object.entries(lock.packages)
      .filter(([path]) => path !== '')
      .map(([path, { version }]) => [path, version ?? '']),
  );
}
