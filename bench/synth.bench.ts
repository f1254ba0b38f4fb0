/**
 * Benchmark of the CDK app (part of `npm run bench`): `cdk synth` wall time, through the pinned CLI
 * exactly as a user runs it, for 1, 25 and 100 pipelines; the size of each stack; the handler bundles.
 * Target: ≤ 60 s for 100 pipelines (median).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median } from './pipeline.bench';

const ROUNDS = Number(process.env.BENCH_SYNTH_ROUNDS ?? 3);
const SIZES = [1, 25, 100];
const root = resolve(__dirname, '..');
const cdk = join(root, 'node_modules', '.bin', 'cdk');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

interface SynthMeasure {
  readonly pipelines: number;
  readonly seconds: number[];
  readonly stacks: number;
  readonly maxResources: number;
  readonly maxTemplateKb: number;
  readonly bundlesKb: number[];
}

function synthOnce(work: string, pipelines: number, round: number): { ms: number; out: string } {
  const config = join(work, `config-${pipelines}.json`);
  if (!existsSync(config)) execFileSync(tsx, [join(root, 'bench', 'many-pipelines.ts'), String(pipelines), config]);
  const out = join(work, `out-${pipelines}-${round}`);
  const t0 = performance.now();
  execFileSync(cdk, ['synth', '-q', '-o', out], {
    cwd: root,
    env: { ...process.env, STEPLINE_CONFIG: config },
    stdio: 'ignore',
  });
  return { ms: performance.now() - t0, out };
}

function measure(work: string, pipelines: number): SynthMeasure {
  const seconds: number[] = [];
  let last = '';
  for (let round = 0; round < ROUNDS; round++) {
    const { ms, out } = synthOnce(work, pipelines, round);
    seconds.push(ms / 1000);
    last = out;
    console.log(`synth ${pipelines} pipelines, round ${round + 1}: ${(ms / 1000).toFixed(1)} s`);
  }
  const templates = readdirSync(last).filter((f) => f.endsWith('.template.json'));
  const resources = templates.map(
    (f) => Object.keys((JSON.parse(readFileSync(join(last, f), 'utf8')) as { Resources: object }).Resources).length,
  );
  const bundlesKb = readdirSync(last)
    .filter((d) => existsSync(join(last, d, 'index.js')))
    .map((d) => statSync(join(last, d, 'index.js')).size / 1024)
    .sort((a, b) => a - b);
  return {
    pipelines,
    seconds,
    stacks: templates.length,
    maxResources: Math.max(...resources),
    maxTemplateKb: Math.max(...templates.map((f) => statSync(join(last, f)).size / 1024)),
    bundlesKb,
  };
}

/** Runs the synth benchmark; resolves with its section of RESULTS.md. */
export async function synthBench(): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'stepline-synth-bench-'));
  // One synth first, unmeasured: the esbuild and tsx caches are then warm for every measured round.
  synthOnce(work, 1, -1);
  const results = SIZES.map((n) => measure(work, n));
  rmSync(work, { recursive: true, force: true });
  const rows = results.map(
    (r) =>
      `| ${r.pipelines} | ${r.stacks} | **${median(r.seconds).toFixed(1)} s** | ${r.pipelines === 100 ? '≤ 60 s' : ''} | ${r.seconds.map((s) => s.toFixed(1)).join(', ')} | ${r.maxResources} | ${r.maxTemplateKb.toFixed(0)} KB |`,
  );
  const bundles = results[0]!.bundlesKb.map((kb) => `${kb.toFixed(0)} KB`).join(' and ');
  return `## CDK app: \`cdk synth\`

\`npx cdk synth -q\` through the pinned CLI, offline, cdk-nag and the limit checks included; the config is
\`bench/many-pipelines.ts\` (each pipeline: a CodeCommit source, a build, two test stages); ${ROUNDS} rounds each
after one warm-up synth.

| pipelines | stacks | median | target | samples (s) | most resources in a stack (limit 500) | largest template (limit 1 MB) |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Handler bundles (minified, source maps apart, the AWS SDK taken from the Lambda runtime): ${bundles}; target ≤ 300 KB each.
`;
}
