/**
 * `npm run bench`: the local pipeline, local mode under load, the local build cache, the CDK app's synth and the DORA
 * metrics over 10,000 runs, written to bench/RESULTS.md.
 * BENCH_ONLY=pipeline, load, deploy, cache, synth or metrics runs one part: its section of RESULTS.md is replaced
 * (saying the day it was measured alone), the others are kept as they were.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { pipelineBench } from './pipeline.bench';
import { loadBench } from './load.bench';
import { synthBench } from './synth.bench';
import { deployBench } from './deploy.bench';
import { cacheBench } from './cache.bench';
import { metricsBench } from './metrics.bench';

async function main() {
  const only = process.env.BENCH_ONLY;
  const sections: string[] = [];
  if (!only || only === 'pipeline') sections.push(await pipelineBench());
  if (!only || only === 'load') sections.push(await loadBench());
  if (!only || only === 'deploy') sections.push(await deployBench());
  if (!only || only === 'cache') sections.push(await cacheBench());
  if (!only || only === 'synth') sections.push(await synthBench());
  if (!only || only === 'metrics') sections.push(await metricsBench());
  const file = join(__dirname, 'RESULTS.md');
  const today = new Date().toISOString().slice(0, 10);
  const report = only
    ? withSectionsReplaced(
        readFileSync(file, 'utf8'),
        sections.map((section) =>
          section.replace(/^(## .*\n)/, `$1\nMeasured alone on ${today} (\`BENCH_ONLY=${only}\`).\n`),
        ),
      )
    : `# Benchmark results

Measured by \`npm run bench\` on ${today}.

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}.

${sections.join('\n')}`;
  writeFileSync(file, report);
  // The file is checked by `npm run lint` like every other: format it as prettier does.
  execFileSync(join(__dirname, '..', 'node_modules', '.bin', 'prettier'), ['--write', file], { stdio: 'ignore' });
  console.log(`\n${readFileSync(file, 'utf8')}`);
}

/** `results` with each of `fresh`'s sections (`## <title>` …) in place of the section of the same title. */
function withSectionsReplaced(results: string, fresh: readonly string[]): string {
  let report = results;
  for (const section of fresh) {
    const title = section.slice(0, section.indexOf('\n'));
    const start = report.indexOf(`${title}\n`);
    if (start < 0) {
      report = `${report.trimEnd()}\n\n${section}`;
      continue;
    }
    const next = report.indexOf('\n## ', start + title.length);
    report = `${report.slice(0, start)}${section.trimEnd()}\n${next < 0 ? '' : report.slice(next)}`;
  }
  return report;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
