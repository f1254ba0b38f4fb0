/**
 * The web console over real loopback HTTP: who it answers (the start's token, then its cookie; loopback Hosts only;
 * actions only by POST from its own origin), and a hostile commit message shown inert on the runs and run pages.
 */
import { request, type IncomingMessage } from 'node:http';
import { matchesPattern } from '../../core/sources/event-pattern';
import { RUN_EVENTS, runEventTrigger } from '../../core/sources/source-events';
import { expectPlainInert, HOSTILE } from '../support/hostile-text';
import { buildspecs, junit, passingSeed, startFixture, type Fixture } from '../support/pipeline-fixture';

const MESSAGE = `fix ${HOSTILE.markup} ${HOSTILE.attribute} ${HOSTILE.terminal} ${HOSTILE.bidi}`;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request as a browser (or an attacker) would send it, Host and Origin as given. */
function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Follows the console's event stream; `stop` ends it and gives the kinds of the run events it carried. */
async function followEvents(url: string, cookie: string): Promise<{ stop(): string[] }> {
  const kinds: string[] = [];
  const stream = await new Promise<IncomingMessage>((resolve, reject) =>
    request(url, { headers: { cookie } }, resolve).on('error', reject).end(),
  );
  expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const events = buffered.split('\n\n');
    buffered = events.pop()!;
    for (const event of events) {
      const data = /^data: (.*)$/m.exec(event)?.[1];
      if (/^event: run$/m.test(event) && data) kinds.push((JSON.parse(data) as { kind: string }).kind);
    }
  });
  return {
    stop() {
      stream.destroy();
      return kinds;
    },
  };
}

describe('the web console over loopback HTTP', () => {
  let fixture: Fixture;
  let consoleUrl: URL;
  let base: string;
  let cookie: string;
  let runId: string;

  beforeAll(async () => {
    fixture = await startFixture({ retryIntervalOverrides: { '*': 0 } });
    const commit = await fixture.push(passingSeed, MESSAGE);
    const [started] = await fixture.runtime.runsStartedFor(commit);
    runId = started!.runId;
    await fixture.runtime.waitForRun(runId);
    consoleUrl = new URL(fixture.runtime.consoleUrl);
    base = `${consoleUrl.origin}/console/`;
    const answer = await send(consoleUrl.href);
    cookie = String(answer.headers['set-cookie']).split(';')[0]!;
  }, 120_000);
  afterAll(() => fixture?.close());

  it('answers without its token or cookie with 401 and says how to get the address', async () => {
    for (const url of [base, `${base}runs`, `${base}runs/${runId}`, `${base}static/console.js`, `${base}events`]) {
      const answer = await send(url);
      expect(answer.status).toBe(401);
    }
    const answer = await send(base);
    expect(answer.body).toContain('npm start -- --serve');
    expect(answer.body).not.toContain(consoleUrl.searchParams.get('token')!);
  });

  it('refuses a wrong token, and a cookie holding one', async () => {
    const wrong = await send(`${base}?token=${'x'.repeat(43)}`);
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const name = cookie.split('=')[0]!;
    expect((await send(base, { headers: { cookie: `${name}=${'x'.repeat(43)}` } })).status).toBe(401);
  });

  it('exchanges its token for an HttpOnly, SameSite=Strict cookie and redirects to the address without it', async () => {
    const answer = await send(`${base}runs?pipeline=demo&token=${consoleUrl.searchParams.get('token')}`);
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe('/console/runs?pipeline=demo');
    const setCookie = String(answer.headers['set-cookie']);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    expect(setCookie).toMatch(/; Path=\/console\//);
    const page = await send(`${base}runs?pipeline=demo`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
  });

  it('refuses a request addressed to a name that is not loopback (DNS rebinding), cookie or not', async () => {
    const answer = await send(consoleUrl.href, { headers: { host: `evil.example:${consoleUrl.port}`, cookie } });
    expect(answer.status).toBe(403);
    expect(answer.headers['set-cookie']).toBeUndefined();
  });

  it('refuses an action without the cookie, without an Origin, or from a foreign Origin', async () => {
    const action = `${base}runs/${runId}/rerun`;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const origin = consoleUrl.origin;
    expect((await send(action, { method: 'POST', headers: { ...form, origin }, body: '' })).status).toBe(401);
    expect((await send(action, { method: 'POST', headers: { ...form, cookie }, body: '' })).status).toBe(403);
    const foreign = await send(action, {
      method: 'POST',
      headers: { ...form, cookie, origin: 'http://evil.example' },
      body: '',
    });
    expect(foreign.status).toBe(403);
    // A GET changes nothing.
    expect((await send(action, { headers: { cookie } })).status).toBe(404);
    expect(await fixture.runtime.store.listRuns('demo')).toMatchObject({ items: [{ runId }] });
  });

  it('shows a hostile commit message inert on the runs and the run pages', async () => {
    for (const url of [`${base}runs`, `${base}runs/${runId}`, `${base}runs/${runId}/summary`]) {
      const answer = await send(url, { headers: { cookie } });
      expect(answer.status).toBe(200);
      expectPlainInert(answer.body);
      // No element of the change's, and no event handler on any element.
      expect(answer.body).not.toMatch(/<script>|<img|<svg onload/i);
      expect(answer.body).not.toMatch(/<[a-z][^>]*\son\w+=/i);
      expect(answer.body).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
      expect(answer.body).toContain('&#60;img src=x onerror=alert(2)&#62;');
      // The only script is the console's own file.
      expect(answer.body.match(/<script/g)?.length ?? 0).toBe(url.endsWith('summary') ? 0 : 1);
    }
  });

  it("draws the run's state machine with each state's status", async () => {
    const answer = await send(`${base}runs/${runId}/graph`, { headers: { cookie } });
    expect(answer.body).toMatch(/<svg\s+class="state-graph"/);
    const statusOf = (state: string) =>
      new RegExp(`data-state="${state}" data-status="([a-z-]+)"`).exec(answer.body)?.[1];
    expect(statusOf('Build')).toBe('succeeded');
    expect(statusOf('Run test stages')).toBe('succeeded');
    expect(statusOf('Record run succeeded')).toBe('succeeded');
    expect(statusOf('Record run failed')).toBe('not-reached');
  });

  it("pushes each run event to open pages as a server-sent event: the run's start and end, each stage's changes", async () => {
    const events = await followEvents(`${base}events`, cookie);
    const [started] = await fixture.runtime.runsStartedFor(await fixture.push(passingSeed, 'second'));
    await fixture.runtime.waitForRun(started!.runId);
    await fixture.runtime.notificationsOf(started!.runId);
    const kinds = events.stop();
    // build, unit and lint: each started, then ended.
    expect(kinds.filter((kind) => kind === 'StageChanged')).toHaveLength(6);
    // The run's end is announced by its last step and again at its execution's end (core/runs/progress.ts).
    expect([...new Set(kinds.filter((kind) => kind !== 'StageChanged'))]).toEqual(['RunStarted', 'RunEnded']);
  }, 120_000);

  it("leaves the console's events to the console: the notifier's rule does not take them", () => {
    const event = (kind: string) => ({ source: RUN_EVENTS.source, 'detail-type': kind, detail: { kind } });
    for (const kind of ['StageChanged', 'GateChanged', 'DeploymentChanged'])
      expect(matchesPattern(runEventTrigger().pattern, event(kind))).toBe(false);
    expect(matchesPattern(runEventTrigger().pattern, event('RunEnded'))).toBe(true);
  });

  it("shows a failed stage's failing test cases, and serves its log whole once it has ended", async () => {
    const failing = {
      ...passingSeed,
      'unit.yml': buildspecs.withReport(['mkdir -p reports', `echo '${junit(4, 1)}' > reports/junit.xml`, 'exit 1']),
    };
    const [started] = await fixture.runtime.runsStartedFor(await fixture.push(failing, 'a failing test'));
    expect((await fixture.runtime.waitForRun(started!.runId)).status).toBe('FAILED');
    const stages = await send(`${base}runs/${started!.runId}/stages`, { headers: { cookie } });
    expect(stages.body).toMatch(/<h3>\s*unit\s*<span class="badge status-failed">FAILED<\/span>/);
    expect(stages.body).toContain('tests: 3 passed, 1 failed, 0 skipped of 4');
    expect(stages.body).toMatch(/<td>case 0<\/td>/);
    expect(stages.body).toContain('expected 1 to be 2');

    const log = await send(`${base}runs/${started!.runId}/logs/unit`, { headers: { cookie } });
    expect(log.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(log.body).toMatch(/^data: .*Running command exit 1$/m);
    expect(log.body).toMatch(/event: end\ndata: FAILED\n\n$/);
  }, 120_000);
});

describe("the console's deployment view", () => {
  let fixture: Fixture;
  afterAll(() => fixture?.close());

  it('follows a release step by step (DeploymentChanged) and draws its traffic over time', async () => {
    const handler = `version: 0.2\nphases:\n  build:\n    commands:\n      - mkdir -p dist\n      - ${JSON.stringify(`echo 'exports.handler = async () => ({ ok: true });' > dist/index.js`)}\nartifacts:\n  files:\n    - '**/*'\n  base-directory: dist\n`;
    fixture = await startFixture(
      { retryIntervalOverrides: { '*': 0 } },
      { deploy: { function: 'hello', strategy: { type: 'canary', steps: [10, 50], bakeSeconds: 0 } } },
    );
    const consoleUrl = new URL(fixture.runtime.consoleUrl);
    const cookie = String((await send(consoleUrl.href)).headers['set-cookie']).split(';')[0]!;
    const events = await followEvents(`${consoleUrl.origin}/console/events`, cookie);
    const [started] = await fixture.runtime.runsStartedFor(
      await fixture.push({ ...passingSeed, 'build.yml': handler }),
    );
    expect((await fixture.runtime.waitForRun(started!.runId)).status).toBe('SUCCEEDED');
    await fixture.runtime.notificationsOf(started!.runId);
    const kinds = events.stop();
    // Started, the new version recorded, three traffic steps (10 %, 50 %, promoted), finished: each told.
    expect(kinds.filter((kind) => kind === 'DeploymentChanged').length).toBeGreaterThanOrEqual(5);

    const answer = await send(`${consoleUrl.origin}/console/runs/${started!.runId}/deployment`, {
      headers: { cookie },
    });
    expect(answer.body).toMatch(/<svg\s+class="deployment-chart"/);
    for (const weight of ['10%', '50%', '100%']) expect(answer.body).toContain(`<span class="weight">${weight}</span>`);
    expect(answer.body).toContain('status-succeeded');
  }, 180_000);
});
