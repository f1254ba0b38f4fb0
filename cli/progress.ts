/**
 * Renders a run's progress from the run store: one line per stage change, the log tail of a failure. Times
 * are real (wall-clock durations, local times of day); a wait the time scale shortens says so. What a
 * build or a push wrote (causes, test names and messages, log lines) is printed through the terminal
 * renderer (core/text.ts): it cannot move the cursor, recolour, or start a line of its own.
 */
import type { RunRecord, StageRecord } from '../core/records';
import { forTerminal, plainText } from '../core/text';
import type { TimeScale } from '../local/time-scale';

const MARK: Record<string, string> = { IN_PROGRESS: '…', SUCCEEDED: '✔', FAILED: '✖', PENDING: ' ' };

/** A wall-clock duration: `2.3s`, `4m07s`, `1h02m`. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** A length as a policy states it, in its largest whole units: `72h`, `1h30m`, `5m`, `45s`, `0.5s`. */
export function formatLength(ms: number): string {
  if (ms < 1000) return `${Math.round(ms) / 1000}s`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`;
  const parts: [number, string][] = [
    [Math.floor(ms / 3_600_000), 'h'],
    [Math.floor((ms % 3_600_000) / 60_000), 'm'],
    [Math.round((ms % 60_000) / 1000), 's'],
  ];
  return parts
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${value}${unit}`)
    .join('');
}

/** A wait the time scale shortens, with both lengths: `5m bake at ×60 = 5s` (`5m bake` when nothing is scaled). */
export function scaledWait(what: string, ms: number, scale: TimeScale): string {
  const stated = `${formatLength(ms)} ${what}`;
  return scale.factor === 1 ? stated : `${stated} at ×${scale.factor} = ${formatLength(scale.wait(ms))}`;
}

/** An instant as a person at this machine reads it: its local time of day, with the date when not today. */
export function formatInstant(at: Date, today: Date = new Date()): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
  const date = (d: Date) => `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
  return date(at) === date(today) ? time : `${date(at)} ${time}`;
}

/**
 * When a gate expires: the real instant, and the policy's time to expire that was shortened to reach it
 * (the recorded deadline − opened, stated back): `11:52:10 (72h at ×60)`.
 */
export function gateDeadline(gate: { openedAt: string; deadline: string }, scale: TimeScale, today?: Date): string {
  const deadline = new Date(gate.deadline);
  if (scale.factor === 1) return formatInstant(deadline, today);
  const waited = deadline.getTime() - Date.parse(gate.openedAt);
  const policy = Math.round(scale.stated(waited) / 1000) * 1000;
  return `${formatInstant(deadline, today)} (${formatLength(policy)} at ×${scale.factor})`;
}

export function stageLine(stage: StageRecord): string {
  const tests = stage.tests
    ? `  tests ${stage.tests.passed}/${stage.tests.total} passed${stage.tests.failed ? `, ${stage.tests.failed} failed` : ''}`
    : '';
  return `  ${MARK[stage.status] ?? '?'} ${stage.name.padEnd(14)} ${stage.status.padEnd(11)} ${formatDuration(stage.durationMs).padStart(7)}${tests}`;
}

export function failureLines(run: RunRecord): string[] {
  if (!run.failure) return [];
  const { stage, error, cause, logTail = [], failedTests = [] } = run.failure;
  const shown = forTerminal.line;
  return [
    `  failed${stage ? ` at stage ${shown(stage)}` : ''}: ${shown(error)} — ${shown(cause)}`,
    ...(failedTests.length ? ['  failing tests:'] : []),
    ...failedTests.flatMap((test) => [
      `    ✖ ${test.suite ? `${shown(test.suite)} › ` : ''}${shown(test.name)}${test.status === 'ERROR' ? ' (error)' : ''}`,
      ...plainText(test.message ?? '')
        .split('\n')
        .filter(Boolean)
        .map((line) => `        ${shown(line)}`),
    ]),
    ...(logTail.length ? ['  last lines of its log:', ...logTail.map((l) => `    │ ${shown(l)}`)] : []),
  ];
}

/** Remembers what was printed, so that each change is printed once. */
export class ProgressPrinter {
  private readonly seen = new Map<string, string>();

  constructor(private readonly write: (line: string) => void) {}

  update(stages: readonly StageRecord[], order: readonly string[]): void {
    const sorted = [...stages].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    for (const stage of sorted) {
      if (this.seen.get(stage.name) === stage.status) continue;
      this.seen.set(stage.name, stage.status);
      this.write(stageLine(stage));
    }
  }
}
