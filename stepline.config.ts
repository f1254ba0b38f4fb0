import { defineConfig } from './core/config';

/** The pipelines stepline deploys (`npx cdk deploy`) and runs locally (`npm start`). */
export default defineConfig({
  pipelines: [
    {
      name: 'hello-service',
      source: { type: 'codecommit', repository: 'hello-service', branch: 'main' },
      build: { buildspec: 'buildspecs/build.yml' },
      tests: [
        { name: 'unit-tests', buildspec: 'buildspecs/unit-tests.yml' },
        { name: 'lint', buildspec: 'buildspecs/lint.yml' },
      ],
      localSeed: 'examples/hello-service',
    },
  ],
});
