/**
 * Where local mode listens and whom it answers, over real loopback sockets: the port it is given (the
 * same across restarts, so links sent earlier keep working), a port another local mode holds refused
 * with the port and its holder, and every listener refusing a request addressed to a name that is not
 * loopback (DNS rebinding) without a CORS header.
 */
import { request } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../core/config/stepline-config';
import { APPROVAL_ROUTES } from '../../core/platform';
import { reserveLocalEndpoint } from '../../local/aws-endpoint';
import { PortInUseError } from '../../local/local-address';
import { ENDPOINT_FILE, GITHUB_WEBHOOK_ROUTE, LocalRuntime } from '../../local/runtime';
import { GIT_PUSH_ROUTE } from '../../local/deliveries';
import { delivered, emailLinks, gateIn } from '../support/approvals';
import { demoPipeline, passingSeed, startFixture, type Fixture } from '../support/pipeline-fixture';
import { freePort } from '../support/ports';

const policy = {
  approvers: [
    { id: 'alice', name: 'Alice', emails: ['alice@example.com'] },
    { id: 'bob', name: 'Bob', emails: ['bob@example.com'] },
  ],
  classes: { normal: { approvals: 1 } },
};
const notifications = { email: { from: 'ci@example.com', to: ['team@example.com'] } };

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A request with the Host header as given (fetch would set its own). */
function send(
  url: string,
  host: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  return new Promise<Answer>((resolve, reject) => {
    const call = request(url, { method: options.method ?? 'POST', headers: { ...options.headers, host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    call.on('error', reject);
    call.end(options.body);
  });
}

const corsHeaders = (answer: Answer) =>
  Object.keys(answer.headers).filter((name) => name.startsWith('access-control-'));

describe('the port local mode listens on', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-port-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is the one it is given, written to endpoint.json; a second local mode on it fails naming the port and its holder', async () => {
    const port = await freePort();
    const config = parseConfig({ pipelines: [demoPipeline()] });
    const first = await LocalRuntime.start({ config, stateDir: join(dir, 'first'), port });
    try {
      expect(first.endpoint.url).toBe(`http://127.0.0.1:${port}`);
      const written = JSON.parse(await readFile(join(dir, 'first', ENDPOINT_FILE), 'utf8')) as { url: string };
      expect(written.url).toBe(`http://127.0.0.1:${port}`);

      const second = LocalRuntime.start({ config, stateDir: join(dir, 'second'), port });
      await expect(second).rejects.toThrow(PortInUseError);
      // The holder is this test's process (the first local mode runs in it), found through /proc.
      await expect(second).rejects.toThrow(
        `port ${port} on 127.0.0.1 is in use by another program (pid ${process.pid}: `,
      );
      await expect(second).rejects.toThrow(/: stop it, or start local mode on another port with --port N$/);
      // It began nothing: its state directory is not left locked, and another port serves it.
      const elsewhere = await LocalRuntime.start({ config, stateDir: join(dir, 'second'), port: await freePort() });
      await elsewhere.close();
    } finally {
      await first.close();
    }
  });

  it('is the same after a restart: an approval link emailed before it decides after it', async () => {
    const port = await freePort();
    const config = parseConfig({ pipelines: [{ ...demoPipeline(), approval: policy, notifications }] });
    const options = { config, stateDir: join(dir, 'state'), persistStore: true, port };
    let runtime = await LocalRuntime.start(options);
    try {
      const seed = join(dir, 'seed');
      await mkdir(seed);
      for (const [path, content] of Object.entries(passingSeed)) await writeFile(join(seed, path), content);
      const [started] = await runtime.runsStartedFor(await runtime.pushSeed(config.pipelines[0]!, seed, 'change'));
      const runId = started!.runId;
      const before = await gateIn(runtime, runId, 'WAITING');
      await delivered(runtime, runId, 'email:approval:alice');
      const link = emailLinks(runtime, runId, 'alice').approve;
      expect(link.startsWith(`http://127.0.0.1:${port}${APPROVAL_ROUTES.decide}?`)).toBe(true);
      await runtime.close();

      runtime = await LocalRuntime.start(options);
      expect(runtime.resumedExecutions).toEqual([runId]);
      // The gate waits again once the resumed Task has its new token.
      for (let i = 0; i < 100 && (await runtime.store.getApproval(runId))!.taskToken === before.taskToken; i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      const token = new URL(link).searchParams.get('token')!;
      // The link as the email has it: the page it opens, then the form it posts.
      expect((await fetch(link)).status).toBe(200);
      const decided = await fetch(link.split('?')[0]!, {
        method: 'POST',
        body: new URLSearchParams({ token, decision: 'approve' }),
      });
      expect(decided.status).toBe(200);
      expect(await decided.text()).toContain('approved by alice');
      expect((await runtime.waitForRun(runId)).status).toBe('SUCCEEDED');
    } finally {
      await runtime.close();
    }
  });
});

describe('the endpoint reserved before its services exist', () => {
  it('holds a request that arrives before it is served, and answers it once served', async () => {
    const reserved = await reserveLocalEndpoint(await freePort());
    try {
      let answered = false;
      const early = send(`${reserved.url}/early`, new URL(reserved.url).host, { method: 'GET' }).then((answer) => {
        answered = true;
        return answer;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(answered).toBe(false);
      reserved.serve((req, res) => res.end(`served ${req.url}`));
      expect(await early).toMatchObject({ status: 200, body: 'served /early' });
    } finally {
      await reserved.close();
    }
  });
});

describe('every local listener answers only requests addressed to a loopback name with its port', () => {
  let fixture: Fixture;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    fixture = await startFixture({ port }, { approval: policy });
  });
  afterAll(() => fixture.close());

  const endpoint = () => fixture.runtime.endpoint.url;
  const sdkCall = {
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSStepFunctions.ListExecutions' },
    body: '{}',
  };
  const storeCall = () => ({
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
    body: '{}',
  });

  const listeners: [
    string,
    () => string,
    () => { method?: string; headers?: Record<string, string>; body?: string },
  ][] = [
    ['the endpoint, an SDK operation', () => `${endpoint()}/`, () => sdkCall],
    ['a decision route', () => `${endpoint()}${APPROVAL_ROUTES.decide}`, () => ({ method: 'GET' })],
    ['the CLI decision route', () => `${endpoint()}${APPROVAL_ROUTES.cli}`, () => ({ method: 'GET' })],
    ['the GitHub webhook', () => `${endpoint()}${GITHUB_WEBHOOK_ROUTE}`, () => ({ body: '{}' })],
    ['the git hook route', () => `${endpoint()}${GIT_PUSH_ROUTE}`, () => ({ body: '{}' })],
    ['the Lambda API', () => `${endpoint()}/2015-03-31/functions/`, () => ({ method: 'GET' })],
    ['the store (dynalite)', () => `${fixture.runtime.storeEndpoint}/`, storeCall],
  ];

  it.each(listeners)(
    '%s refuses another name, or another port, with 403 in plain text and no CORS header',
    async (_, url, call) => {
      const own = Number(new URL(url()).port);
      for (const host of [
        `evil.example:${own}`,
        `127.0.0.1.evil.example:${own}`,
        `127.0.0.1:${own + 1}`,
        'localhost',
      ]) {
        const answer = await send(url(), host, {
          ...call(),
          headers: { ...call().headers, origin: 'http://evil.example' },
        });
        expect({ host, status: answer.status }).toEqual({ host, status: 403 });
        expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(answer.body).toContain(`stepline local mode answers only requests addressed to 127.0.0.1:${own}`);
        expect(corsHeaders(answer)).toEqual([]);
      }
    },
  );

  it.each(listeners)(
    '%s serves a request addressed to 127.0.0.1, localhost or [::1] with its port, with no CORS header',
    async (_, url, call) => {
      const own = Number(new URL(url()).port);
      for (const host of [`127.0.0.1:${own}`, `localhost:${own}`, `LOCALHOST:${own}`, `[::1]:${own}`]) {
        const answer = await send(url(), host, {
          ...call(),
          headers: { ...call().headers, origin: 'http://evil.example' },
        });
        // Served: whatever the route answers (its own refusal of an empty request included), never the Host check's.
        expect({ host, body: answer.body }).not.toEqual({
          host,
          body: expect.stringContaining('answers only requests'),
        });
        expect(corsHeaders(answer)).toEqual([]);
      }
    },
  );

  it('the endpoint is on the port it was given; the store on a port of its own', () => {
    expect(endpoint()).toBe(`http://127.0.0.1:${port}`);
    expect(fixture.runtime.storeEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
