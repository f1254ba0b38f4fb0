/**
 * The post-receive hook of a local repository, run as git runs it (ref lines on stdin) against a real
 * loopback server: what it sends (the repository, the ref lines as git gave them, one delivery id per
 * push), what the pusher is told when the push is not delivered, and the same request from Node on a
 * machine without curl.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitPushSchema } from '../../local/deliveries';
import { postReceiveHook } from '../../local/git-source';

const REF_LINES =
  '0000000000000000000000000000000000000000 1111111111111111111111111111111111111111 refs/heads/main\n' +
  '2222222222222222222222222222222222222222 3333333333333333333333333333333333333333 refs/heads/say-"hi"\n';

let dir: string;
let server: Server;
let url: string;
let answer: { status: number; body: string };
const received: unknown[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stepline-hook-'));
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      received.push(JSON.parse(body));
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/_local/git-push`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  received.length = 0;
  answer = { status: 200, body: '{"events":2}' };
});

/** Runs the hook as git does; resolves with what it wrote to stderr (the pusher's terminal). */
async function push(hookUrl: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stderr: string }> {
  const hook = join(dir, 'post-receive');
  await writeFile(hook, postReceiveHook('hello-service', hookUrl), { mode: 0o755 });
  return new Promise((resolve) => {
    const child = execFile(hook, { env }, (error, _stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stderr }),
    );
    child.stdin!.end(REF_LINES);
  });
}

/** A PATH with what the hook uses but curl. */
async function pathWithoutCurl(): Promise<string> {
  const bin = join(dir, 'bin-without-curl');
  await rm(bin, { recursive: true, force: true });
  await execFileText('mkdir', ['-p', bin]);
  for (const tool of ['cat', 'awk', 'tr', 'tail', 'sed', 'uuidgen']) {
    const path = (await execFileText('sh', ['-c', `command -v ${tool} || true`])).trim();
    if (path) await symlink(path, join(bin, tool));
  }
  return bin;
}

function execFileText(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, (error, stdout) => (error ? reject(error) : resolve(stdout))),
  );
}

test('sends the repository, the ref lines as git gave them and a delivery id, in the shape the route accepts', async () => {
  expect(await push(url)).toEqual({ code: 0, stderr: '' });
  expect(received).toHaveLength(1);
  const delivered = gitPushSchema.parse(received[0]);
  expect(delivered.repository).toBe('hello-service');
  expect(delivered.lines).toBe(REF_LINES);
});

test('each push gets a delivery id of its own', async () => {
  await push(url);
  await push(url);
  const [first, second] = received.map((r) => gitPushSchema.parse(r).delivery);
  expect(first).not.toBe(second);
});

test('a refused delivery is told to the pusher with the status and the answer, and fails nothing', async () => {
  answer = { status: 400, body: '{"message":"lines: too long"}' };
  expect(await push(url)).toEqual({
    code: 0,
    stderr: 'stepline: push not delivered: 400 {"message":"lines: too long"}\n',
  });
});

test('a local mode that is not running is told to the pusher, and fails nothing', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const { code, stderr } = await push(`http://127.0.0.1:${port}/_local/git-push`);
  expect(code).toBe(0);
  expect(stderr).toMatch(/^stepline: local runtime not reachable: .+\n$/);
});

test('without curl, Node sends the same request', async () => {
  expect(await push(url, { ...process.env, PATH: await pathWithoutCurl() })).toEqual({ code: 0, stderr: '' });
  const delivered = gitPushSchema.parse(received[0]);
  expect(delivered).toMatchObject({ repository: 'hello-service', lines: REF_LINES });
});

test('without curl, a refused delivery is told to the pusher as well', async () => {
  answer = { status: 400, body: '{"message":"lines: too long"}' };
  const { code, stderr } = await push(url, { ...process.env, PATH: await pathWithoutCurl() });
  expect(code).toBe(0);
  expect(stderr).toBe('stepline: push not delivered: 400 {"message":"lines: too long"}\n');
});
