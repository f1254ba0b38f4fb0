/**
 * The release gate from a terminal, as a user meets it: `stepline start` run without a terminal (the
 * demo approver decides, recorded as such) and inside a real pseudo-terminal (`script`), where it
 * prints the approvers' links and waits until a person decides with `stepline approve` — each a child
 * process, decided over the local endpoint.
 */
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT as root, stepline, TSX_CLI as tsx } from '../support/cli';
import { freePort } from '../support/ports';
import { demoPipeline, passingSeed } from '../support/pipeline-fixture';

const run = promisify(execFile);

const approval = {
  approvers: [
    { id: 'alice', name: 'Alice', emails: ['alice@example.com'] },
    { id: 'bob', name: 'Bob', emails: ['bob@example.com'] },
  ],
};
const notifications = { email: { from: 'ci@example.com', to: ['team@example.com'] } };

describe('the release gate from a terminal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-cli-gate-'));
    await mkdir(join(dir, 'seed'));
    for (const [name, content] of Object.entries(passingSeed)) await writeFile(join(dir, 'seed', name), content);
    await writeFile(
      join(dir, 'config.json'),
      JSON.stringify({ pipelines: [{ ...demoPipeline(join(dir, 'seed')), approval, notifications }] }),
    );
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('without a terminal, `start` runs to the end: the demo approver approves, and is recorded as the demo', async () => {
    const result = await stepline(['start', '--config', join(dir, 'config.json'), '--state-dir', join(dir, 'state')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'release gate: normal risk (no risk rule matched: the default class); needs 1 approval(s)',
    );
    expect(result.stdout).toContain(
      "no terminal to ask a person at: local mode's demo approver approved (recorded as the demo): approved by demo-approver-1",
    );
    expect(result.stdout).toMatch(/run demo-\S+ SUCCEEDED in/);
    expect(result.stdout).toContain('the change was released: approved by demo-approver-1 at its release gate');
    expect(result.stdout).not.toContain('warning:');
  });

  it("warns at start when the only approver is the author of a localRepository's commits; its pushes are judged by their files", async () => {
    const repository = join(dir, 'my-service');
    await run('git', ['init', '--quiet', '--initial-branch=main', repository]);
    await run('git', ['-C', repository, 'config', 'user.email', 'ada@example.com']);
    await run('git', ['-C', repository, 'config', 'user.name', 'Ada']);
    const commit = async (files: Record<string, string>) => {
      for (const [name, content] of Object.entries(files)) await writeFile(join(repository, name), content);
      await run('git', ['-C', repository, 'add', '--all']);
      await run('git', ['-C', repository, 'commit', '--quiet', '-m', 'change']);
    };
    await commit(passingSeed);
    const onlyAda = {
      approvers: [{ id: 'ada', emails: ['ada@example.com'] }],
      classes: { normal: { approvals: 1 }, high: { approvals: 1 } },
    };
    const config = { pipelines: [{ ...demoPipeline(), localRepository: repository, approval: onlyAda }] };
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    const start = () => stepline(['start', '--config', join(dir, 'config.json'), '--state-dir', join(dir, 'state')]);

    const first = await start();
    expect(first.stdout).toContain(
      'warning: pipeline "demo": a normal-risk change by ada@example.com can never be approved: it needs 1 distinct approval from approvers, and separation of duties rules out ada (its author), leaving 0; add an approver who does not write its changes\n',
    );
    expect(first.stdout).toContain(
      'warning: pipeline "demo": a high-risk change by ada@example.com can never be approved',
    );
    // Known files, as for a seed: the default class, not "the change's files are not all known".
    expect(first.stdout).toContain('release gate: normal risk (no risk rule matched: the default class)');

    await commit({ 'notes.txt': 'a second change' });
    const second = await start();
    expect(second.stdout).toContain('release gate: normal risk (no risk rule matched: the default class)');
    expect(second.code).toBe(0);
  });

  /** `stepline start` inside a real pseudo-terminal (`script`), as a person's shell runs it. */
  async function startAtTerminal() {
    const command = [
      process.execPath,
      tsx,
      'cli/stepline.ts',
      'start',
      '--config',
      join(dir, 'config.json'),
      '--state-dir',
      join(dir, 'state'),
      '--port',
      String(await freePort()),
    ]
      .map((part) => `'${part}'`)
      .join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: root });
    const started = {
      child,
      output: '',
      exited: new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1))),
    };
    child.stdout.on('data', (chunk: Buffer) => (started.output += chunk.toString()));
    return started;
  }

  it('at a terminal, a rejection ends the run REJECTED, and `start` says who rejected it and why, and exits 1', async () => {
    const started = await startAtTerminal();
    try {
      for (let i = 0; i < 600 && !started.output.includes('waiting for a decision'); i++)
        await new Promise((r) => setTimeout(r, 100));
      const runId = /npx stepline approve (demo-\S+)/.exec(started.output)![1]!;
      const rejected = await stepline(
        ['reject', runId, '--reason', 'not this week', '--state-dir', join(dir, 'state')],
        {
          email: 'alice@example.com',
        },
      );
      expect(rejected).toMatchObject({ code: 0, stdout: 'rejected by alice: not this week\n' });
      expect(await started.exited).toBe(1);
      expect(started.output).toMatch(/run demo-\S+ REJECTED/);
      expect(started.output).toContain(
        'the change was rejected at its release gate (rejected by alice: not this week); nothing was released',
      );
    } finally {
      started.child.kill();
    }
  });

  it('at a terminal, `start` prints the approval links and waits; `stepline approve` as an approver ends the wait', async () => {
    const started = await startAtTerminal();
    const { child, exited } = started;
    try {
      for (let i = 0; i < 600 && !started.output.includes('waiting for a decision'); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(started.output).toMatch(/alice: approve http:\/\/127\.0\.0\.1:\d+\/approvals\/decide\?token=\S+/);
      expect(started.output).toMatch(/bob: approve http:\/\/127\.0\.0\.1:\d+\/approvals\/decide\?token=\S+/);
      expect(started.output).not.toContain('demo approver');
      const runId = /npx stepline approve (demo-\S+)/.exec(started.output)![1]!;

      const listed = await stepline(['approvals', '--state-dir', join(dir, 'state')], { email: 'bob@example.com' });
      expect(listed.stdout).toContain(`${runId}  demo  WAITING  normal risk, needs 1  asked: alice, bob  deadline `);
      const stranger = await stepline(['approve', runId, '--state-dir', join(dir, 'state')], {
        email: 'eve@example.com',
      });
      expect(stranger.code).toBe(1);
      // Named as local mode knows them (their git email), with who may decide and how to become one of them.
      expect(stranger.stdout).toBe(
        'refused (403): you (eve@example.com, your git user.email) are not an approver of pipeline demo; who may approve: alice (alice@example.com), bob (bob@example.com); set git config user.email to one of theirs\n',
      );
      // Exactly as printed: the package's own bin, through npx.
      const approved = await run('npx', ['stepline', 'approve', runId, '--state-dir', join(dir, 'state')], {
        cwd: root,
        env: {
          ...process.env,
          GIT_CONFIG_COUNT: '1',
          GIT_CONFIG_KEY_0: 'user.email',
          GIT_CONFIG_VALUE_0: 'bob@example.com',
        },
      });
      expect(approved.stdout).toBe('approved by bob\n');

      expect(await exited).toBe(0);
      expect(started.output).toMatch(/run demo-\S+ SUCCEEDED in/);
      expect(started.output).toContain('the change was released: approved by bob at its release gate');
      const shown = await stepline(['approvals', runId, '--state-dir', join(dir, 'state')], {
        email: 'bob@example.com',
      });
      // Local mode has stopped: the CLI says so rather than failing obscurely.
      expect(shown.stderr).toContain('local mode is not running in');
    } finally {
      child.kill();
    }
  });
});

describe('stepline approve --aws', () => {
  it('finds the endpoint in SSM and signs each request with SigV4 for execute-api, as the caller', async () => {
    const received: { url: string; headers: Record<string, unknown>; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req
        .on('data', (c: Buffer) => (body += c.toString()))
        .on('end', () => {
          received.push({ url: req.url ?? '', headers: req.headers, body });
          if (req.headers['x-amz-target'] === 'AmazonSSM.GetParameter') {
            res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
            res.end(JSON.stringify({ Parameter: { Name: JSON.parse(body).Name, Value: `http://127.0.0.1:${port}` } }));
          } else {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ message: 'approved by bob' }));
          }
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const env = {
        ...process.env,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
        AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${port}`,
      };
      const { stdout } = await run(process.execPath, [tsx, 'cli/stepline.ts', 'approve', 'web-abc', '--aws'], {
        cwd: root,
        env,
        timeout: 60_000,
      });
      expect(stdout).toBe('approved by bob\n');
      const [ssm, decision] = received;
      expect(JSON.parse(ssm!.body)).toEqual({ Name: '/stepline/platform/approvals-url' });
      expect(decision).toMatchObject({
        url: '/cli/approvals/web-abc',
        body: JSON.stringify({ decision: 'approve' }),
      });
      expect(decision!.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
      );
    } finally {
      server.close();
    }
  });
});
