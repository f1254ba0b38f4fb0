/**
 * Benchmark of the CDK app (part of `npm run bench`): `cdk synth` wall time, through the pinned CLI
 * exactly as a user runs it, for 1, 25 and 100 pipelines; the size of each stack; the handler bundles;
 * the EventBridge rules at each size. Then once, 1,000 pipelines (every other one deploying): time and
 * peak memory of the synth, the largest template, the rules, the account quotas the app needs against
 * their defaults (core/quotas.ts), and `cdk deploy --all` of 1,000 stacks on paper.
 * Target: ≤ 60 s for 100 pipelines (median).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { countQuotaNeeds, defaultIn, judgeAgainstDefaults, type QuotaNeed, type StackResources } from '../core/quotas';
import { stacksOfAssembly } from '../lib/quota-report';
import { median } from './pipeline.bench';

const ROUNDS = Number(process.env.BENCH_SYNTH_ROUNDS ?? 3);
const SIZES = [1, 25, 100];
/** The scale measured once; `BENCH_SYNTH_SCALE=0` leaves it out. */
const SCALE = Number(process.env.BENCH_SYNTH_SCALE ?? 1000);
const SCALE_DEPLOY_EVERY = 2;
/** Node's heap for the synth process at scale (its default depends on the machine's memory). */
const SCALE_HEAP_MB = 6144;
/** The 1,000-pipeline synth's bound: ten minutes, a CI step's patience; it takes about 75 s on this machine. */
const SCALE_BOUND_SECONDS = 600;
const root = resolve(__dirname, '..');
const cdk = join(root, 'node_modules', '.bin', 'cdk');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
/** GNU time reports the peak resident memory of the largest process of the synth (the app). */
const GNU_TIME = '/usr/bin/time';

interface SynthMeasure {
  readonly pipelines: number;
  readonly seconds: number[];
  readonly stacks: number;
  readonly maxResources: number;
  readonly maxTemplateKb: number;
  readonly bundlesKb: number[];
  readonly rules: RuleCount;
}

interface RuleCount {
  readonly total: number;
  readonly byBus: Readonly<Record<string, number>>;
}

function configFile(work: string, pipelines: number, deployEvery?: number): string {
  const config = join(work, `config-${pipelines}${deployEvery ? `-every-${deployEvery}` : ''}.json`);
  const args = [join(root, 'bench', 'many-pipelines.ts'), String(pipelines), config];
  if (!existsSync(config)) execFileSync(tsx, deployEvery ? [...args, String(deployEvery)] : args);
  return config;
}

function synthOnce(work: string, pipelines: number, round: number): { ms: number; out: string } {
  const config = configFile(work, pipelines);
  const out = join(work, `out-${pipelines}-${round}`);
  const t0 = performance.now();
  execFileSync(cdk, ['synth', '-q', '-o', out], {
    cwd: root,
    env: { ...process.env, STEPLINE_CONFIG: config },
    stdio: 'ignore',
  });
  return { ms: performance.now() - t0, out };
}

function templatesOf(out: string): string[] {
  return readdirSync(out).filter((f) => f.endsWith('.template.json'));
}

function rulesOf(stacks: readonly StackResources[]): RuleCount {
  const needs = countQuotaNeeds(stacks).filter((n) => n.quota.id === 'eventbridge-rules-per-bus');
  return {
    total: needs.reduce((sum, n) => sum + n.count, 0),
    byBus: Object.fromEntries(needs.map((n) => [n.bus!, n.count])),
  };
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
  const templates = templatesOf(last);
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
    rules: rulesOf(stacksOfAssembly(new CloudAssembly(last))),
  };
}

interface ScaleMeasure {
  readonly pipelines: number;
  readonly deploying: number;
  readonly seconds: number;
  /** Peak resident memory of the synth's largest process, when GNU time is there to say it. */
  readonly peakRssMb?: number;
  readonly stacks: number;
  readonly largest: { readonly stack: string; readonly kb: number; readonly resources: number };
  readonly rules: RuleCount;
  readonly needs: QuotaNeed[];
  /** The platform stack's own needs, to tell what each pipeline adds. */
  readonly platformNeeds: QuotaNeed[];
}

/** One synth of `SCALE` pipelines, every other one deploying, measured for time and peak memory. */
function measureScale(work: string): ScaleMeasure {
  const config = configFile(work, SCALE, SCALE_DEPLOY_EVERY);
  const out = join(work, `out-${SCALE}`);
  const env = {
    ...process.env,
    STEPLINE_CONFIG: config,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${SCALE_HEAP_MB}`.trim(),
  };
  const timed = existsSync(GNU_TIME);
  const [command, args] = timed ? [GNU_TIME, ['-v', cdk, 'synth', '-q', '-o', out]] : [cdk, ['synth', '-q', '-o', out]];
  const t0 = performance.now();
  const synth = spawnSync(command, args, {
    cwd: root,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (synth.status !== 0) throw new Error(`cdk synth of ${SCALE} pipelines failed (${synth.status}):\n${synth.stderr}`);
  const stderr = synth.stderr;
  const seconds = (performance.now() - t0) / 1000;
  const peakKb = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
  console.log(`synth ${SCALE} pipelines: ${seconds.toFixed(1)} s`);
  const stacks = stacksOfAssembly(new CloudAssembly(out));
  const sizes = templatesOf(out).map((f) => ({
    stack: f.replace('.template.json', ''),
    kb: statSync(join(out, f)).size / 1024,
    resources: Object.keys((JSON.parse(readFileSync(join(out, f), 'utf8')) as { Resources: object }).Resources).length,
  }));
  return {
    pipelines: SCALE,
    deploying: Math.ceil(SCALE / SCALE_DEPLOY_EVERY),
    seconds,
    peakRssMb: peakKb ? Number(peakKb) / 1024 : undefined,
    stacks: stacks.length,
    largest: sizes.reduce((a, b) => (b.kb > a.kb ? b : a)),
    rules: rulesOf(stacks),
    needs: countQuotaNeeds(stacks),
    platformNeeds: countQuotaNeeds(stacks.filter((s) => s.stackName === 'Stepline')),
  };
}

/**
 * `cdk deploy --all --concurrency N` for the platform and `SCALE` pipeline stacks, on paper: the platform first (the
 * pipeline stacks depend on it), then the pipeline stacks N at a time. Not measured (no account here): a pipeline
 * stack is assumed to take PIPELINE_STACK_MINUTES to create (change set, about 25 resources of which IAM roles are
 * the slowest, the catalog parameter, the rules), the platform PLATFORM_STACK_MINUTES.
 */
const PIPELINE_STACK_MINUTES = 2;
const PLATFORM_STACK_MINUTES = 6;
const CONCURRENCIES = [1, 5, 10, 20, 50];

function deployOnPaper(stacks: number): string {
  const rows = CONCURRENCIES.map((n) => {
    const minutes = PLATFORM_STACK_MINUTES + Math.ceil(stacks / n) * PIPELINE_STACK_MINUTES;
    const time = minutes >= 120 ? `${(minutes / 60).toFixed(1)} h` : `${minutes} min`;
    return `| ${n} | ${time} |`;
  });
  return `| \`--concurrency\` | \`cdk deploy --all\`, first deploy of ${stacks.toLocaleString('en-US')} pipeline stacks |
|---|---|
${rows.join('\n')}`;
}

const count = (n: number) => n.toLocaleString('en-US');

function scaleSection(scale: ScaleMeasure, sized: readonly SynthMeasure[]): string {
  const verdicts = judgeAgainstDefaults(scale.needs);
  const platformOf = (need: QuotaNeed) =>
    scale.platformNeeds.find((p) => p.quota.id === need.quota.id && p.bus === need.bus)?.count ?? 0;
  const quotaRows = verdicts.map((v) => {
    const { quota } = v.need;
    const perPipeline = (v.need.count - platformOf(v.need)) / scale.pipelines;
    const before = (limit: number) =>
      perPipeline > 0 ? count(Math.floor((limit - platformOf(v.need)) / perPipeline)) : 'any number';
    // A default that differs by Region: the usual one, then the lowest (which the verdict used, the Region unknown).
    const lowest = defaultIn(quota, v.need.region);
    const limits =
      v.need.region === undefined && lowest !== quota.defaultValue ? [quota.defaultValue, lowest] : [lowest];
    const where = v.need.bus ? ` (bus ${v.need.bus})` : '';
    return `| ${quota.name}${where} | ${count(v.need.count)} | ${perPipeline.toFixed(2)} | ${limits.map(count).join(' (lowest: ')}${limits.length > 1 ? ')' : ''}${quota.adjustable ? '' : ', not adjustable'} | ${v.status === 'within' ? 'within' : `**${v.status}**`} | ${limits.map(before).join(' (')}${limits.length > 1 ? ')' : ''} |`;
  });
  const rulesAt = [...sized.map((s) => [s.pipelines, s.rules] as const), [scale.pipelines, scale.rules] as const];
  const rulesText = rulesAt
    .map(
      ([n, r]) =>
        `${count(r.total)} at ${count(n)} (${Object.entries(r.byBus)
          .map(([bus, k]) => `${bus} ${count(k)}`)
          .join(', ')})`,
    )
    .join('; ');
  // Routing does not grow with the pipelines (docs/ARCHITECTURE.md): the bench fails if it ever does again,
  // and if the synth leaves its bound.
  const constant = new Set(rulesAt.map(([, r]) => r.total)).size === 1;
  if (!constant) throw new Error(`stepline's EventBridge rules grow with the pipelines: ${rulesText}`);
  if (scale.seconds > SCALE_BOUND_SECONDS) {
    throw new Error(
      `${scale.pipelines} pipelines took ${scale.seconds.toFixed(0)} s to synthesize (bound ${SCALE_BOUND_SECONDS} s)`,
    );
  }
  return `## ${count(scale.pipelines)} pipelines in one account

One \`npx cdk synth -q\` of ${count(scale.pipelines)} pipelines (\`bench/many-pipelines.ts\`, every ${SCALE_DEPLOY_EVERY === 2 ? 'other' : `${SCALE_DEPLOY_EVERY}th`} one, ${count(scale.deploying)} in all, releasing to an existing Lambda function), cdk-nag and the limit and quota checks included, Node's heap set to ${SCALE_HEAP_MB} MB.

| measure | value |
|---|---|
| synth wall time (bound ≤ ${SCALE_BOUND_SECONDS} s) | **${scale.seconds.toFixed(1)} s** |
| peak memory of the synth (RSS of its largest process, the app) | ${scale.peakRssMb ? `**${count(Math.round(scale.peakRssMb))} MB**` : 'not measured (no GNU time)'} |
| stacks | ${count(scale.stacks)} |
| largest template | ${scale.largest.stack}: ${scale.largest.kb.toFixed(0)} KB, ${scale.largest.resources} resources (limits 1 MB, 500) |
| EventBridge rules | ${rulesText}: constant (asserted) |

Account quotas this app needs (counted from the synthesized templates, \`core/quotas.ts\`), against their defaults, and how many pipelines of this mix one account holds on each default (the platform's own use taken off first; the Region is unknown at synth, so a quota whose default is lower in some Regions shows that lowest default in brackets, and its verdict is against it):

| quota | needed | per pipeline | default | verdict | pipelines before the default |
|---|---|---|---|---|---|
${quotaRows.join('\n')}

### \`cdk deploy --all\` of ${count(scale.pipelines)} stacks, on paper

Not measured: there is no AWS account here. Assumed: ${PIPELINE_STACK_MINUTES} minutes to create a pipeline stack (its change set, about 25 resources, IAM roles the slowest), ${PLATFORM_STACK_MINUTES} for the platform, which deploys first; then the pipeline stacks \`--concurrency\` at a time (CDK's default is 1). Measure one with \`time npx cdk deploy Stepline-<pipeline> --exclusively\` before planning on these.

${deployOnPaper(scale.pipelines)}

What stepline recommends (docs/quotas.md): deploy the platform alone first (\`npx cdk deploy Stepline\`), then the pipeline stacks in waves with \`--exclusively\` and a concurrency of 10 to 20 (\`npx cdk deploy 'Stepline-service-0*' --exclusively --concurrency 10\`); past that the account's API rates, not CloudFormation, set the pace (IAM's role writes, CloudWatch's PutMetricAlarm at 3 per second, and CloudFormation's own), and CDK's retries on throttling lengthen each stack. After the first rollout, deploy only the pipelines that changed (\`npx cdk deploy Stepline-<pipeline> --exclusively\`): each pipeline's stack stands alone, and \`--all\` would check all ${count(scale.pipelines)} for changes.
`;
}

/** Runs the synth benchmark; resolves with its section of RESULTS.md. */
export async function synthBench(): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'stepline-synth-bench-'));
  // One synth first, unmeasured: the esbuild and tsx caches are then warm for every measured round.
  synthOnce(work, 1, -1);
  const results = SIZES.map((n) => measure(work, n));
  const scale = SCALE > 0 ? measureScale(work) : undefined;
  rmSync(work, { recursive: true, force: true });
  const rows = results.map(
    (r) =>
      `| ${r.pipelines} | ${r.stacks} | **${median(r.seconds).toFixed(1)} s** | ${r.pipelines === 100 ? '≤ 60 s' : ''} | ${r.seconds.map((s) => s.toFixed(1)).join(', ')} | ${r.maxResources} | ${r.maxTemplateKb.toFixed(0)} KB | ${r.rules.total} |`,
  );
  const bundles = results[0]!.bundlesKb.map((kb) => `${kb.toFixed(0)} KB`).join(' and ');
  return `## CDK app: \`cdk synth\`

\`npx cdk synth -q\` through the pinned CLI, offline, cdk-nag and the limit checks included; the config is
\`bench/many-pipelines.ts\` (each pipeline: a CodeCommit source, a build, two test stages); ${ROUNDS} round${ROUNDS === 1 ? '' : 's'} each
after one warm-up synth.

| pipelines | stacks | median | target | samples (s) | most resources in a stack (limit 500) | largest template (limit 1 MB) | EventBridge rules |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Handler bundles (minified, source maps apart, the AWS SDK taken from the Lambda runtime): ${bundles}; target ≤ 300 KB each.
${scale ? `\n${scaleSection(scale, results)}` : ''}`;
}
