/**
 * `stepline start --serve`, as a user runs it, prints the console's address with this start's token; the address
 * opens the console, and the token of a start does not open the next one's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/cli';
import { demoPipeline, passingSeed } from '../support/pipeline-fixture';
import { freePort } from '../support/ports';

describe('the console address stepline start --serve prints', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  afterEach(async () => {
    await stop();
    // A git process the last push started may still be writing its objects: removal retries as Node retries ENOTEMPTY.
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  async function stop(): Promise<void> {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /** Starts local mode serving on `port`; resolves with the console's address once it is printed. */
  async function serve(port: number, config: string): Promise<string> {
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'cli/stepline.ts',
        'start',
        '--serve',
        '--config',
        config,
        '--state-dir',
        join(dir, 'state'),
      ].concat(['--port', String(port)]),
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    for (let waited = 0; waited < 60_000; waited += 100) {
      const address = /^ {2}console: (\S+)$/m.exec(output)?.[1];
      if (address) return address;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`local mode never printed the console's address:\n${output}`);
  }

  it('opens the console at the printed address, and a restart makes the old one useless', async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-console-cli-'));
    await mkdir(join(dir, 'seed'));
    for (const [name, content] of Object.entries(passingSeed)) await writeFile(join(dir, 'seed', name), content);
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ pipelines: [demoPipeline(join(dir, 'seed'))] }));
    const port = await freePort();

    const address = await serve(port, config);
    expect(address).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/console/\\?token=[\\w-]{43}$`));
    const entered = await fetch(address, { redirect: 'manual' });
    expect(entered.status).toBe(303);
    const cookie = entered.headers.get('set-cookie')!.split(';')[0]!;
    const pipelines = await fetch(`http://127.0.0.1:${port}/console/`, { headers: { cookie } });
    expect(pipelines.status).toBe(200);
    expect(await pipelines.text()).toContain('data-pipeline="demo"');

    await stop();
    const next = await serve(port, config);
    expect(next).not.toBe(address);
    expect((await fetch(address, { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/console/`, { headers: { cookie } })).status).toBe(401);
  }, 180_000);
});
