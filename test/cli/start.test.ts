/** `stepline start` as a user runs it: a child process, its output and its exit code. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stepline, type CliResult } from '../support/cli';
import { buildspecs, demoPipeline, junit, passingSeed } from '../support/pipeline-fixture';

const run = promisify(execFile);

async function start(dir: string, config: unknown): Promise<CliResult> {
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  return stepline(['start', '--config', join(dir, 'config.json'), '--state-dir', join(dir, 'state')]);
}

async function seed(dir: string, files: Record<string, string>): Promise<string> {
  const seedDir = join(dir, 'seed');
  await rm(seedDir, { recursive: true, force: true });
  await run('mkdir', ['-p', seedDir]);
  for (const [name, content] of Object.entries(files)) await writeFile(join(seedDir, name), content);
  return seedDir;
}

const pipeline = demoPipeline;

describe('stepline start', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-cli-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('runs the pipeline of the seed, shows each stage and exits 0; a second start runs again', async () => {
    const config = { pipelines: [pipeline(await seed(dir, passingSeed))] };
    const first = await start(dir, config);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`state in ${join(dir, 'state')}`);
    expect(first.stdout).toMatch(/✔ build +SUCCEEDED/);
    expect(first.stdout).toMatch(/✔ unit +SUCCEEDED .* tests 3\/3 passed/);
    expect(first.stdout).toMatch(/run demo-[0-9a-f]{12}-[0-9a-f]{8} SUCCEEDED in/);

    const second = await start(dir, config);
    expect(second.code).toBe(0);
    const runIds = [first, second].map((r) => /run (demo-\S+) SUCCEEDED/.exec(r.stdout)?.[1]);
    expect(runIds[1]).not.toBe(runIds[0]);
  });

  it('exits 1 with the failing stage and its log tail when the run fails, and says where it notified', async () => {
    const files = { ...passingSeed, 'lint.yml': buildspecs.ok(['echo "src/a.ts: Missing semicolon"', 'exit 1']) };
    const notifications = {
      slack: { webhookUrlSecret: 'stepline/notifications/demo-slack' },
      email: { from: 'ci@example.com', to: ['team@example.com'] },
    };
    const result = await start(dir, { pipelines: [{ ...pipeline(await seed(dir, files)), notifications }] });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✖ lint +FAILED/);
    expect(result.stdout).toContain('failed at stage lint: States.TaskFailed');
    expect(result.stdout).toContain('│ src/a.ts: Missing semicolon');
    const slack = /notified slack \(delivered\): (\S+\.json)/.exec(result.stdout)?.[1];
    const email = /notified email \(delivered\): (\S+\.eml)/.exec(result.stdout)?.[1];
    expect(slack).toBeDefined();
    expect(JSON.parse(await readFile(slack!, 'utf8'))).toMatchObject({
      text: expect.stringMatching(/^demo failed at lint: /),
    });
    expect(await readFile(email!, 'utf8')).toContain('To: team@example.com');
  });

  it('names the failing test cases of a failed test stage', async () => {
    const files = {
      ...passingSeed,
      'unit.yml': buildspecs.withReport(['mkdir -p reports', `echo '${junit(3, 1)}' > reports/junit.xml`, 'exit 1']),
    };
    const result = await start(dir, { pipelines: [pipeline(await seed(dir, files))] });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '  failing tests:\n    ✖ unit › case 0\n        expected 1 to be 2\n        boom\n',
    );
  });

  it("runs a repository of the user's, outside stepline's tree, on exactly its HEAD commit", async () => {
    const repository = join(dir, 'my-service');
    await run('git', ['init', '--quiet', '--initial-branch=main', repository]);
    for (const [name, content] of Object.entries(passingSeed)) await writeFile(join(repository, name), content);
    const git = (...args: string[]) =>
      run('git', ['-C', repository, '-c', 'user.name=Ada', '-c', 'user.email=ada@example.com', ...args]);
    await git('add', '--all');
    await git('commit', '--quiet', '-m', 'my change');
    const head = (await git('rev-parse', 'HEAD')).stdout.trim();
    const config = { pipelines: [{ ...pipeline(), localSeed: undefined, localRepository: repository }] };

    const first = await start(dir, config);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(
      `pushed HEAD of ${repository} to ${join(dir, 'state', 'git', 'demo.git')} (commit ${head.slice(0, 12)})`,
    );
    expect(first.stdout).toMatch(new RegExp(`run demo-${head.slice(0, 12)}-[0-9a-f]{8} SUCCEEDED`));
    expect((await git('remote', 'get-url', 'stepline')).stdout.trim()).toBe(join(dir, 'state', 'git', 'demo.git'));

    // The same HEAD again is a deliberate re-run: a new run of the same commit.
    const second = await start(dir, config);
    expect(second.code).toBe(0);
    const runIds = [first, second].map((r) => /run (demo-\S+) SUCCEEDED/.exec(r.stdout)?.[1]);
    expect(runIds[1]).toMatch(new RegExp(`^demo-${head.slice(0, 12)}-`));
    expect(runIds[1]).not.toBe(runIds[0]);
  });

  it('refuses an invalid config, naming the pipeline and the field, before starting anything', async () => {
    const result = await start(dir, { pipelines: [{ ...pipeline(dir), build: { buildspec: '/etc/passwd' } }] });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'pipeline "demo" → build.buildspec: buildspec must be a path inside the repository',
    );
    expect(result.stdout).toBe('');
  });
});
