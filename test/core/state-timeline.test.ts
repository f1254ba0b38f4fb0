/**
 * Each state's status, times, input and output, read from the histories of real local executions (the same events
 * GetExecutionHistory answers): a Task whose failure is caught, a Map's iterations, a Fail state, states never
 * reached, a state still running.
 */
import { LocalStepFunctions } from '../../local/step-functions';
import type { ExecutionEvent } from '../../core/runs/execution-history';
import { stateTimeline, type StateTimeline } from '../../core/runs/state-timeline';

const definition = {
  StartAt: 'Prepare',
  States: {
    Prepare: { Type: 'Pass', Result: { stages: ['unit', 'lint'] }, Next: 'Build' },
    Build: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { 'what.$': '$.stages' },
      ResultPath: '$.built',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Record build failure' }],
      Next: 'Tests',
    },
    Tests: {
      Type: 'Map',
      ItemsPath: '$.stages',
      ResultPath: null,
      ItemProcessor: { StartAt: 'Run test stage', States: { 'Run test stage': { Type: 'Pass', End: true } } },
      Next: 'Done',
    },
    'Record build failure': { Type: 'Pass', Next: 'Run failed' },
    'Run failed': { Type: 'Fail', Error: 'BuildFailed', Cause: 'the build broke' },
    Done: { Type: 'Succeed' },
  },
};

/** Runs `definition` with the build's Task answered by `build`; resolves with the execution's whole history. */
async function historyOf(build: () => Promise<unknown>): Promise<ExecutionEvent[]> {
  const sfn = new LocalStepFunctions({ 'arn:aws:states:::lambda:invoke': build });
  const machine = sfn.createStateMachine('timeline', JSON.stringify(definition));
  const execution = sfn.startExecution(machine, 'run-1', '{}');
  await execution.done;
  // The library's log is followed after the end is told: the history is whole once its end is in it.
  for (let attempt = 0; attempt < 100; attempt++) {
    const history = sfn.getExecutionHistory(execution.executionArn);
    if (history.some((e) => e.type === 'ExecutionSucceeded' || e.type === 'ExecutionFailed')) return [...history];
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the history never ended');
}

const byName = (states: readonly StateTimeline[]) => Object.fromEntries(states.map((s) => [s.name, s]));

describe('stateTimeline', () => {
  it('a caught Task failure: the Task caught, its catch path taken to a failed Fail state, the rest not reached', async () => {
    const history = await historyOf(async () => {
      throw Object.assign(new Error('the build broke'), { name: 'BuildFailed' });
    });
    const timeline = stateTimeline(definition, history);
    const states = byName(timeline.states);
    expect(timeline.status).toBe('FAILED');
    expect(timeline.states.map((s) => [s.name, s.status])).toEqual([
      ['Prepare', 'succeeded'],
      ['Build', 'caught'],
      ['Tests', 'not-reached'],
      ['Record build failure', 'succeeded'],
      ['Run failed', 'failed'],
      ['Done', 'not-reached'],
    ]);
    expect(states.Build).toMatchObject({ error: 'BuildFailed', cause: 'the build broke', entries: 1 });
    expect(JSON.parse(states.Build!.input!)).toEqual({ stages: ['unit', 'lint'] });
    expect(JSON.parse(states.Build!.output!)).toMatchObject({ error: { Error: 'BuildFailed' } });
    expect(states['Run failed']).toMatchObject({ error: 'BuildFailed', cause: 'the build broke' });
    expect(states.Build!.durationMs).toBe(Date.parse(states.Build!.exitedAt!) - Date.parse(states.Build!.enteredAt!));
    expect(timeline.startedAt).toBe(history[0]!.timestamp);
    expect(timeline.endedAt).toBe(history.at(-1)!.timestamp);
  });

  it("a Map's iterations are counted on the Map, its inner states kept apart", async () => {
    const timeline = stateTimeline(definition, await historyOf(async () => ({ ok: true })));
    const states = byName(timeline.states);
    expect(timeline.status).toBe('SUCCEEDED');
    expect(states.Tests).toMatchObject({ status: 'succeeded', iterations: { started: 2, succeeded: 2, failed: 0 } });
    expect(states.Build!.status).toBe('succeeded');
    expect(states['Record build failure']!.status).toBe('not-reached');
    expect(states['Run failed']!.status).toBe('not-reached');
    expect(states.Done!.status).toBe('succeeded');
    expect(timeline.nested).toEqual([
      expect.objectContaining({ name: 'Run test stage', status: 'succeeded', entries: 2 }),
    ]);
  });

  it('a state the execution is in is running, and the states after it not reached', async () => {
    let answer!: () => void;
    const sfn = new LocalStepFunctions({
      'arn:aws:states:::lambda:invoke': () => new Promise((resolve) => (answer = () => resolve({ ok: true }))),
    });
    const execution = sfn.startExecution(sfn.createStateMachine('running', JSON.stringify(definition)), 'r', '{}');
    for (let attempt = 0; attempt < 100 && !answer; attempt++) await new Promise((r) => setTimeout(r, 20));
    const timeline = stateTimeline(definition, sfn.getExecutionHistory(execution.executionArn));
    answer();
    await execution.done;
    expect(timeline.status).toBe('RUNNING');
    expect(timeline.states.map((s) => s.status)).toEqual([
      'succeeded',
      'running',
      'not-reached',
      'not-reached',
      'not-reached',
      'not-reached',
    ]);
    expect(byName(timeline.states).Build!.durationMs).toBeUndefined();
  });

  it('an empty history: every state not reached', () => {
    const timeline = stateTimeline(definition, []);
    expect(timeline.status).toBe('RUNNING');
    expect(timeline.states.every((s) => s.status === 'not-reached')).toBe(true);
  });

  it('a redrive: the run is running again, the Fail state it had reached no longer where it stands', async () => {
    const failed = await historyOf(async () => {
      throw Object.assign(new Error('the build broke'), { name: 'BuildFailed' });
    });
    const at = (ms: number) => new Date(Date.parse(failed.at(-1)!.timestamp) + ms).toISOString();
    // Step Functions' events of a redrive that resumes at "Record build failure" (its own history event type).
    const redriven = [
      ...failed,
      { id: failed.length + 1, timestamp: at(1000), type: 'ExecutionRedriven' },
      {
        id: failed.length + 2,
        timestamp: at(1001),
        type: 'PassStateEntered',
        stateEnteredEventDetails: { name: 'Record build failure', input: '{}' },
      },
    ];
    const timeline = stateTimeline(definition, redriven);
    expect(timeline.status).toBe('RUNNING');
    expect(timeline.endedAt).toBeUndefined();
    expect(timeline.states.map((s) => [s.name, s.status])).toEqual([
      ['Prepare', 'succeeded'],
      ['Build', 'caught'],
      ['Tests', 'not-reached'],
      ['Record build failure', 'running'],
      ['Run failed', 'not-reached'],
      ['Done', 'not-reached'],
    ]);
    expect(byName(timeline.states)['Record build failure']!.entries).toBe(2);
  });
});
