import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type PipelineConfig } from '../../core/config/stepline-config';
import { LocalRuntime, type LocalRuntimeOptions } from '../../local/runtime';

/** A JUnit report with `failures` failing cases out of `total`. */
export function junit(total: number, failures: number): string {
  const cases = Array.from({ length: total }, (_, i) =>
    i < failures
      ? `<testcase name="case ${i}" time="0.01"><failure message="expected 1 to be 2">boom</failure></testcase>`
      : `<testcase name="case ${i}" time="0.01"/>`,
  ).join('');
  return `<?xml version="1.0"?><testsuites><testsuite name="unit" tests="${total}" failures="${failures}">${cases}</testsuite></testsuites>`;
}

/** A GitHub source for pipeline "web" (octo/web), through a CodeConnections connection. */
export const githubSource = {
  type: 'github',
  owner: 'octo',
  repo: 'web',
  branch: 'main',
  connectionArn: 'arn:aws:codeconnections:eu-west-1:111122223333:connection/0b6a2f8c-1f63-4b5e-9f3a-2d1c0e9b8a7f',
} as const;

/** Every notification channel for pipeline "web": Slack, email and GitHub commit statuses. */
export const everyNotification = {
  slack: { webhookUrlSecret: 'stepline/notifications/web-slack' },
  email: { from: 'ci@example.com', to: ['team@example.com'] },
  githubStatuses: { tokenSecret: 'stepline/notifications/web-github' },
};

export const buildspecs = {
  ok: (commands: string[]) =>
    `version: 0.2\nphases:\n  build:\n    commands:\n${commands.map((c) => `      - ${JSON.stringify(c)}`).join('\n')}\n`,
  withReport: (commands: string[]) =>
    `${buildspecs.ok(commands)}reports:\n  unit:\n    files:\n      - junit.xml\n    base-directory: reports\n    file-format: JUNITXML\n`,
};

/** The pipeline `demo` (config input): build, then test stages `unit` and `lint`, from build.yml, unit.yml, lint.yml. */
export function demoPipeline(localSeed?: string) {
  return {
    name: 'demo',
    source: { type: 'codecommit' as const, repository: 'demo', branch: 'main' },
    build: { buildspec: 'build.yml', timeoutMinutes: 5 },
    tests: [
      { name: 'unit', buildspec: 'unit.yml', timeoutMinutes: 5 },
      { name: 'lint', buildspec: 'lint.yml', timeoutMinutes: 5 },
    ],
    localSeed,
  };
}

export interface Fixture {
  readonly runtime: LocalRuntime;
  readonly pipeline: PipelineConfig;
  readonly seedDir: string;
  /** Writes the seed's files, commits and pushes them; resolves with the commit id. */
  push(files: Record<string, string>, message?: string): Promise<string>;
  close(): Promise<void>;
}

/** A local runtime with one pipeline `demo`: build, then test stages `unit` and `lint`. */
export async function startFixture(
  options: Partial<LocalRuntimeOptions> = {},
  pipelineSettings: {
    testConcurrency?: number;
    filters?: Record<string, unknown>;
    source?: Record<string, unknown>;
    executionMode?: string;
    notifications?: Record<string, unknown>;
    approval?: Record<string, unknown>;
    deploy?: Record<string, unknown>;
  } = {},
): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'stepline-pipeline-'));
  const seedDir = join(dir, 'seed');
  const config = parseConfig({ pipelines: [{ ...demoPipeline(), ...pipelineSettings }] });
  const runtime = await LocalRuntime.start({ config, stateDir: join(dir, 'state'), ...options });
  const pipeline = config.pipelines[0]!;
  return {
    runtime,
    pipeline,
    seedDir,
    async push(files, message = 'change') {
      await rm(seedDir, { recursive: true, force: true });
      for (const [path, content] of Object.entries(files)) {
        await mkdir(join(seedDir, path, '..'), { recursive: true });
        await writeFile(join(seedDir, path), content);
      }
      return runtime.pushSeed(pipeline, seedDir, message);
    },
    async close() {
      await runtime.close();
      // A git process the last push started may still be writing its objects: removal retries as Node retries ENOTEMPTY.
      await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

export const passingSeed = {
  'build.yml': buildspecs.ok(['echo compiling', 'mkdir -p dist', 'echo bundle > dist/index.js']),
  'unit.yml': buildspecs.withReport(['mkdir -p reports', `echo '${junit(3, 0)}' > reports/junit.xml`]),
  'lint.yml': buildspecs.ok(['echo lint clean']),
};
