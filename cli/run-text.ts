/**
 * How `stepline runs` and `stepline run` show runs as text: a table of runs, one run whole. Every value that came
 * from a push (branches, commit messages, authors, test names and messages, reasons, audit details) is shown
 * through `forTerminal`, so that nothing printed can move the cursor or recolour the terminal; colour is stepline's
 * own, at a terminal only.
 */
import { RUN_STATUSES, type RunRecord, type RunStatus, type StageRecord, type Trigger } from '../core/records';
import { forTerminal, plainText } from '../core/text';
import { LOCAL_REGION } from '../local/constants';
import type { RunView } from '../store/run-view';
import { failureLines, formatDuration } from './progress';

/** Colours a word by the status it names, or leaves it (piped output, NO_COLOR). */
export type Paint = (status: string, text?: string) => string;

/** Colour at a terminal unless NO_COLOR is set (https://no-color.org: any non-empty value). */
export function paintFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Paint {
  if (!stream.isTTY || env.NO_COLOR) return (status, text = status) => text;
  return (status, text = status) => {
    const code = STATUS_COLOURS[status];
    return code ? `\u001b[${code}m${text}\u001b[0m` : text;
  };
}

const STATUS_COLOURS: Record<string, string> = {
  SUCCEEDED: '32',
  APPROVED: '32',
  FAILED: '31',
  REJECTED: '31',
  ROLLED_BACK: '31',
  REFUSED: '31',
  EXPIRED: '33',
  CANCELLED: '33',
  RUNNING: '36',
  IN_PROGRESS: '36',
  WAITING: '36',
  QUEUED: '2',
  PENDING: '2',
  SKIPPED: '2',
  SUPERSEDED: '2',
};

const shown = forTerminal.line;

/**
 * The Step Functions console's page of an execution on AWS; none for local mode's executions (Region `local`) or an
 * ARN that is not an execution's. The console's own deep link (not in the AWS docs; the one the console uses).
 */
export function consoleLink(executionArn: string | undefined): string | undefined {
  // Machine and execution names: 1 to 80 letters, digits, - and _ (stepline's names keep to these).
  const match = /^arn:aws:states:([a-z0-9-]+):\d{12}:execution:[\w-]{1,80}:[\w-]{1,80}$/.exec(executionArn ?? '');
  if (!match || match[1] === LOCAL_REGION) return undefined;
  const region = match[1]!;
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/** What started a run: a push, a hand (`stepline release`), or a re-run of another. */
export function startedBy(trigger: Trigger): string {
  if (trigger.rerunOf) return `re-run of ${shown(trigger.rerunOf)}`;
  if (trigger.kind === 'manual') return `manual${trigger.pushedBy ? ` (${shown(trigger.pushedBy)})` : ''}`;
  return 'push';
}

/** An instant in UTC, to the second: `2026-12-03 10:00:00`. */
export function formatTime(iso: string | undefined): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : '';
}

/** How long a run took, or has taken so far while it is active. */
function runDuration(run: RunRecord, now: Date): string {
  if (run.durationMs !== undefined) return formatDuration(run.durationMs);
  if (run.status !== 'RUNNING' || !run.startedAt) return '';
  return `${formatDuration(now.getTime() - Date.parse(run.startedAt))}…`;
}

/** The runs as a table, a row each, newest first as given. */
export function runsTable(runs: readonly RunRecord[], paint: Paint, now = new Date()): string[] {
  const rows = runs.map((run) => [
    run.runId,
    run.pipeline,
    run.status,
    shown(run.commit.branch),
    run.commit.id.slice(0, 12),
    formatTime(run.startedAt ?? run.createdAt),
    runDuration(run, now),
    startedBy(run.trigger),
  ]);
  const header = ['RUN', 'PIPELINE', 'STATUS', 'BRANCH', 'COMMIT', 'STARTED (UTC)', 'DURATION', 'STARTED BY'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: string[], status?: string) =>
    row
      .map((cell, i) => (i === 2 && status ? paint(status, cell.padEnd(widths[i]!)) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map((row) => line(row, row[2]))];
}

/** One run whole: what it ran, its stages and tests, its gate, its deployment, where its execution and logs are. */
export function runText(view: RunView, paint: Paint, now = new Date()): string[] {
  const { run } = view;
  const commit = run.commit;
  const author = commit.author ? ` (${shown(commit.author.name)} <${shown(commit.author.email)}>)` : '';
  const lines = [
    `run ${run.runId}  ${paint(run.status)}`,
    `  pipeline   ${run.pipeline}`,
    `  commit     ${commit.id.slice(0, 12)} on ${shown(commit.branch)} in ${shown(commit.repository)}${author}`,
    ...(commit.message ? [`             ${shown(plainText(commit.message).split('\n')[0]!)}`] : []),
    `  started    ${formatTime(run.startedAt ?? run.createdAt)} UTC by ${startedBy(run.trigger)}`,
    ...(run.endedAt ? [`  ended      ${formatTime(run.endedAt)} UTC after ${runDuration(run, now)}`] : []),
    ...(run.status === 'RUNNING' ? [`  running    for ${runDuration(run, now)}`] : []),
    ...(run.skipReason ? [`  skipped    ${shown(run.skipReason)}`] : []),
    ...(run.supersededBy ? [`  superseded by ${run.supersededBy}`] : []),
    ...(run.cancelled
      ? [
          `  cancelled  by ${shown(run.cancelled.by)} at ${formatTime(run.cancelled.at)} UTC: ${shown(run.cancelled.reason)}`,
        ]
      : []),
    ...(run.redrives ?? []).map(
      (redrive) =>
        `  redriven   by ${shown(redrive.by)} at ${formatTime(redrive.at)} UTC from "${shown(redrive.fromState)}" (${redrive.executionArn})`,
    ),
    ...(run.executionArn ? [`  execution  ${run.executionArn}`] : []),
    ...(consoleLink(run.executionArn) ? [`  console    ${consoleLink(run.executionArn)}`] : []),
  ];
  if (view.stages.length) lines.push('', 'stages', ...view.stages.flatMap((stage) => stageLines(stage, paint)));
  // The failing tests are listed under their stage when its record has them; the failure says the rest.
  const listed = view.stages.some((stage) => stage.tests?.failures?.length);
  const failure = run.failure && listed ? { ...run, failure: { ...run.failure, failedTests: [] } } : run;
  lines.push(...failureLines(failure).map((line, i) => `${i ? '' : '\n'}${line.replace(/^ {2}/, '')}`));
  lines.push(...gateLines(view, paint), ...deploymentLines(view, paint));
  const logged = view.stages.filter((stage) => stage.logs?.streamName || stage.status === 'IN_PROGRESS');
  if (logged.length)
    lines.push(
      '',
      'logs',
      ...logged.map((stage) => `  stepline logs ${run.runId} --stage ${stage.name}${logPlace(stage)}`),
    );
  return lines;
}

function stageLines(stage: StageRecord, paint: Paint): string[] {
  const tests = stage.tests;
  const counts = tests
    ? `tests ${tests.passed}/${tests.total} passed${tests.failed ? `, ${tests.failed} failed` : ''}${tests.skipped ? `, ${tests.skipped} skipped` : ''}${tests.other ? `, ${tests.other} other` : ''}`
    : '';
  const status = paint(stage.status, stage.status.padEnd(11));
  const lines = [
    `  ${stage.name.padEnd(14)} ${status} ${formatDuration(stage.durationMs).padStart(7)}  ${counts}`.trimEnd(),
  ];
  for (const test of tests?.failures ?? []) {
    lines.push(
      `      ✖ ${test.suite ? `${shown(test.suite)} › ` : ''}${shown(test.name)}${test.status === 'ERROR' ? ' (error)' : ''}`,
    );
    for (const line of plainText(test.message ?? '')
      .split('\n')
      .filter(Boolean))
      lines.push(`          ${shown(line)}`);
  }
  return lines;
}

function logPlace(stage: StageRecord): string {
  const { groupName, streamName } = stage.logs ?? {};
  return groupName && streamName ? `   (${shown(groupName)} ${shown(streamName)})` : '   (running)';
}

function gateLines({ approval: gate, decisions, audit }: RunView, paint: Paint): string[] {
  if (!gate) return [];
  const required = `${gate.required.approvals} approval(s)${gate.required.group ? ` from ${shown(gate.required.group)}` : ''}`;
  return [
    '',
    `release gate  ${paint(gate.status)}${gate.outcome ? `: ${shown(gate.outcome)}` : ''}`,
    `  risk       ${gate.risk.class}${gate.risk.reasons.length ? `: ${gate.risk.reasons.map(shown).join('; ')}` : ''}`,
    `  requires   ${required}${gate.target ? ` to release to ${shown(gate.target)}` : ''}`,
    `  asked      ${gate.asked.length ? gate.asked.map(shown).join(', ') : 'nobody'}`,
    `  opened     ${formatTime(gate.openedAt)} UTC, deadline ${formatTime(gate.deadline)} UTC`,
    ...(gate.heldBy
      ? [
          `  held by    ${shown(gate.heldBy.freeze)}${gate.heldBy.until ? ` until ${formatTime(gate.heldBy.until)} UTC` : ''}`,
        ]
      : []),
    ...(gate.override
      ? [
          `  override   by ${shown(gate.override.by)} at ${formatTime(gate.override.at)} UTC: ${shown(gate.override.reason)}`,
        ]
      : []),
    ...(decisions.length ? ['  decisions'] : []),
    ...decisions.map(
      (d) =>
        `    ${formatTime(d.at)}  ${d.decision.padEnd(8)} ${shown(d.approverId)} via ${d.via} (${shown(d.principal)})${d.demo ? ' [demo approver]' : ''}${d.reason ? `: ${shown(d.reason)}` : ''}`,
    ),
    ...(audit.length ? ['  audit trail'] : []),
    ...audit.map(
      (e) =>
        `    ${formatTime(e.at)}  ${e.event}${e.actor ? ` ${shown(e.actor)}` : ''}${e.via ? ` via ${e.via}` : ''}: ${shown(e.detail)}`,
    ),
  ];
}

function deploymentLines({ deployment: d }: RunView, paint: Paint): string[] {
  if (!d) return [];
  const steps = d.steps.map((step) => `${Math.round(step.weight * 100)}% for ${step.bakeSeconds}s`);
  return [
    '',
    `deployment  ${paint(d.status)}  ${shown(d.function)}:${shown(d.alias)} from version ${d.fromVersion}${d.toVersion ? ` to ${d.toVersion}` : ''}`,
    `  steps      ${steps.length ? `${steps.join(', ')}, then 100%` : 'all at once'}`,
    ...(d.hotfix ? [`  hotfix     released while ${d.hotfix.firing.map(shown).join(', ')} fired`] : []),
    ...(d.stepsTaken?.length ? ['  traffic'] : []),
    ...(d.stepsTaken ?? []).map((s) => `    ${formatTime(s.at)}  ${Math.round(s.weight * 100)}% to the new version`),
    ...(d.alarmsSeen.length ? ['  alarms seen'] : []),
    ...d.alarmsSeen.map(
      (a) =>
        `    ${formatTime(a.at)}  ${shown(a.name)} ${paint(a.state === 'ALARM' ? 'FAILED' : a.state === 'OK' ? 'SUCCEEDED' : '', a.state)}${a.reason ? `: ${shown(a.reason)}` : ''}`,
    ),
    ...(d.interventions.length ? ['  interventions'] : []),
    ...d.interventions.map((i) => `    ${formatTime(i.at)}  ${i.action} by ${shown(i.by)}: ${shown(i.reason)}`),
    ...(d.outcome ? [`  outcome    ${shown(d.outcome)}${d.endedAt ? ` (${formatTime(d.endedAt)} UTC)` : ''}`] : []),
  ];
}

/** Whether `--status` names a run status. */
export function isRunStatus(value: string): value is RunStatus {
  return (RUN_STATUSES as string[]).includes(value);
}
