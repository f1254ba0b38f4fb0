/**
 * The gate's states of statemachines/pipeline.asl.json, executed (aws-local-stepfunctions through
 * local/step-functions.ts) with recording adapters: each way a gate can end leads to the recording
 * state and the end the console shows.
 */
import { TASK_RESOURCES, tasksOf } from '../../core/asl/states';
import { GATE_HEARTBEAT_SECONDS, gateTimeoutSeconds } from '../../core/approval/gate';
import { lambdaInvokeWaitForTaskTokenAdapter } from '../../local/adapters';
import { LocalStepFunctions, type TaskAdapter } from '../../local/step-functions';
import { readFileSync } from 'node:fs';
import { PIPELINE_DEFINITION_FILE, renderDefinition } from '../../statemachines';

/** The state a running execution waits in, and that state's input (the executor keeps it to resume there). */
interface WaitingAt {
  readonly state: string;
  readonly input: unknown;
}

const RECORDER = 'arn:aws:lambda:local:000000000000:function:recorder';
const GATE = 'arn:aws:lambda:local:000000000000:function:gate';
const input = {
  runId: 'run-1',
  pipeline: 'demo',
  commit: { repository: 'demo', branch: 'main', id: 'a'.repeat(40) },
  stages: { build: { name: 'build', project: 'stepline-demo-build' }, tests: [], testConcurrency: 0 },
};

/** Runs the pipeline with a passing build and no tests; the gate answers `assessment` and then `decide`. */
async function runGate(
  assessment: { needsApproval: boolean; timeoutSeconds: number },
  decide: (token: string, sfn: LocalStepFunctions, waitingAt: () => WaitingAt | undefined) => void,
) {
  const calls: { function: string; kind: string; error?: unknown }[] = [];
  const functions = new Map<string, (event: unknown) => Promise<unknown>>([
    [
      RECORDER,
      async (event) => {
        const { kind, error } = event as { kind: string; error?: unknown };
        calls.push({ function: 'recorder', kind, ...(error ? { error } : {}) });
        return null;
      },
    ],
    [
      GATE,
      async (event) => {
        const { kind, taskToken } = event as { kind: string; taskToken?: string };
        calls.push({ function: 'gate', kind });
        if (kind === 'assess') return assessment;
        setImmediate(() => decide(taskToken!, sfn, () => (execution as { waitingAt?: WaitingAt }).waitingAt));
        return { status: 'WAITING' };
      },
    ],
  ]);
  const invoke: TaskAdapter = async (request) => {
    const { FunctionName, Payload } = request as { FunctionName: string; Payload: unknown };
    return { Payload: await functions.get(FunctionName)!(Payload), StatusCode: 200 };
  };
  const sfn: LocalStepFunctions = new LocalStepFunctions({
    [TASK_RESOURCES.lambdaInvoke]: invoke,
    [TASK_RESOURCES.lambdaInvokeWaitForTaskToken]: lambdaInvokeWaitForTaskTokenAdapter(functions),
    [TASK_RESOURCES.codeBuildSync]: async () => ({ Build: { Id: 'build-1' } }),
  });
  const arn = sfn.createStateMachine(
    'stepline-demo',
    renderDefinition(PIPELINE_DEFINITION_FILE, {
      RecordProgressFunctionArn: RECORDER,
      ApprovalGateFunctionArn: GATE,
      // A run of a pipeline without `deploy` never reaches the deployment states.
      DeployFunctionArn: 'arn:aws:lambda:local:000000000000:function:deploy-never-called',
    }),
  );
  const execution = sfn.startExecution(arn, 'run-1', JSON.stringify(input));
  await execution.done;
  return { execution, calls: calls.map((c) => (c.function === 'gate' ? `gate:${c.kind}` : c.kind)), raw: calls };
}

describe('the release gate states', () => {
  it('a change that needs no approval goes from the assessment to the run succeeded, without waiting', async () => {
    const { execution, calls } = await runGate({ needsApproval: false, timeoutSeconds: 1 }, () => {
      throw new Error('nobody should be asked');
    });
    expect(execution.status).toBe('SUCCEEDED');
    expect(calls.slice(-2)).toEqual(['gate:assess', 'runSucceeded']);
  });

  it('approved: the wait resumes with the output and the run succeeds', async () => {
    const { execution, calls } = await runGate({ needsApproval: true, timeoutSeconds: 60 }, (token, sfn) =>
      sfn.sendTaskSuccess(token, JSON.stringify({ status: 'APPROVED' })),
    );
    expect(execution.status).toBe('SUCCEEDED');
    expect(calls.slice(-3)).toEqual(['gate:assess', 'gate:await', 'runSucceeded']);
  });

  it.each([
    ['Approval.Rejected', 'runRejected', 'RunRejected'],
    ['Approval.Expired', 'runExpired', 'RunExpired'],
    ['States.Timeout', 'runExpired', 'RunExpired'],
    ['States.HeartbeatTimeout', 'runFailed', 'RunFailed'],
  ])('%s is recorded as %s and ends the execution as %s', async (error, recorded, end) => {
    const { execution, calls, raw } = await runGate({ needsApproval: true, timeoutSeconds: 60 }, (token, sfn) =>
      sfn.sendTaskFailure(token, error, 'why'),
    );
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe(end);
    expect(calls.slice(-3)).toEqual(['gate:assess', 'gate:await', recorded]);
    expect(raw.at(-1)!.error).toEqual({ Error: error, Cause: 'why' });
  });

  it.each([
    ['10 seconds', 10],
    ['a minute', 60],
    ['20 minutes', GATE_HEARTBEAT_SECONDS],
    ['a day', 86_400],
  ])(
    'the wait, entered %s before its deadline, gets a timeout longer than its heartbeat, as Step Functions requires',
    async (_case, secondsLeft) => {
      const now = new Date('2026-11-25T10:00:00.000Z');
      const deadline = new Date(now.getTime() + secondsLeft * 1000).toISOString();
      const wait = tasksOf(JSON.parse(readFileSync(PIPELINE_DEFINITION_FILE, 'utf8')) as unknown).find(
        ({ name }) => name === 'Wait for release approval',
      )!.state;
      let entered: WaitingAt | undefined;

      const { execution } = await runGate(
        { needsApproval: true, timeoutSeconds: gateTimeoutSeconds(deadline, now) },
        (token, sfn, waitingAt) => {
          entered = waitingAt();
          sfn.sendTaskSuccess(token, JSON.stringify({ status: 'APPROVED' }));
        },
      );

      expect(execution.status).toBe('SUCCEEDED');
      expect(wait).toMatchObject({
        HeartbeatSeconds: GATE_HEARTBEAT_SECONDS,
        TimeoutSecondsPath: '$.gate.timeoutSeconds',
      });
      expect(entered?.state).toBe('Wait for release approval');
      const timeout = (entered?.input as { gate: { timeoutSeconds: number } }).gate.timeoutSeconds;
      expect(timeout).toBeGreaterThan(GATE_HEARTBEAT_SECONDS);
      expect(timeout).toBeGreaterThanOrEqual(secondsLeft);
    },
  );

  it('a token is answered once: a second answer finds no task waiting on it', async () => {
    let second: unknown;
    await runGate({ needsApproval: true, timeoutSeconds: 60 }, (token, sfn) => {
      sfn.sendTaskSuccess(token, '{}');
      try {
        sfn.sendTaskFailure(token, 'Approval.Rejected', 'late');
      } catch (error) {
        second = error;
      }
    });
    expect(second).toMatchObject({ name: 'InvalidToken' });
  });
});
