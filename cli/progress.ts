/**
 * Renders a run's progress from the run store: one line per stage change, the log tail of a failure.
 * What a build or a push wrote (causes, test names and messages, log lines) is printed through the
 * terminal renderer (core/text.ts): it cannot move the cursor, recolour, or start a line of its own.
 */
import type { RunRecord, StageRecord } from '../core/records';
import { forTerminal, plainText } from '../core/text';

const MARK: Record<string, string> = { IN_PROGRESS: '…', SUCCEEDED: '✔', FAILED: '✖', PENDING: ' ' };

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
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
