/**
 * A hostile change end to end in local mode: a commit whose message, author and file names carry the
 * corpus (test/support/hostile-text.ts) reaches the release gate, is rejected with a hostile reason,
 * and a second commit's build prints escape sequences and fails. The outbox's Slack payloads, emails
 * and commit statuses, and `stepline approvals RUN` run as a user runs it, must carry none of it as
 * markup, mention, link or control sequence — and still read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stepline } from '../support/cli';
import { decideByCli, gateIn } from '../support/approvals';
import {
  expectHtmlInert,
  expectOneInertLine,
  expectPlainInert,
  expectSlackInert,
  expectStillReads,
  HOSTILE,
  htmlShown,
  slackShown,
} from '../support/hostile-text';
import {
  buildspecs,
  everyNotification,
  githubSource,
  passingSeed,
  startFixture,
  type Fixture,
} from '../support/pipeline-fixture';

const source = githubSource;
const notifications = everyNotification;
const approval = {
  approvers: [
    { id: 'alice', name: 'Alice', emails: ['alice@example.com'] },
    { id: 'bob', name: 'Bob', emails: ['bob@example.com'] },
  ],
};

/** What git keeps of a message: no NUL (git refuses it), the rest as typed. */
const MESSAGE = [
  `fix ${HOSTILE.mentions} ${HOSTILE.links} ${HOSTILE.markup} ${HOSTILE.fences} ${HOSTILE.terminal} ${HOSTILE.bidi}`,
  '',
  HOSTILE.breaks,
  HOSTILE.quote,
].join('\n');
const REASON = `no ${HOSTILE.breaks} ${HOSTILE.mentions} ${HOSTILE.terminal} ${HOSTILE.markup}`;

/** Decoded parts of an .eml in the outbox: its header lines, plain text and HTML. */
function readEml(path: string): { headers: string[]; text: string; html: string } {
  const eml = readFileSync(path, 'utf8');
  const [head, ...rest] = eml.split('\r\n\r\n');
  const part = (index: number) =>
    Buffer.from(rest[index + 1]!.split('\r\n--')[0]!.replace(/\r\n/g, ''), 'base64').toString();
  return { headers: head!.split('\r\n'), text: part(0), html: part(1) };
}

describe('a hostile change in local mode', () => {
  let fixture: Fixture;
  afterEach(() => fixture?.close());

  it('leaves the outbox and `stepline approvals RUN` inert, and readable', async () => {
    fixture = await startFixture({}, { source, notifications, approval });
    const commitId = await fixture.push(
      {
        ...passingSeed,
        [`${HOSTILE.markup.replace(/\//g, '|')}.txt`]: 'x',
        [`${HOSTILE.terminal.replace(/\//g, '|')}.txt`]: 'x',
        '*bold* _it_.md': 'x',
      },
      MESSAGE,
    );
    const [started] = await fixture.runtime.runsStartedFor(commitId);
    const runId = started!.runId;
    await gateIn(fixture.runtime, runId, 'WAITING');
    const answer = await decideByCli(fixture.runtime, runId, 'bob@example.com', 'reject', REASON);
    expect(answer.status).toBe(200);
    expect((await fixture.runtime.waitForRun(runId)).status).toBe('REJECTED');

    // A second change whose build prints escape sequences, a hyperlink and mentions, then fails.
    const failing = await fixture.push(
      {
        ...passingSeed,
        'build.yml': buildspecs.ok([
          `printf '${HOSTILE.terminal.split('\u001b').join('\\033').split('\u0007').join('\\007')}\\n'`,
          `echo '${HOSTILE.mentions} ${HOSTILE.markup}'`,
          'exit 3',
        ]),
      },
      `second ${HOSTILE.mentions}`,
    );
    const [second] = await fixture.runtime.runsStartedFor(failing);
    expect((await fixture.runtime.waitForRun(second!.runId)).status).toBe('FAILED');
    await fixture.runtime.notificationsOf(runId);
    await fixture.runtime.notificationsOf(second!.runId);

    const outbox = join(fixture.runtime.stateDir, 'outbox');
    const slackFiles = readdirSync(join(outbox, 'slack'));
    // The request, the outcome and the run's end for the first run, the failure for the second.
    expect(slackFiles.length).toBeGreaterThanOrEqual(4);
    const shownInSlack: string[] = [];
    for (const file of slackFiles) {
      const payload = JSON.parse(readFileSync(join(outbox, 'slack', file), 'utf8')) as Record<string, unknown>;
      // Local mode's links are files, shown as text; the only button would be stepline's own.
      shownInSlack.push(...expectSlackInert(payload, []).mrkdwn.map(slackShown));
    }
    const slack = shownInSlack.join('\n');
    expectStillReads(slack, ['fix ping <!channel>', '<script>alert(1)</script>', 'red click', 'Approve here']);
    // The reason's forged line stays inside the outcome it came in.
    expect(slack).toContain('rejected by bob: no first Approved by alice via slack third');
    expect(slack).not.toMatch(/^Approved by alice/m);
    expect(slack).toContain('Decide only with Approve or the reject field below');

    const emails = readdirSync(join(outbox, 'email'));
    // alice's and bob's requests, the outcome, the first run's end and the second's failure.
    expect(emails.length).toBeGreaterThanOrEqual(5);
    for (const file of emails) {
      const { headers, text, html } = readEml(join(outbox, 'email', file));
      headers.forEach(expectOneInertLine);
      const subject = /^Subject: =\?UTF-8\?B\?(.*)\?=$/.exec(headers.find((h) => h.startsWith('Subject:'))!)![1]!;
      expectOneInertLine(Buffer.from(subject, 'base64').toString());
      expectPlainInert(text.replace(/https?:\/\/127\.0\.0\.1:\d+\/\S+/g, ''));
      const own = [...text.matchAll(/https?:\/\/127\.0\.0\.1:\d+\/\S+|file:\/\/\S+/g)].map((m) => m[0]);
      expectHtmlInert(html, own);
      expectStillReads(htmlShown(html), ['ping <!channel>']);
    }

    const statuses = readFileSync(join(outbox, 'github-statuses.jsonl'), 'utf8').trim().split('\n');
    expect(statuses.length).toBeGreaterThanOrEqual(6);
    for (const line of statuses) {
      const description = String((JSON.parse(line) as { description: string }).description);
      expectOneInertLine(description);
      expect(description.length).toBeLessThanOrEqual(140);
    }

    const shown = await stepline(['approvals', runId, '--state-dir', fixture.runtime.stateDir], {
      email: 'bob@example.com',
    });
    expect(shown.code).toBe(0);
    const printed = shown.stdout.trimEnd().split('\n');
    printed.forEach(expectOneInertLine);
    expectStillReads(shown.stdout, ['fix ping <!channel>', '<script>alert(1)</script>', 'red click']);
    expect(printed.some((line) => line.startsWith('Approved by alice'))).toBe(false);
    expect(shown.stdout).toContain('bob  reject via cli: no first Approved by alice via slack third');
  });
});
