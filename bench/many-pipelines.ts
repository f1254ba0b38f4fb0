/**
 * A many-pipeline configuration, as an organisation would declare it: each pipeline a CodeCommit
 * source, a build and two test stages; with `deployEvery` N, every Nth pipeline also releases to a
 * Lambda function of its own name (an existing function: its deploy role, alarms and alarm rule).
 * The scale tests, the synth benchmark and CI's cfn-lint run use it. Run directly, it writes the
 * config as JSON: `tsx bench/many-pipelines.ts 100 out.json [deployEvery]`.
 */
import { writeFileSync } from 'node:fs';
import { parseConfig, type ConfigInput, type SteplineConfig } from '../core/config/stepline-config';

export interface ManyPipelinesOptions {
  /** Every Nth pipeline (the first among them) deploys. @default - none deploys */
  readonly deployEvery?: number;
}

export function manyPipelinesInput(count: number, options: ManyPipelinesOptions = {}): ConfigInput {
  return {
    pipelines: Array.from({ length: count }, (_, i) => {
      const name = `service-${String(i).padStart(3, '0')}`;
      return {
        name,
        source: { type: 'codecommit' as const, repository: name, branch: 'main' },
        build: { buildspec: 'buildspecs/build.yml' },
        tests: [
          { name: 'unit-tests', buildspec: 'buildspecs/unit-tests.yml' },
          { name: 'lint', buildspec: 'buildspecs/lint.yml' },
        ],
        ...(options.deployEvery && i % options.deployEvery === 0 ? { deploy: { function: name } } : {}),
      };
    }),
  };
}

export function manyPipelines(count: number, options: ManyPipelinesOptions = {}): SteplineConfig {
  return parseConfig(manyPipelinesInput(count, options));
}

if (require.main === module) {
  const [count, file, deployEvery] = process.argv.slice(2);
  if (!count || !file) throw new Error('usage: tsx bench/many-pipelines.ts <count> <config.json> [deployEvery]');
  const options = deployEvery ? { deployEvery: Number(deployEvery) } : {};
  writeFileSync(file, JSON.stringify(manyPipelinesInput(Number(count), options), null, 2));
}
