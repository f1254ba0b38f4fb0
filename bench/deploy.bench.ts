/**
 * Benchmark of releasing to Lambda in local mode (part of `npm run bench`): how fast a firing alarm
 * puts all traffic back on the old version (goal ≤ 1 s), and how many state transitions a whole
 * happy-path run takes (build, two test stages, the gate, three canary steps) — Step Functions bills
 * $0.025 per 1,000 — beside CodePipeline V2's price for the same run.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../core/config/stepline-config';
import { APPROVAL_ROUTES } from '../core/platform';
import { LOCAL_DEMO_HEADER } from '../local/approvals';
import { LocalRuntime } from '../local/runtime';
import { median } from './pipeline.bench';

const ROUNDS = Number(process.env.BENCH_RUNS ?? 5);
/** Step Functions Standard: $0.025 per 1,000 state transitions. */
const PRICE_PER_TRANSITION = 0.025 / 1000;
/** CodePipeline V2: $0.002 per action execution minute, manual approvals not charged (100 minutes a month free). */
const CODEPIPELINE_V2_PER_ACTION_MINUTE = 0.002;

const step = (commands: string[]) =>
  `version: 0.2\nphases:\n  build:\n    commands:\n${commands.map((c) => `      - ${JSON.stringify(c)}`).join('\n')}\n`;
const handler = (body: string) =>
  `${step(['mkdir -p dist', `echo '${body}' > dist/index.js`])}artifacts:\n  files:\n    - '**/*'\n  base-directory: dist\n`;

export async function deployBench(): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'stepline-deploy-bench-'));
  const seed = join(work, 'seed');
  mkdirSync(seed);
  writeFileSync(join(seed, 'unit.yml'), step(['echo testing']));
  writeFileSync(join(seed, 'lint.yml'), step(['echo linting']));
  let now = new Date();
  const config = parseConfig({
    pipelines: [
      {
        name: 'canary',
        source: { type: 'codecommit', repository: 'canary', branch: 'main' },
        build: { buildspec: 'build.yml' },
        tests: [
          { name: 'unit', buildspec: 'unit.yml' },
          { name: 'lint', buildspec: 'lint.yml' },
        ],
        approval: { approvers: [{ id: 'ana', emails: ['ana@example.com'] }], classes: { high: { approvals: 1 } } },
        deploy: { function: 'bench', strategy: { type: 'canary', steps: [10, 50, 90], bakeSeconds: 0 } },
      },
      {
        // The bad versions bake long: the alarm, not the bake's end, is what rolls them back.
        name: 'rollback',
        source: { type: 'codecommit', repository: 'rollback', branch: 'main' },
        build: { buildspec: 'build.yml' },
        deploy: { function: 'bench-rollback', strategy: { type: 'canary', steps: [10], bakeSeconds: 600 } },
        executionMode: 'PARALLEL',
      },
    ],
  });
  const runtime = await LocalRuntime.start({
    config,
    stateDir: join(work, 'state'),
    demoApprover: true,
    now: () => now,
    // Evaluated by hand below: the measure starts when the evaluation that sees the breach runs.
    alarmIntervalMs: 3_600_000,
  });
  const push = async (index: number, body: string) => {
    writeFileSync(join(seed, 'build.yml'), handler(body));
    const [started] = await runtime.runsStartedFor(await runtime.pushSeed(config.pipelines[index]!, seed, body));
    return started!.runId;
  };
  const approve = async (runId: string) => {
    for (;;) {
      const gate = await runtime.store.getApproval(runId);
      if (gate?.status === 'WAITING') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await fetch(`${runtime.endpoint.url}${APPROVAL_ROUTES.cli}/${runId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [LOCAL_DEMO_HEADER]: 'true' },
      body: JSON.stringify({ decision: 'approve' }),
    });
  };

  // The happy path: build, tests, gate, three canary steps, promotion.
  const happy = await push(0, 'exports.handler = async () => ({ ok: 1 });');
  await approve(happy);
  const succeeded = await runtime.waitForRun(happy);
  if (succeeded.status !== 'SUCCEEDED')
    throw new Error(`the happy path ${succeeded.status}: ${JSON.stringify(succeeded.failure)}`);
  await new Promise((r) => setTimeout(r, 100));
  const transitions = runtime.stepFunctions.listExecutions().find((e) => e.name === happy)!.transitions ?? 0;

  // Rollback latency: a bad version takes 10%, errors land, the alarm's evaluation sees them.
  const rollbackMs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const runId = await push(1, `exports.handler = async () => { throw new Error("bad ${round}"); };`);
    for (;;) {
      const deployment = await runtime.store.getDeployment(runId);
      if (deployment && deployment.step >= 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    for (let i = 0; i < 50; i++) await runtime.lambdas.invoke('bench-rollback', 'live', {});
    now = new Date(now.getTime() + 120_000);
    const t0 = performance.now();
    runtime.alarms.evaluate();
    for (;;) {
      const alias = runtime.lambdas.getAlias('bench-rollback', 'live');
      const weights = Object.keys(alias.routingConfig?.additionalVersionWeights ?? {});
      if (!weights.length && (await runtime.store.getDeployment(runId))?.status === 'ROLLED_BACK') break;
      await new Promise((r) => setTimeout(r, 1));
    }
    rollbackMs.push(performance.now() - t0);
    // Its execution bakes on (600 s) and finds the rollback at its next check; the next round does not wait.
    now = new Date(now.getTime() + 180_000);
    runtime.alarms.evaluate();
  }
  await runtime.close();
  rmSync(work, { recursive: true, force: true });

  const cost = transitions * PRICE_PER_TRANSITION;
  return `## Releasing to Lambda

Local mode. Transitions: a pipeline with a build, two test stages, the release gate (approved at once by the demo approver), a canary of three steps (10, 50, 90 %, zero bakes) and the promotion. Rollback: a bad version at 10 % in a 10-minute bake, 50 invocations through the alias, then one alarm evaluation.

| measure | value | goal |
|---|---|---|
| alarm evaluation sees the breach → all traffic on the old version, deployment ROLLED_BACK (median of ${ROUNDS}) | **${median(rollbackMs).toFixed(1)} ms** (${rollbackMs.map((x) => x.toFixed(1)).join(', ')}) | ≤ 1 s |
| state transitions of the whole happy-path run | **${transitions}** | ≤ 60 |
| Step Functions Standard cost of that run | $${cost.toFixed(5)} ($${(cost * 1000).toFixed(2)} per 1,000 runs) | |

The rollback is push-driven: the alarm's state change event reaches the deploy handler through the pipeline's alarm rule, which rolls back at once — whatever step, bake or pause the execution is in. On AWS the alarm itself adds its period (one minute) and CloudWatch's evaluation delay; CodeDeploy's Lambda canaries check alarms by polling, with bakes of at least five minutes.

For comparison, CodePipeline V2 bills $${CODEPIPELINE_V2_PER_ACTION_MINUTE} per action execution minute, every action but manual approvals (aws.amazon.com/codepipeline/pricing): a run whose build, test and deploy actions take 20 minutes in all costs $${(20 * CODEPIPELINE_V2_PER_ACTION_MINUTE).toFixed(3)} there, and a 15-minute canary (bakes included) alone $${(15 * CODEPIPELINE_V2_PER_ACTION_MINUTE).toFixed(3)}; the transitions above cost the same however long the bakes last. CodeBuild and Lambda are billed apart in both.
`;
}
