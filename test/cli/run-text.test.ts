/** How the CLI shows runs (cli/run-text.ts, cli/runs.ts): the console link, colour, what started a run, which log. */
import { defaultStage } from '../../cli/runs';
import { consoleLink, paintFor, startedBy } from '../../cli/run-text';
import type { StageRecord } from '../../core/records';
import { queuedRun } from '../support/records';

describe('the Step Functions console link', () => {
  test("an AWS execution's ARN links to its page in its own Region", () => {
    const arn = 'arn:aws:states:eu-west-1:111122223333:execution:stepline-web:web-0123456789ab-0badcafe';
    expect(consoleLink(arn)).toBe(
      `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${arn}`,
    );
  });

  test("none for local mode's executions, an ARN that is not an execution's, or no ARN", () => {
    expect(consoleLink('arn:aws:states:local:000000000000:execution:stepline-web:web-1')).toBeUndefined();
    expect(consoleLink('arn:aws:states:eu-west-1:111122223333:stateMachine:stepline-web')).toBeUndefined();
    expect(consoleLink('arn:aws:states:eu-west-1:111122223333:execution:stepline-web:x"><script>')).toBeUndefined();
    expect(consoleLink(undefined)).toBeUndefined();
  });
});

describe('colour', () => {
  test('at a terminal a status is coloured; piped, or with NO_COLOR set, it is plain', () => {
    expect(paintFor({ isTTY: true }, {})('FAILED')).toBe('\u001b[31mFAILED\u001b[0m');
    expect(paintFor({ isTTY: true }, { NO_COLOR: '1' })('FAILED')).toBe('FAILED');
    expect(paintFor({ isTTY: false }, {})('FAILED')).toBe('FAILED');
  });
});

describe('what started a run', () => {
  test('a push, a hand, or a re-run of another', () => {
    const push = queuedRun().trigger;
    expect(startedBy(push)).toBe('push');
    expect(startedBy({ ...push, kind: 'manual', pushedBy: 'ann' })).toBe('manual (ann)');
    expect(startedBy({ ...push, kind: 'manual', rerunOf: 'web-1' })).toBe('re-run of web-1');
  });
});

describe("which stage's log `logs` shows when none is named", () => {
  const run = queuedRun({ stageNames: ['build', 'unit', 'lint'] });
  const stage = (name: string, status: StageRecord['status'], startedAt?: string): StageRecord => ({
    runId: run.runId,
    name,
    status,
    ...(startedAt ? { startedAt } : {}),
  });

  test('the first that failed, in plan order', () => {
    const stages = [stage('lint', 'FAILED', 't3'), stage('unit', 'FAILED', 't2'), stage('build', 'SUCCEEDED', 't1')];
    expect(defaultStage(run, stages)?.name).toBe('unit');
  });

  test('else the last that started', () => {
    const stages = [
      stage('build', 'SUCCEEDED', '2026-12-01T09:00:00Z'),
      stage('unit', 'IN_PROGRESS', '2026-12-01T09:02:00Z'),
      stage('lint', 'SUCCEEDED', '2026-12-01T09:01:00Z'),
    ];
    expect(defaultStage(run, stages)?.name).toBe('unit');
    expect(defaultStage(run, [])).toBeUndefined();
  });
});
