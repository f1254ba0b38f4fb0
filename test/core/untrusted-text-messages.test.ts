/**
 * The hostile corpus (test/support/hostile-text.ts) through every message stepline builds from a
 * change: the Slack approval request, its decisions and outcome, the run-ended and failure messages,
 * the emails, the approval pages and the commit statuses — each built by the product's own builders.
 * Nothing of the change may survive as markup, mention, link or control sequence, and it must still read.
 */
import { approvalOutcomeDrafts, approvalRequestDrafts, slackApprovalMessage } from '../../core/approval/messages';
import { confirmationPage, resultPage } from '../../core/approval/pages';
import { notificationsFor } from '../../core/notification/messages';
import type {
  ApprovalDecision,
  ApprovalRecord,
  NotificationSettings,
  RunRecord,
  StageRecord,
} from '../../core/records';
import {
  expectHtmlInert,
  expectOneInertLine,
  expectPlainInert,
  expectSlackInert,
  expectStillReads,
  HOSTILE,
  HOSTILE_LINE,
  HOSTILE_TEXT,
  htmlShown,
  slackShown,
} from '../support/hostile-text';
import { queuedRun } from '../support/records';

const runId = 'web-0123456789ab-0badcafe';
const settings: NotificationSettings = {
  on: { failed: true, fixed: true, succeeded: true },
  slack: { webhookUrlSecret: 'stepline/notifications/slack' },
  email: { from: 'ci@example.com', to: ['team@example.com'] },
  githubStatuses: { tokenSecret: 'stepline/notifications/github' },
};
const approveLink = 'https://approvals.example/approvals/decide?token=a.b&x=1';
const rejectLink = 'https://approvals.example/approvals/decide?token=c.d&x=2';
const links = { forApprover: () => ({ approve: approveLink, reject: rejectLink }) };
const runLinks = { run: 'https://console.example/runs/web-1' };
const logLink = 'https://logs.example/build/7';
const OWN_LINKS = [approveLink, rejectLink, runLinks.run, logLink];

/** A change record whose every field a pusher writes holds the corpus. */
function hostileApproval(overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    runId,
    pipeline: 'web',
    branch: HOSTILE_LINE,
    commitRange: { from: 'a'.repeat(40), to: 'b'.repeat(40) },
    // One push per kind of attack (the record lists ten), the others in the files.
    commits: [
      {
        runId,
        id: 'c'.repeat(40),
        author: { name: `Eve ${HOSTILE.breaks}`, email: `eve@evil.example ${HOSTILE.markup}` },
        message: `${HOSTILE.mentions}\n\n${HOSTILE_TEXT}`,
      },
      { runId, id: 'd'.repeat(40), pushedBy: HOSTILE.terminal, message: HOSTILE.long },
      ...(['links', 'markup', 'attribute', 'fences', 'controls', 'terminal', 'bidi', 'invalid'] as const).map(
        (kind, i) => ({
          runId,
          id: `${i}`.repeat(40),
          author: { name: kind, email: `${kind}@example.com` },
          message: HOSTILE[kind],
        }),
      ),
    ],
    changedFiles: [HOSTILE.quote, HOSTILE.fences, `src/${HOSTILE.breaks}.ts`, HOSTILE.long],
    changedFileCount: 4,
    tests: [{ stage: 'unit', status: 'SUCCEEDED', tests: { total: 3, passed: 3, failed: 0, skipped: 0 } }],
    risk: { class: 'normal', reasons: ['no risk rule matched: the default class'] },
    required: { approvals: 1 },
    asked: ['alice', 'bob'],
    openedAt: '2026-12-03T10:00:00.000Z',
    deadline: '2026-12-04T10:00:00.000Z',
    status: 'WAITING',
    ...overrides,
  };
}

const addressees = [{ id: 'alice', name: 'Alice', email: 'alice@example.com' }];

/** A run whose build failed with the corpus in every field a push or a build writes. */
function hostileRun(): { run: RunRecord; stages: StageRecord[] } {
  const failure = {
    stage: 'build',
    error: 'States.TaskFailed',
    cause: `${HOSTILE_LINE}\n${HOSTILE_TEXT}`,
    logTail: [...Object.values(HOSTILE), HOSTILE_LINE],
    failedTests: [
      { name: HOSTILE_LINE, suite: HOSTILE.markup, status: 'FAILED' as const, message: HOSTILE_TEXT },
      { name: HOSTILE.fences, status: 'ERROR' as const },
    ],
  };
  const run = queuedRun({
    runId,
    status: 'FAILED',
    commit: {
      repository: 'octo/web',
      branch: HOSTILE.breaks,
      id: 'e'.repeat(40),
      author: { name: HOSTILE_LINE, email: 'eve@evil.example' },
      message: `${HOSTILE_LINE}\n${HOSTILE_TEXT}`,
    },
    failure,
    durationMs: 12_000,
  });
  const stages: StageRecord[] = [
    { runId, name: 'build', status: 'FAILED', failure, logs: { deepLink: logLink } },
    {
      runId,
      name: 'unit',
      status: 'SUCCEEDED',
      tests: { total: 3, passed: 3, failed: 0, skipped: 0, other: 0, durationMs: 5, reports: [] },
    },
  ];
  return { run, stages };
}

const decisions: ApprovalDecision[] = [
  {
    runId,
    approverId: 'bob',
    decision: 'reject',
    reason: HOSTILE_TEXT,
    via: 'slack',
    principal: 'UBOB',
    at: '2026-12-03T10:05:00.000Z',
  },
];

describe('the approval request, decisions and outcome', () => {
  it('Slack: the change record is escaped, verbatim and unformatted; its only controls and links are stepline’s; it says where decisions are made', () => {
    const [slack] = approvalRequestDrafts(hostileApproval(), addressees, settings, links);
    expect(slack!.channel).toBe('slack');
    const texts = expectSlackInert(slack!.message, OWN_LINKS);
    const shown = texts.mrkdwn.map(slackShown).join('\n');
    expectStillReads(shown);
    // A forged line stays inside the value it came in.
    expect(shown).toContain('Eve first Approved by alice via slack third fourth fifth Bcc: eve@evil.example');
    expect(shown).not.toMatch(/^Approved by alice/m);
    // Slack shows the escapes as the characters the committer typed.
    expect(shown).toContain('<!channel> <!here>');
    expect(shown).toContain('<script>alert(1)</script>');
    expect(shown).toContain('Decide only with Approve or the reject field below');
    expect(shown).toContain('puts no link in the change above');
    const actions = (slack!.message.blocks as { type: string; elements?: { action_id?: string }[] }[]).find(
      (b) => b.type === 'actions',
    );
    expect(actions?.elements?.map((e) => e.action_id)).toEqual(['stepline-approve']);
  });

  it('Slack: decisions with a hostile reason, and the rejected and overridden outcomes', () => {
    expectSlackInert(slackApprovalMessage(hostileApproval(), decisions), OWN_LINKS);
    const rejected = hostileApproval({ status: 'REJECTED', outcome: HOSTILE_TEXT });
    const overridden = hostileApproval({
      status: 'APPROVED',
      override: { by: HOSTILE.mentions, reason: HOSTILE_TEXT, at: '2026-12-03T10:06:00.000Z' },
    });
    for (const approval of [rejected, overridden]) {
      const texts = expectSlackInert(slackApprovalMessage(approval, decisions), OWN_LINKS);
      expectStillReads(texts.mrkdwn.map(slackShown).join('\n'));
      const [slackOutcome, emailOutcome] = approvalOutcomeDrafts(approval, addressees, settings);
      expectStillReads(expectSlackInert(slackOutcome!.message, OWN_LINKS).mrkdwn.map(slackShown).join('\n'));
      const email = emailOutcome!.message as { subject: string; text: string; html: string };
      expectOneInertLine(email.subject);
      expectPlainInert(email.text);
      expectHtmlInert(email.html, OWN_LINKS);
      expectStillReads(htmlShown(email.html));
    }
  });

  it('email: the subject is one line, the text and HTML carry the change as text, the only links are the approver’s own, and it says where they lead', () => {
    const [, email] = approvalRequestDrafts(hostileApproval(), addressees, settings, links);
    const message = email!.message as { subject: string; text: string; html: string };
    expectOneInertLine(message.subject);
    expectPlainInert(message.text.replace(approveLink, '').replace(rejectLink, ''));
    expectStillReads(message.text);
    expect(message.text).toContain(`Approve: ${approveLink}\nReject:  ${rejectLink}`);
    expect(message.text).toContain('Decide only with these two links, which lead to https://approvals.example');
    expect(message.text).toContain('https[:]//evil.example/bare');
    expectHtmlInert(message.html, OWN_LINKS);
    expectStillReads(htmlShown(message.html));
    expect(htmlShown(message.html)).toContain('<script>alert(1)</script>');
  });

  it('approval pages: the confirmation form and the result page show the change as text', () => {
    const page = confirmationPage({
      approval: hostileApproval(),
      approverName: HOSTILE.markup,
      decision: 'reject',
      token: `tok${HOSTILE.attribute}`,
      action: '/approvals/decide',
    });
    expectHtmlInert(page, OWN_LINKS);
    expectStillReads(htmlShown(page));
    const result = resultPage(HOSTILE.attribute, HOSTILE_TEXT, hostileApproval());
    expectHtmlInert(result, OWN_LINKS);
    expectStillReads(htmlShown(result));
  });
});

describe('the run-ended messages and commit statuses', () => {
  const { run, stages } = hostileRun();
  const drafts = notificationsFor('RunEnded', run, stages, undefined, settings, runLinks);
  const draft = (id: string) => drafts.find((d) => d.id === id)!.message;

  it('Slack: the failure message (headline, fields, cause, failed tests, log tail in a code block it cannot close)', () => {
    const texts = expectSlackInert(draft('slack:ended'), OWN_LINKS);
    expect(texts.urls).toEqual([runLinks.run, logLink]);
    const log = texts.mrkdwn.find((t) => t.startsWith('*Last lines of the log*'))!;
    expect(log).toMatch(/^\*Last lines of the log\*\n```[^`]+```$/);
    // Inside the code block formatting shows as typed; the backticks that could close it do not.
    expect(log).toContain('*bold* _italic_');
    expectStillReads(texts.mrkdwn.map(slackShown).join('\n'));
    expect(slackShown(texts.mrkdwn[0]!)).toMatch(/^web failed at build: ping <!channel>/);
  });

  it('email: one-line subject, plain text and HTML with the change as text and stepline’s two links', () => {
    const email = draft('email:ended') as { subject: string; text: string; html: string };
    expectOneInertLine(email.subject);
    expect(email.subject.startsWith('[stepline] web failed at build: ping <!channel>')).toBe(true);
    expectPlainInert(email.text.replace(runLinks.run, '').replace(logLink, ''));
    expect(email.text).toContain(`Run: ${runLinks.run}\nLog: ${logLink}`);
    expectHtmlInert(email.html, OWN_LINKS);
    expectStillReads(htmlShown(email.html));
  });

  it('commit statuses: plain, one line, at most 140 characters, at the start and the end of a run', () => {
    const started = notificationsFor('RunStarted', run, stages, undefined, settings, runLinks);
    const statuses = [...drafts, ...started].filter((d) => d.channel === 'github').map((d) => d.message);
    expect(statuses).toHaveLength(4);
    for (const status of statuses) {
      const description = String(status.description);
      expectOneInertLine(description);
      expect(description.length).toBeLessThanOrEqual(140);
    }
    const failed = statuses.find((s) => s.state === 'failure')!;
    expect(failed.description).toMatch(/^build failed: ping <!channel> .*…$/);
  });
});
