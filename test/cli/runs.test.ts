/**
 * `stepline runs`, `run` and `logs` as a user runs them: child processes, `--json` parsed, against a local pipeline
 * that ran (local mode running, then stopped), and against the same local mode as AWS (`--aws` with
 * AWS_ENDPOINT_URL): the same answers wherever the runs are read.
 */
import { spawn, execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseConfig } from '../../core/config/stepline-config';
import type { RunRecord } from '../../core/records';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/constants';
import { LocalRuntime } from '../../local/runtime';
import type { RunView } from '../../store/run-view';
import { ROOT, TSX_CLI, type CliResult } from '../support/cli';
import { actingCharacters } from '../support/hostile-text';
import { buildspecs, demoPipeline, junit } from '../support/pipeline-fixture';
import { until } from '../support/until';

/** `stepline <args>` on this state dir and config, with `env` added to the environment. */
async function stepline(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [TSX_CLI, 'cli/stepline.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as CliResult;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** A commit message as an attacker writes one: it clears the screen, recolours, plants a link, retitles. */
const HOSTILE_MESSAGE =
  'fix \u001b[2J\u001b[31mred\u001b[0m \u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007 \u001b]0;title\u0007 done';

describe('stepline runs, run and logs over a local pipeline', () => {
  let dir: string;
  let stateDir: string;
  let configFile: string;
  let release: string;
  let runtime: LocalRuntime | undefined;
  let runId: string;
  const where = () => ['--state-dir', stateDir, '--config', configFile];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-reads-'));
    stateDir = join(dir, 'state');
    configFile = join(dir, 'config.json');
    release = join(dir, 'release-the-build');
    const seed = join(dir, 'seed');
    await mkdir(seed);
    const files = {
      // The build prints a line, waits until the test lets it go, prints another: a build running, seen running.
      'build.yml': buildspecs.ok(['echo line-1', `while [ ! -f ${release} ]; do sleep 0.2; done`, 'echo line-2']),
      'unit.yml': buildspecs.withReport(['mkdir -p reports', `echo '${junit(3, 1)}' > reports/junit.xml`, 'exit 1']),
      'lint.yml': buildspecs.ok(['echo lint clean']),
    };
    for (const [name, content] of Object.entries(files)) await writeFile(join(seed, name), content);
    const other = {
      ...demoPipeline(seed),
      name: 'other',
      source: { type: 'codecommit', repository: 'other', branch: 'main' },
    };
    const input = { pipelines: [demoPipeline(seed), other] };
    await writeFile(configFile, JSON.stringify(input));
    const config = parseConfig(input);
    runtime = await LocalRuntime.start({ config, stateDir, persistStore: true });
    const commit = await runtime.pushSeed(config.pipelines[0]!, seed, HOSTILE_MESSAGE);
    runId = (await runtime.runsStartedFor(commit))[0]!.runId;
  }, 120_000);
  afterAll(async () => {
    await runtime?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('logs --follow prints a running build as it grows, and exits when its stage ends', async () => {
    const child = spawn(process.execPath, [TSX_CLI, 'cli/stepline.ts', 'logs', runId, '--follow', ...where()], {
      cwd: ROOT,
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await until('the first line, followed', () => (stdout.includes('line-1') ? true : undefined), 90_000);
    // Printed while the build still waits: read as it came, not at the end.
    const stages = await runtime!.store.listStages(runId);
    expect(stages.find((s) => s.name === 'build')?.status).toBe('IN_PROGRESS');
    expect(stdout).not.toContain('line-2');
    await writeFile(release, '');
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/line-1[\s\S]*line-2/);
    expect((await runtime!.store.listStages(runId)).find((s) => s.name === 'build')?.status).toBe('SUCCEEDED');
  }, 120_000);

  test('with local mode running: runs, run and logs answer through it, and leave its state dir to it', async () => {
    const run = await runtime!.waitForRun(runId);
    expect(run.status).toBe('FAILED');

    const runs = await stepline(['runs', '--json', ...where()]);
    expect(runs.code).toBe(0);
    expect((JSON.parse(runs.stdout) as RunRecord[]).map((r) => r.runId)).toEqual([runId]);

    const shown = await stepline(['run', runId, '--json', ...where()]);
    expect(shown.code).toBe(0);
    const view = JSON.parse(shown.stdout) as RunView;
    expect(view.stages.map((s) => [s.name, s.status])).toEqual([
      ['build', 'SUCCEEDED'],
      ['unit', 'FAILED'],
      ['lint', 'SUCCEEDED'],
    ]);
    expect(view.run.failure).toMatchObject({ stage: 'unit', failedTests: [{ name: 'case 0', status: 'FAILED' }] });

    // No stage named: the failed one's log.
    const logs = await stepline(['logs', runId, '--json', ...where()]);
    expect(logs.code).toBe(0);
    const messages = logs.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { message: string }).message);
    expect(messages.some((m) => m.includes('reports/junit.xml'))).toBe(true);
    // The CLI took no lock on the state dir (it would have failed to, exit 1): local mode's store still answers.
    expect((await runtime!.store.getRun(runId))?.status).toBe('FAILED');
  }, 120_000);

  test('--aws reads the same runs through the AWS APIs, pointed at local mode by AWS_ENDPOINT_URL', async () => {
    const env = {
      AWS_ENDPOINT_URL: runtime!.endpoint.url,
      AWS_ENDPOINT_URL_DYNAMODB: runtime!.storeEndpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    };
    const runs = await stepline(['runs', '--aws', '--json'], env);
    expect(runs.stderr).not.toContain('stepline:');
    expect(runs.code).toBe(0);
    expect((JSON.parse(runs.stdout) as RunRecord[]).map((r) => r.runId)).toEqual([runId]);
    const logs = await stepline(['logs', runId, '--stage', 'build', '--aws'], env);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/line-1[\s\S]*line-2/);
  }, 120_000);

  test('with local mode stopped: the same answers from its files; the commit message is printed inert', async () => {
    await runtime!.close();
    runtime = undefined;

    const runs = await stepline(['runs', '--json', ...where()]);
    expect(runs.code).toBe(0);
    expect((JSON.parse(runs.stdout) as RunRecord[]).map((r) => [r.runId, r.status])).toEqual([[runId, 'FAILED']]);

    const text = await stepline(['run', runId, ...where()]);
    expect(text.code).toBe(0);
    expect(actingCharacters(text.stdout)).toEqual([]);
    expect(text.stdout).not.toContain('https://evil');
    expect(text.stdout).toContain('fix red click');
    expect(text.stdout).toMatch(/unit\s+FAILED[^\n]*tests 2\/3 passed, 1 failed/);
    expect(text.stdout).toContain('✖ ');
    expect(text.stdout).toContain('case 0');
    expect(text.stdout).toContain(`stepline logs ${runId} --stage unit`);

    const table = await stepline(['runs', ...where()]);
    expect(table.stdout.split('\n')[1]).toMatch(new RegExp(`^${runId}\\s+demo\\s+FAILED\\s+main\\s+[0-9a-f]{12}\\s`));
    expect(table.stdout).toContain('push');

    // --follow with nothing running: what the files hold, then the end.
    const logs = await stepline(['logs', runId, '--stage', 'build', '--follow', ...where()]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/line-1[\s\S]*line-2/);
    expect(actingCharacters(logs.stdout)).toEqual([]);
  }, 120_000);

  test('an unknown run or stage is exit 1 with the reason; a bad flag is exit 2 with the usage', async () => {
    const unknown = await stepline(['run', 'nope', ...where()]);
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toContain('no run nope in local mode (stopped)');
    const noStage = await stepline(['logs', runId, '--stage', 'deploy', ...where()]);
    expect(noStage.code).toBe(1);
    expect(noStage.stderr).toContain(`run ${runId}: no stage deploy (stages: build, unit, lint)`);

    for (const args of [['runs', '--limit', '0'], ['runs', '--status', 'DONE'], ['run'], ['logs', runId, '--follw']]) {
      const bad = await stepline([...args, ...where()]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^stepline (runs|run|logs): .*\n\nusage: stepline/);
    }
  }, 120_000);
});
