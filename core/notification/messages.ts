/**
 * What stepline tells people about a run, decided from the run and stage records alone: whether a
 * run's end is worth a message (failed, fixed, succeeded), and the messages themselves — a Slack
 * Block Kit payload, an email in plain text and HTML, a GitHub commit status per stage. Pure: the
 * notifier (core/notification/delivery.ts) records and delivers them.
 *
 * Commit messages, names, branches, test names, causes and log tails are text from a change
 * (core/text.ts): composed as plain text, each value one line, then rendered for each destination.
 * The only links are stepline's own (the run, the log).
 */
import type {
  NotificationChannel,
  NotificationSettings,
  RunEvent,
  RunRecord,
  StageRecord,
  StageStatus,
} from '../records';
import { excerpt, firstLine, fitted, forEmail, forGitHub, forHtml, forSlack, oneLine } from '../text';

export type NotificationKind = 'failed' | 'fixed' | 'succeeded' | 'rejected' | 'expired';

/** A message to record and deliver: its id within the run, its channel, and what is sent. */
export interface NotificationDraft {
  readonly id: string;
  readonly channel: NotificationChannel;
  readonly message: Record<string, unknown>;
}

/** Where a reader goes from a message: the run, and each stage's log, where known. */
export interface RunLinks {
  readonly run: string;
}

/** Slack refuses a section text over 3,000 characters, a field's over 2,000, a header's over 150. */
const SLACK_TEXT_MAX = 3000;
const SLACK_FIELD_MAX = 2000;
const SLACK_HEADER_MAX = 150;
const LOG_TAIL_SHOWN = 15;

/**
 * Which message a run's end calls for, if any: a failure; the first success after a failure
 * (`fixed`); any other success when asked for. `previous` is the pipeline's run that ended before it.
 */
function notificationKind(
  run: RunRecord,
  previous: RunRecord | undefined,
  on: NotificationSettings['on'],
): NotificationKind | undefined {
  if (run.status === 'FAILED') return on.failed ? 'failed' : undefined;
  // Stopped at the release gate: not a broken build, but a release that did not go out.
  if (run.status === 'REJECTED') return on.failed ? 'rejected' : undefined;
  if (run.status === 'EXPIRED') return on.failed ? 'expired' : undefined;
  if (run.status !== 'SUCCEEDED') return undefined;
  if (previous?.status === 'FAILED') return on.fixed ? 'fixed' : on.succeeded ? 'succeeded' : undefined;
  return on.succeeded ? 'succeeded' : undefined;
}

/** Every message a run event calls for under a pipeline's settings. */
export function notificationsFor(
  event: RunEvent['kind'],
  run: RunRecord,
  stages: readonly StageRecord[],
  previous: RunRecord | undefined,
  settings: NotificationSettings,
  links: RunLinks,
): NotificationDraft[] {
  const drafts: NotificationDraft[] = [];
  const ordered = inPlanOrder(run, stages);
  if (settings.githubStatuses) {
    for (const status of commitStatuses(event, run, ordered, links)) {
      drafts.push({
        id: `github:${event === 'RunStarted' ? 'started' : 'ended'}:${status.context}`,
        channel: 'github',
        message: status,
      });
    }
  }
  if (event !== 'RunEnded') return drafts;
  const kind = notificationKind(run, previous, settings.on);
  if (!kind) return drafts;
  const report = { run, stages: ordered, kind, links };
  if (settings.slack) drafts.push({ id: 'slack:ended', channel: 'slack', message: slackMessage(report) });
  if (settings.email) {
    drafts.push({
      id: 'email:ended',
      channel: 'email',
      message: { from: settings.email.from, to: [...settings.email.to], ...emailMessage(report) },
    });
  }
  return drafts;
}

interface RunReport {
  readonly run: RunRecord;
  readonly stages: readonly StageRecord[];
  readonly kind: NotificationKind;
  readonly links: RunLinks;
}

const HEADLINE: Record<NotificationKind, string> = {
  failed: 'failed',
  fixed: 'is fixed',
  succeeded: 'succeeded',
  rejected: 'was rejected at its release gate',
  expired: 'expired at its release gate',
};

/** The message's one line (plain text). */
function headline({ run, kind }: RunReport): string {
  const stage = run.failure?.stage ? ` at ${oneLine(run.failure.stage)}` : '';
  return `${oneLine(run.pipeline)} ${HEADLINE[kind]}${kind === 'failed' ? stage : ''}: ${excerpt(firstLine(run.commit.message), 1, 200) || shortId(run)}`;
}

function commitLine(run: RunRecord): string {
  const author = run.commit.author ? ` by ${oneLine(run.commit.author.name)}` : '';
  return `${shortId(run)} on ${oneLine(run.commit.branch)} of ${oneLine(run.commit.repository)}${author}`;
}

function testsLine(stages: readonly StageRecord[]): string | undefined {
  const withTests = stages.filter((s) => s.tests);
  if (!withTests.length) return undefined;
  return withTests
    .map(
      (s) =>
        `${oneLine(s.name)}: ${s.tests!.passed}/${s.tests!.total} passed${s.tests!.failed ? `, ${s.tests!.failed} failed` : ''}`,
    )
    .join('; ');
}

function failureLines(
  run: RunRecord,
  stages: readonly StageRecord[],
): { cause?: string; failedTests: string[]; logTail: string[]; log?: string } {
  const failure = run.failure;
  if (!failure) return { failedTests: [], logTail: [] };
  const log = stages.find((s) => s.name === failure.stage)?.logs?.deepLink;
  return {
    ...(log ? { log } : {}),
    cause: `${failure.stage ? `${oneLine(failure.stage)}: ` : ''}${oneLine(failure.error)} — ${oneLine(failure.cause)}`,
    failedTests: (failure.failedTests ?? []).map(
      (t) =>
        `${t.suite ? `${oneLine(t.suite)} › ` : ''}${oneLine(t.name)}${t.message ? `: ${firstLine(t.message)}` : ''}`,
    ),
    logTail: (failure.logTail ?? []).slice(-LOG_TAIL_SHOWN).map(oneLine),
  };
}

/** A Slack incoming-webhook payload in Block Kit, with `text` as the notification's fallback. */
function slackMessage(report: RunReport): Record<string, unknown> {
  const { run, stages, links } = report;
  const failure = failureLines(run, stages);
  const tests = testsLine(stages);
  const blocks: Record<string, unknown>[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: excerpt(forSlack.plain(headline(report)), 1, SLACK_HEADER_MAX - 1) },
    },
    {
      type: 'section',
      fields: [
        field('Pipeline', run.pipeline),
        field('Commit', commitLine(run)),
        ...(run.failure?.stage ? [field('Failing stage', run.failure.stage)] : []),
        ...(run.durationMs !== undefined ? [field('Took', `${Math.round(run.durationMs / 1000)} s`)] : []),
      ],
    },
  ];
  if (failure.cause) blocks.push(section('*What failed*\n', failure.cause));
  if (failure.failedTests.length)
    blocks.push(section('*Failed tests*\n', failure.failedTests.map((t) => `• ${t}`).join('\n')));
  if (failure.logTail.length)
    blocks.push(section('*Last lines of the log*\n```', failure.logTail.join('\n'), '```', forSlack.code));
  if (tests)
    blocks.push({
      type: 'context',
      elements: [forSlack.object(fitted(`Tests — ${tests}`, SLACK_FIELD_MAX, forSlack.mrkdwn))],
    });
  // Buttons take web links only; a local file link (local mode) is shown as text instead.
  const targets = [
    { text: 'Open the run', url: links.run },
    ...(failure.log ? [{ text: 'Open the log', url: failure.log }] : []),
  ];
  const web = targets.filter((link) => isWebLink(link.url));
  const other = targets.filter((link) => !web.includes(link));
  if (web.length) {
    blocks.push({
      type: 'actions',
      elements: web.map((link) => ({ type: 'button', text: { type: 'plain_text', text: link.text }, url: link.url })),
    });
  }
  if (other.length) {
    blocks.push({
      type: 'context',
      elements: other.map((link) => ({ type: 'plain_text', text: `${link.text}: ${link.url}`, emoji: false })),
    });
  }
  return { text: fitted(headline(report), SLACK_TEXT_MAX, forSlack.mrkdwn), blocks };
}

/** A section field: stepline's bold label, then a value from the change. */
function field(label: string, value: string): Record<string, unknown> {
  return forSlack.object(`*${label}*\n${fitted(oneLine(value), SLACK_FIELD_MAX - label.length - 3, forSlack.mrkdwn)}`);
}

/** A section: stepline's markup around text from a change, rendered (code: inside a code block) within Slack's limit. */
function section(
  before: string,
  text: string,
  after = '',
  render: (text: string) => string = forSlack.mrkdwn,
): Record<string, unknown> {
  return {
    type: 'section',
    text: forSlack.object(`${before}${fitted(text, SLACK_TEXT_MAX - before.length - after.length, render)}${after}`),
  };
}

/** The email: subject, plain text and HTML with the same content. */
function emailMessage(report: RunReport): { subject: string; text: string; html: string } {
  const { run, stages, links } = report;
  const failure = failureLines(run, stages);
  const tests = testsLine(stages);
  // Facts are text from the change; the links after them are stepline's own.
  const facts: [string, string][] = [
    ['Pipeline', oneLine(run.pipeline)],
    ['Commit', commitLine(run)],
    ...(run.commit.message ? ([['Message', firstLine(run.commit.message)]] as [string, string][]) : []),
    ...(failure.cause ? ([['What failed', failure.cause]] as [string, string][]) : []),
    ...(tests ? ([['Tests', tests]] as [string, string][]) : []),
  ];
  const own: [string, string][] = [
    ['Run', links.run],
    ...(failure.log ? ([['Log', failure.log]] as [string, string][]) : []),
  ];
  const text = [
    forEmail.text(headline(report)),
    '',
    ...facts.map(([k, v]) => `${k}: ${forEmail.text(v)}`),
    ...own.map(([k, v]) => `${k}: ${v}`),
    ...(failure.failedTests.length
      ? ['', 'Failed tests:', ...failure.failedTests.map((t) => `  - ${forEmail.text(t)}`)]
      : []),
    ...(failure.logTail.length
      ? ['', 'Last lines of the log:', ...failure.logTail.map((l) => `  ${forEmail.text(l)}`)]
      : []),
    '',
  ].join('\n');
  const html = [
    `<h2>${forHtml.text(headline(report))}</h2>`,
    '<table>',
    ...facts.map(([k, v]) => `<tr><th align="left">${k}</th><td>${forHtml.text(v)}</td></tr>`),
    ...own.map(
      ([k, v]) => `<tr><th align="left">${k}</th><td><a href="${forHtml.own(v)}">${forHtml.own(v)}</a></td></tr>`,
    ),
    '</table>',
    ...(failure.failedTests.length
      ? ['<h3>Failed tests</h3><ul>', ...failure.failedTests.map((t) => `<li>${forHtml.text(t)}</li>`), '</ul>']
      : []),
    ...(failure.logTail.length
      ? ['<h3>Last lines of the log</h3>', `<pre>${forHtml.text(failure.logTail.join('\n'))}</pre>`]
      : []),
  ].join('\n');
  return { subject: forEmail.header(`[stepline] ${headline(report)}`), text, html };
}

export interface CommitStatus extends Record<string, unknown> {
  /** `owner/repo`. */
  readonly repository: string;
  readonly sha: string;
  readonly state: 'pending' | 'success' | 'failure' | 'error';
  readonly context: string;
  readonly description: string;
  /** A web link only: GitHub takes no other (local mode's file links are left out). */
  readonly target_url?: string;
}

const STAGE_STATE: Record<StageStatus, CommitStatus['state']> = {
  PENDING: 'error',
  IN_PROGRESS: 'error',
  SUCCEEDED: 'success',
  FAILED: 'failure',
};

/** One status per stage, context `stepline/<stage>`: pending when the run starts, its outcome when it ends. */
function commitStatuses(
  event: RunEvent['kind'],
  run: RunRecord,
  stages: readonly StageRecord[],
  links: RunLinks,
): CommitStatus[] {
  return run.stageNames.map((name) => {
    const stage = stages.find((s) => s.name === name);
    const state = event === 'RunStarted' ? 'pending' : STAGE_STATE[stage?.status ?? 'PENDING'];
    const description =
      state === 'pending'
        ? `${name} is running`
        : state === 'success'
          ? `${name} passed${stage?.tests ? `: ${stage.tests.passed}/${stage.tests.total} tests` : ''}`
          : state === 'failure'
            ? `${name} failed: ${firstLine(stage?.failure?.cause)}`
            : `${name} did not finish: the run ${run.status === 'FAILED' ? `failed (${oneLine(run.failure?.error ?? 'error')})` : 'ended'}`;
    return {
      repository: run.commit.repository,
      sha: run.commit.id,
      state,
      context: `stepline/${name}`,
      description: forGitHub.statusDescription(description),
      ...(isWebLink(links.run) ? { target_url: links.run } : {}),
    };
  });
}

function isWebLink(url: string): boolean {
  return /^https?:\/\//.test(url);
}

function inPlanOrder(run: RunRecord, stages: readonly StageRecord[]): StageRecord[] {
  return run.stageNames.map((name) => stages.find((s) => s.name === name)).filter((s): s is StageRecord => !!s);
}

function shortId(run: RunRecord): string {
  return oneLine(run.commit.id.slice(0, 12));
}
