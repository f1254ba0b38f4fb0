/**
 * What stepline tells people about a run, decided from the run and stage records alone: whether a
 * run's end is worth a message (failed, fixed, succeeded), and the messages themselves — a Slack
 * Block Kit payload, an email in plain text and HTML, a GitHub commit status per stage. Pure: the
 * notifier (core/notify.ts) records and delivers them.
 */
import type {
  NotificationChannel,
  NotificationSettings,
  RunEvent,
  RunRecord,
  StageRecord,
  StageStatus,
} from './records';
import { excerpt } from './text';

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

/** GitHub refuses a status description over 140 characters (422). */
const STATUS_DESCRIPTION_MAX = 140;
/** Slack refuses a section text over 3,000 characters. */
const SLACK_TEXT_MAX = 3000;
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

function headline({ run, kind }: RunReport): string {
  const stage = run.failure?.stage ? ` at ${run.failure.stage}` : '';
  return `${run.pipeline} ${HEADLINE[kind]}${kind === 'failed' ? stage : ''}: ${firstLine(run.commit.message) || shortId(run)}`;
}

function commitLine(run: RunRecord): string {
  const author = run.commit.author ? ` by ${run.commit.author.name}` : '';
  return `${shortId(run)} on ${run.commit.branch} of ${run.commit.repository}${author}`;
}

function testsLine(stages: readonly StageRecord[]): string | undefined {
  const withTests = stages.filter((s) => s.tests);
  if (!withTests.length) return undefined;
  return withTests
    .map(
      (s) =>
        `${s.name}: ${s.tests!.passed}/${s.tests!.total} passed${s.tests!.failed ? `, ${s.tests!.failed} failed` : ''}`,
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
    cause: `${failure.stage ? `${failure.stage}: ` : ''}${failure.error} — ${failure.cause}`,
    failedTests: (failure.failedTests ?? []).map(
      (t) => `${t.suite ? `${t.suite} › ` : ''}${t.name}${t.message ? `: ${firstLine(t.message)}` : ''}`,
    ),
    logTail: (failure.logTail ?? []).slice(-LOG_TAIL_SHOWN),
  };
}

/** A Slack incoming-webhook payload in Block Kit, with `text` as the notification's fallback. */
function slackMessage(report: RunReport): Record<string, unknown> {
  const { run, stages, links } = report;
  const failure = failureLines(run, stages);
  const tests = testsLine(stages);
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: excerpt(headline(report), 1, 140) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Pipeline*\n${run.pipeline}` },
        { type: 'mrkdwn', text: `*Commit*\n${commitLine(run)}` },
        ...(run.failure?.stage ? [{ type: 'mrkdwn', text: `*Failing stage*\n${run.failure.stage}` }] : []),
        ...(run.durationMs !== undefined
          ? [{ type: 'mrkdwn', text: `*Took*\n${Math.round(run.durationMs / 1000)} s` }]
          : []),
      ],
    },
  ];
  if (failure.cause) blocks.push(section(`*What failed*\n${failure.cause}`));
  if (failure.failedTests.length)
    blocks.push(section(`*Failed tests*\n${failure.failedTests.map((t) => `• ${t}`).join('\n')}`));
  if (failure.logTail.length)
    blocks.push(section(`*Last lines of the log*\n\`\`\`${failure.logTail.join('\n')}\`\`\``));
  if (tests) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Tests — ${tests}` }] });
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
      elements: other.map((link) => ({ type: 'mrkdwn', text: `${link.text}: ${link.url}` })),
    });
  }
  return { text: headline(report), blocks };
}

function section(text: string): Record<string, unknown> {
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: excerpt(text, Number.MAX_SAFE_INTEGER, SLACK_TEXT_MAX - 1) },
  };
}

/** The email: subject, plain text and HTML with the same content. */
function emailMessage(report: RunReport): { subject: string; text: string; html: string } {
  const { run, stages, links } = report;
  const failure = failureLines(run, stages);
  const tests = testsLine(stages);
  const facts: [string, string][] = [
    ['Pipeline', run.pipeline],
    ['Commit', commitLine(run)],
    ...(run.commit.message ? ([['Message', firstLine(run.commit.message)]] as [string, string][]) : []),
    ...(failure.cause ? ([['What failed', failure.cause]] as [string, string][]) : []),
    ...(tests ? ([['Tests', tests]] as [string, string][]) : []),
    ['Run', links.run],
    ...(failure.log ? ([['Log', failure.log]] as [string, string][]) : []),
  ];
  const text = [
    headline(report),
    '',
    ...facts.map(([k, v]) => `${k}: ${v}`),
    ...(failure.failedTests.length ? ['', 'Failed tests:', ...failure.failedTests.map((t) => `  - ${t}`)] : []),
    ...(failure.logTail.length ? ['', 'Last lines of the log:', ...failure.logTail.map((l) => `  ${l}`)] : []),
    '',
  ].join('\n');
  const html = [
    `<h2>${escapeHtml(headline(report))}</h2>`,
    '<table>',
    ...facts.map(([k, v]) =>
      k === 'Run' || k === 'Log'
        ? `<tr><th align="left">${k}</th><td><a href="${escapeHtml(v)}">${escapeHtml(v)}</a></td></tr>`
        : `<tr><th align="left">${k}</th><td>${escapeHtml(v)}</td></tr>`,
    ),
    '</table>',
    ...(failure.failedTests.length
      ? ['<h3>Failed tests</h3><ul>', ...failure.failedTests.map((t) => `<li>${escapeHtml(t)}</li>`), '</ul>']
      : []),
    ...(failure.logTail.length
      ? ['<h3>Last lines of the log</h3>', `<pre>${escapeHtml(failure.logTail.join('\n'))}</pre>`]
      : []),
  ].join('\n');
  return { subject: `[stepline] ${headline(report)}`, text, html };
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
            ? `${name} failed: ${firstLine(stage?.failure?.cause ?? '')}`
            : `${name} did not finish: the run ${run.status === 'FAILED' ? `failed (${run.failure?.error ?? 'error'})` : 'ended'}`;
    return {
      repository: run.commit.repository,
      sha: run.commit.id,
      state,
      context: `stepline/${name}`,
      description: excerpt(description, 1, STATUS_DESCRIPTION_MAX - 1),
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
  return run.commit.id.slice(0, 12);
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0]!.trim();
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
