/**
 * `npm run bench`: the local pipeline, local mode under load, the local build cache and the CDK app's synth, written to bench/RESULTS.md.
 * BENCH_ONLY=pipeline, load, deploy, cache or synth runs one part (RESULTS.md then holds only that part).
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

async function main() {
  const only = process.env.BENCH_ONLY;
  const sections: string[] = [];
  if (!only || only === 'pipeline') sections.push(await pipelineBench());
  if (!only || only === 'load') sections.push(await loadBench());
  if (!only || only === 'deploy') sections.push(await deployBench());
  if (!only || only === 'cache') sections.push(await cacheBench());
  if (!only || only === 'synth') sections.push(await synthBench());
  const report = `# Benchmark results

Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}.

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}.

${sections.join('\n')}`;
  const file = join(__dirname, 'RESULTS.md');
  writeFileSync(file, report);
  // The file is checked by `npm run lint` like every other: format it as prettier does.
  execFileSync(join(__dirname, '..', 'node_modules', '.bin', 'prettier'), ['--write', file], { stdio: 'ignore' });
  console.log(`\n${readFileSync(file, 'utf8')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
