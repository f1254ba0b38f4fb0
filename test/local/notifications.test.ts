/**
 * Notifications in local mode: a run of a GitHub pipeline whose test stage fails leaves, in the
 * outbox, a Slack payload, an email a mail client opens, and the commit statuses GitHub would get.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  buildspecs,
  everyNotification,
  githubSource,
  junit,
  passingSeed,
  startFixture,
  type Fixture,
} from '../support/pipeline-fixture';

const source = githubSource;
const notifications = everyNotification;

describe('notifications in local mode', () => {
  let fixture: Fixture;
  afterEach(() => fixture?.close());

  it('a failing run leaves a Slack payload, an .eml and the commit statuses in the outbox', async () => {
    fixture = await startFixture({}, { source, notifications });
    const commitId = await fixture.push({
      ...passingSeed,
      'unit.yml': buildspecs.withReport([
        'mkdir -p reports',
        `echo '${junit(4, 1)}' > reports/junit.xml`,
        'echo "1 test failed"; exit 1',
      ]),
    });
    const [started] = await fixture.runtime.runsStartedFor(commitId);
    const run = await fixture.runtime.waitForRun(started!.runId);
    expect(run.status).toBe('FAILED');
    await fixture.runtime.notificationsOf(run.runId);
    const outbox = join(fixture.runtime.stateDir, 'outbox');

    const [slackFile, ...moreSlack] = readdirSync(join(outbox, 'slack'));
    expect(moreSlack).toEqual([]);
    const slack = JSON.parse(readFileSync(join(outbox, 'slack', slackFile!), 'utf8')) as {
      text: string;
      blocks: unknown[];
    };
    expect(slack.text).toBe('demo failed at unit: change');
    expect(JSON.stringify(slack.blocks)).toContain('1 test failed');
    expect(JSON.stringify(slack.blocks)).toContain('case 0');
    // Slack buttons take web links only: local file links are shown as text.
    expect(JSON.stringify(slack.blocks)).not.toMatch(/"url":"file:/);
    expect(JSON.stringify(slack.blocks)).toContain(`Open the run: file://${fixture.runtime.stateDir}`);

    const [emlFile, ...moreEmail] = readdirSync(join(outbox, 'email'));
    expect(moreEmail).toEqual([]);
    const eml = readFileSync(join(outbox, 'email', emlFile!), 'utf8');
    expect(eml).toMatch(/^From: ci@example.com\r\nTo: team@example.com\r\nSubject: =\?UTF-8\?B\?/);
    expect(eml).toContain('Content-Type: multipart/alternative; boundary="stepline-');
    const text = eml.split('\r\n\r\n')[2]!.split('\r\n--')[0]!;
    expect(Buffer.from(text.replace(/\r\n/g, ''), 'base64').toString()).toContain('What failed: unit:');

    const statuses = readFileSync(join(outbox, 'github-statuses.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, string>);
    const final = (context: string) => statuses.filter((s) => s.context === context).map((s) => s.state);
    expect(final('stepline/build')).toEqual(['pending', 'success']);
    expect(final('stepline/unit')).toEqual(['pending', 'failure']);
    expect(final('stepline/lint')).toEqual(['pending', 'success']);
    expect(
      statuses.every((s) => s.sha === commitId && s.repository === 'octo/web' && s.description!.length <= 140),
    ).toBe(true);
    // GitHub takes web links only: local mode's file link is left out.
    expect(statuses.every((s) => s.target_url === undefined)).toBe(true);
  });

  it('delivers to a real Slack webhook instead when local mode is given its secret', async () => {
    const received: Record<string, unknown>[] = [];
    const slack = createServer((req, res) => {
      let body = '';
      req
        .on('data', (c: Buffer) => (body += c.toString()))
        .on('end', () => {
          received.push(JSON.parse(body) as Record<string, unknown>);
          res.writeHead(200).end('ok');
        });
    });
    await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve));
    try {
      fixture = await startFixture({}, { notifications: { slack: notifications.slack } });
      const secrets = join(fixture.runtime.stateDir, 'secrets', 'stepline', 'notifications');
      mkdirSync(secrets, { recursive: true });
      writeFileSync(join(secrets, 'web-slack'), `http://127.0.0.1:${(slack.address() as AddressInfo).port}/hook\n`);
      const commitId = await fixture.push({ ...passingSeed, 'build.yml': buildspecs.ok(['exit 3']) });
      const [started] = await fixture.runtime.runsStartedFor(commitId);
      await fixture.runtime.waitForRun(started!.runId);
      await fixture.runtime.notificationsOf(started!.runId);
      expect(received.map((m) => m.text)).toEqual(['demo failed at build: change']);
      expect(existsSync(join(fixture.runtime.stateDir, 'outbox', 'slack'))).toBe(false);
    } finally {
      await new Promise((resolve) => slack.close(resolve));
    }
  });

  it('sends the email through an SMTP relay when local mode is given one', async () => {
    const session: string[] = [];
    const relay = createNetServer((socket) => {
      let buffer = '';
      let inData = false;
      socket.write('220 catcher ready\r\n');
      socket.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let end: number;
        while ((end = buffer.indexOf('\r\n')) >= 0) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (inData) {
            if (line === '.') {
              inData = false;
              socket.write('250 queued\r\n');
            } else session.push(`data ${line}`);
            continue;
          }
          session.push(line);
          if (line.startsWith('EHLO')) socket.write('250-catcher\r\n250 8BITMIME\r\n');
          else if (line === 'DATA') {
            inData = true;
            socket.write('354 go ahead\r\n');
          } else if (line === 'QUIT') socket.end('221 bye\r\n');
          else socket.write('250 ok\r\n');
        }
      });
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const port = (relay.address() as AddressInfo).port;
      fixture = await startFixture(
        { smtpRelay: `smtp://127.0.0.1:${port}` },
        { notifications: { email: notifications.email } },
      );
      const commitId = await fixture.push({ ...passingSeed, 'build.yml': buildspecs.ok(['exit 3']) });
      const [started] = await fixture.runtime.runsStartedFor(commitId);
      await fixture.runtime.waitForRun(started!.runId);
      await fixture.runtime.notificationsOf(started!.runId);
      expect(session.filter((l) => !l.startsWith('data '))).toEqual([
        'EHLO stepline.local',
        'MAIL FROM:<ci@example.com>',
        'RCPT TO:<team@example.com>',
        'DATA',
        'QUIT',
      ]);
      expect(session).toContain('data From: ci@example.com');
      expect(existsSync(join(fixture.runtime.stateDir, 'outbox', 'email'))).toBe(false);
      const [record] = await fixture.runtime.store.listNotifications(started!.runId);
      expect(record).toMatchObject({ channel: 'email', status: 'DELIVERED' });
    } finally {
      await new Promise((resolve) => relay.close(resolve));
    }
  });
});
