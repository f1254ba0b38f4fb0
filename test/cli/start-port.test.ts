/**
 * Where `stepline start` listens, as a user runs it: the default port, `--port`, and a port another
 * local mode holds. Child processes over real loopback sockets; every test but the default's names a
 * free port, so none counts on the default being free.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LOCAL_PORT } from '../../local/local-address';
import { ENDPOINT_FILE } from '../../local/runtime';
import { ROOT, stepline } from '../support/cli';
import { demoPipeline, passingSeed } from '../support/pipeline-fixture';
import { freePort, portTaken } from '../support/ports';

describe('the port of stepline start', () => {
  let dir: string;
  let config: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-cli-port-'));
    await mkdir(join(dir, 'seed'));
    for (const [name, content] of Object.entries(passingSeed)) await writeFile(join(dir, 'seed', name), content);
    config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ pipelines: [demoPipeline(join(dir, 'seed'))] }));
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map(stop));
    await rm(dir, { recursive: true, force: true });
  });

  /** `stepline start --serve` in the background (node itself, so that it is the pid that holds the port). */
  function serve(stateDir: string, extra: string[] = []) {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'cli/stepline.ts', 'start', '--serve', '--config', config, '--state-dir', stateDir, ...extra],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return { child, output: () => output };
  }

  /** The endpoint local mode in `stateDir` says it listens on, once it says so. */
  async function endpointOf(stateDir: string, output: () => string): Promise<{ url: string; pid: number }> {
    const file = join(stateDir, ENDPOINT_FILE);
    for (let waited = 0; waited < 45_000; waited += 100) {
      if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { url: string; pid: number };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`local mode never wrote ${file}:\n${output()}`);
  }

  async function stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  it('refuses a --port that is not a port with a usage error (exit 2)', async () => {
    for (const port of ['0', '65536', '80a', '-1', '1e3']) {
      const result = await stepline(['start', '--config', config, '--state-dir', join(dir, 'state'), `--port=${port}`]);
      expect({ port, code: result.code }).toEqual({ port, code: 2 });
      expect(result.stderr).toContain(`stepline start: --port must be a whole number from 1 to 65535, got ${port}`);
    }
  });

  it('listens on --port and says so in endpoint.json; a second local mode on that port fails, naming it and the first', async () => {
    const port = await freePort();
    const first = serve(join(dir, 'first'), ['--port', String(port)]);
    const endpoint = await endpointOf(join(dir, 'first'), first.output);
    expect(endpoint).toEqual({
      url: `http://127.0.0.1:${port}`,
      storeEndpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      pid: first.child.pid,
    });

    const second = await stepline([
      'start',
      '--config',
      config,
      '--state-dir',
      join(dir, 'second'),
      '--port',
      `${port}`,
    ]);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toMatch(
      new RegExp(
        `^port ${port} on 127\\.0\\.0\\.1 is in use by another stepline local mode \\(pid ${first.child.pid}: .*cli/stepline\\.ts start --serve .*\\): stop it, or start local mode on another port with --port N$`,
      ),
    );
    // The second began nothing: no endpoint of its own, and its state directory is free for a start on another port.
    expect(existsSync(join(dir, 'second', ENDPOINT_FILE))).toBe(false);
    expect(existsSync(join(dir, 'second', 'local-mode.lock'))).toBe(false);
  });

  it(`listens on ${DEFAULT_LOCAL_PORT} when no --port is given`, async () => {
    if (await portTaken(DEFAULT_LOCAL_PORT)) {
      console.warn(
        `SKIPPED "listens on ${DEFAULT_LOCAL_PORT} when no --port is given": port ${DEFAULT_LOCAL_PORT} is in use on this machine`,
      );
      return;
    }
    const local = serve(join(dir, 'state'));
    const endpoint = await endpointOf(join(dir, 'state'), local.output);
    expect(endpoint.url).toBe(`http://127.0.0.1:${DEFAULT_LOCAL_PORT}`);
    for (let waited = 0; waited < 10_000 && !local.output().includes('listening on'); waited += 100)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(local.output()).toContain(`listening on http://127.0.0.1:${DEFAULT_LOCAL_PORT} (loopback only;`);
  });
});
