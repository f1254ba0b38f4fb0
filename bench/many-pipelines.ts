/**
 * A many-pipeline configuration, as an organisation would declare it: each pipeline a CodeCommit
 * source, a build and two test stages. The scale tests, the synth benchmark and CI's cfn-lint run
 * use it. Run directly, it writes the config as JSON: `tsx bench/many-pipelines.ts 100 out.json`.
 */
import { writeFileSync } from 'node:fs';
import { parseConfig, type ConfigInput, type SteplineConfig } from '../core/config/stepline-config';

export function manyPipelinesInput(count: number): ConfigInput {
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
      };
    }),
  };
}

export function manyPipelines(count: number): SteplineConfig {
  return parseConfig(manyPipelinesInput(count));
}

if (require.main === module) {
  const [count, file] = process.argv.slice(2);
  if (!count || !file) throw new Error('usage: tsx bench/many-pipelines.ts <count> <config.json>');
  writeFileSync(file, JSON.stringify(manyPipelinesInput(Number(count)), null, 2));
}
