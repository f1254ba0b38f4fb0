/**
 * Where a FAILED run resumes (core/runs/redrive.ts), over execution histories taken from real local executions of
 * statemachines/pipeline.asl.json (test/core/fixtures/history-*.json: a failed test stage, a failed build, a run
 * stopped during its build) and over AWS-shaped histories written here for the paths a local pipeline does not reach.
 */
import type { ExecutionEvent } from '../../core/runs/execution-history';
import { NotResumableError } from '../../core/runs/errors';
import { redriveExecutionName, redriveInput, resumePointOf, runIdOfExecution } from '../../core/runs/redrive';
import testStageFailed from './fixtures/history-test-stage-failed.json';
import buildFailed from './fixtures/history-build-failed.json';
import stopped from './fixtures/history-stopped.json';

/** An AWS-shaped history: each entry a state entered with its input, or a bare event type. */
function history(...steps: (string | [string, string, Record<string, unknown>?])[]): ExecutionEvent[] {
  return steps.map((step, i) => {
    const at = { id: i + 1, timestamp: new Date(Date.UTC(2026, 11, 3, 12, 0, i)).toISOString() };
    if (typeof step === 'string') return { ...at, type: step };
    const [type, name, input] = step;
    return {
      ...at,
      type: `${type}StateEntered`,
      stateEnteredEventDetails: { name, input: JSON.stringify(input ?? { runId: 'run-1' }) },
    };
  });
}

const refusal = (events: readonly ExecutionEvent[]) => {
  try {
    resumePointOf('run-1', events);
  } catch (error) {
    expect(error).toBeInstanceOf(NotResumableError);
    return (error as Error).message;
  }
  throw new Error('resumable');
};

describe('resumePointOf', () => {
  it('resumes a failed test stage at "Run test stages", with the Map state\'s input', () => {
    const point = resumePointOf('run-1', testStageFailed as ExecutionEvent[]);

    expect(point).toMatchObject({ failedState: 'Run test stages', resumeAt: 'Run test stages' });
    expect(point.input).toMatchObject({
      stages: { tests: [{ name: 'unit' }, { name: 'lint' }] },
      build: { id: expect.stringMatching(/^stepline-demo-build:/) },
    });
  });

  it('resumes a failed build at "Record build started", with its input (no build yet)', () => {
    const point = resumePointOf('run-1', buildFailed as ExecutionEvent[]);

    expect(point).toMatchObject({ failedState: 'Build', resumeAt: 'Record build started' });
    expect(point.input).toMatchObject({ pipeline: 'demo', stages: { build: { name: 'build' } } });
    expect(point.input.build).toBeUndefined();
  });

  it('refuses a stopped execution: nothing failed', () => {
    expect(refusal(stopped as ExecutionEvent[])).toBe(
      'run run-1 cannot be redriven: its execution was stopped at "Build", not failed at a step',
    );
  });

  it('refuses a release that rolled back: that version is out, a re-run releases again', () => {
    const events = history(
      'ExecutionStarted',
      ['Task', 'Record run started'],
      ['Task', 'Assess release risk'],
      ['Choice', 'Does the run deploy?'],
      ['Task', 'Start deployment'],
      ['Task', 'Release new version'],
      ['Map', 'Shift traffic'],
      'MapStateStarted',
      'MapIterationStarted',
      ['Task', 'Set alias weights'],
      'MapIterationFailed',
      'MapStateFailed',
      ['Task', 'Roll back'],
      ['Task', 'Record run failed'],
      ['Fail', 'Run failed'],
      'ExecutionFailed',
    );
    expect(refusal(events)).toBe(
      'run run-1 cannot be redriven: its release was rolled back ("Shift traffic"); `stepline rerun` releases again',
    );
  });

  it('refuses a step it does not resume, naming it and those it does', () => {
    const events = history(
      'ExecutionStarted',
      ['Choice', 'Is this a redrive?'],
      ['Task', 'Record run started'],
      'TaskFailed',
      ['Task', 'Record run failed'],
      ['Fail', 'Run failed'],
    );
    expect(refusal(events)).toBe(
      'run run-1 cannot be redriven: it failed at "Record run started", a step stepline does not resume (resumable: Build, Run test stages, Deploy to staging)',
    );
    expect(refusal(history('ExecutionStarted', ['Task', 'Record run started'], 'ExecutionFailed'))).toBe(
      'run run-1 cannot be redriven: its execution never reached its failure path',
    );
  });

  it('resumes a failed staging release at "Deploy to staging", the last time it was entered', () => {
    const events = history(
      ['Task', 'Record build result', { at: 'build' }],
      ['Map', 'Run test stages', { at: 'tests' }],
      'MapIterationStarted',
      ['Task', 'Deploy to staging', { at: 'inside a Map: not top level' }],
      'MapIterationSucceeded',
      'MapStateExited',
      ['Choice', 'Does the run stage?'],
      ['Task', 'Deploy to staging', { at: 'staging' }],
      'TaskFailed',
      ['Task', 'Record run failed'],
    );
    expect(resumePointOf('run-1', events)).toEqual({
      failedState: 'Deploy to staging',
      resumeAt: 'Deploy to staging',
      input: { at: 'staging' },
    });
  });
});

describe('redrive execution names', () => {
  const runId = 'hello-service-0123456789ab-abcdef01';

  it('are <run>-redrive-<n>, and map back to their run', () => {
    expect(redriveExecutionName(runId, 2)).toBe(`${runId}-redrive-2`);
    expect(runIdOfExecution(`${runId}-redrive-2`)).toBe(runId);
    expect(runIdOfExecution(runId)).toBe(runId);
  });

  it('shorten to <run>-r<n> beyond 80 characters, and give up when even that does not fit', () => {
    const long = `${'p'.repeat(50)}-0123456789ab-abcdef01`;
    expect(redriveExecutionName(long, 12)).toBe(`${long}-r12`);
    expect(runIdOfExecution(`${long}-r12`)).toBe(long);
    expect(redriveExecutionName(`${'p'.repeat(56)}-0123456789ab-abcdef01`, 1)).toBeUndefined();
  });
});

describe('redriveInput', () => {
  it('narrows the test stages to those to run again, drops an earlier redrive and says where to resume', () => {
    const point = {
      failedState: 'Run test stages',
      resumeAt: 'Run test stages',
      input: {
        runId: 'run-1',
        stages: { build: { name: 'build' }, tests: [{ name: 'unit' }, { name: 'lint' }], testConcurrency: 0 },
        redrive: { from: 'Record build started' },
      },
    };
    expect(redriveInput(point, (tests) => tests.filter((t) => t.name === 'unit'))).toEqual({
      runId: 'run-1',
      stages: { build: { name: 'build' }, tests: [{ name: 'unit' }], testConcurrency: 0 },
      redrive: { from: 'Run test stages' },
    });
  });
});
