/**
 * The deployment's release Tasks of statemachines/pipeline.asl.json, executed (aws-local-stepfunctions through
 * local/step-functions.ts) with a recording deploy function: Lambda's ResourceConflictException (someone else's
 * update of the function in progress) and throttling of its API are retried; a failed code update is not, and
 * rolls back with its reason.
 */
import { TASK_RESOURCES } from '../../core/asl/states';
import { FunctionUpdateFailedError } from '../../core/deployment/errors';
import { lambdaInvokeAdapter, lambdaInvokeWaitForTaskTokenAdapter } from '../../local/adapters';
import { LocalStepFunctions } from '../../local/step-functions';
import { PIPELINE_DEFINITION_FILE, renderDefinition } from '../../statemachines';

const RECORDER = 'arn:aws:lambda:local:000000000000:function:recorder';
const GATE = 'arn:aws:lambda:local:000000000000:function:gate';
const DEPLOY = 'arn:aws:lambda:local:000000000000:function:deploy';
const input = {
  runId: 'run-1',
  pipeline: 'demo',
  commit: { repository: 'demo', branch: 'main', id: 'a'.repeat(40) },
  stages: { build: { name: 'build', project: 'stepline-demo-build' }, tests: [], testConcurrency: 0 },
  deploy: {},
  staging: {},
};

/** An error as the deploy function throws it: Lambda reports its name as the errorType. */
function named(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/** Runs the pipeline through staging and the release; `fails` says what the n-th call of `kind` throws. */
async function runRelease(fails: (kind: string, attempt: number) => Error | undefined) {
  const calls: string[] = [];
  const attempts = new Map<string, number>();
  const functions = new Map<string, (event: unknown) => Promise<unknown>>([
    [
      RECORDER,
      async (event) => {
        const { kind, error } = event as { kind: string; error?: { Error: string } };
        calls.push(error ? `${kind}(${error.Error})` : kind);
        return null;
      },
    ],
    [GATE, async () => ({ needsApproval: false, timeoutSeconds: 1201 })],
    [
      DEPLOY,
      async (event) => {
        const { kind } = event as { kind: string };
        const attempt = (attempts.get(kind) ?? 0) + 1;
        attempts.set(kind, attempt);
        calls.push(`deploy:${kind}`);
        const failure = fails(kind, attempt);
        if (failure) throw failure;
        if (kind === 'start') {
          return { status: 'IN_PROGRESS', outcome: '', steps: [], finalBakeSeconds: 0, preTraffic: false };
        }
        if (kind === 'rollback') return { status: 'ROLLED_BACK', outcome: 'rolled back' };
        return {};
      },
    ],
  ]);
  const sfn = new LocalStepFunctions(
    {
      [TASK_RESOURCES.lambdaInvoke]: lambdaInvokeAdapter(functions),
      [TASK_RESOURCES.lambdaInvokeWaitForTaskToken]: lambdaInvokeWaitForTaskTokenAdapter(functions),
      [TASK_RESOURCES.codeBuildSync]: async () => ({ Build: { Id: 'build-1' } }),
    },
    // The ASL's intervals (5 s, doubling) are the waits on AWS; here the retries follow at once.
    { retryIntervalOverrides: { 'Release new version': 0, 'Deploy to staging': 0 } },
  );
  const arn = sfn.createStateMachine(
    'stepline-demo',
    renderDefinition(PIPELINE_DEFINITION_FILE, {
      RecordProgressFunctionArn: RECORDER,
      ApprovalGateFunctionArn: GATE,
      DeployFunctionArn: DEPLOY,
    }),
  );
  const execution = sfn.startExecution(arn, 'run-1', JSON.stringify(input));
  await execution.done;
  return { execution, calls };
}

describe('the release Tasks', () => {
  it.each([
    ['ResourceConflictException', 'An update is in progress for resource: arn:aws:lambda:…:function:demo'],
    ['TooManyRequestsException', 'Rate exceeded'],
  ])('retry %s on staging and on the release, and the run succeeds', async (error, message) => {
    const { execution, calls } = await runRelease((kind, attempt) =>
      (kind === 'release' || kind === 'staging') && attempt <= 2 ? named(error, message) : undefined,
    );

    expect(execution.status).toBe('SUCCEEDED');
    expect(calls.filter((c) => c === 'deploy:staging')).toHaveLength(3);
    expect(calls.filter((c) => c === 'deploy:release')).toHaveLength(3);
    expect(calls.at(-1)).toBe('runSucceeded');
  });

  it('gives up on a conflict that outlasts its three retries: the release rolls back', async () => {
    const { execution, calls } = await runRelease((kind) =>
      kind === 'release' ? named('ResourceConflictException', 'An update is in progress') : undefined,
    );

    expect(execution.status).toBe('FAILED');
    expect(calls.filter((c) => c === 'deploy:release')).toHaveLength(4);
    expect(calls.slice(-2)).toEqual(['deploy:rollback', 'runFailed(Deploy.RolledBack)']);
  });

  it('does not retry a failed code update: it rolls back at once', async () => {
    const { execution, calls } = await runRelease((kind) =>
      kind === 'release' ? new FunctionUpdateFailedError('demo', 'KMSKeyAccessDenied', 'access denied') : undefined,
    );

    expect(execution.status).toBe('FAILED');
    expect(calls.filter((c) => c === 'deploy:release')).toHaveLength(1);
    expect(calls.slice(-2)).toEqual(['deploy:rollback', 'runFailed(Deploy.RolledBack)']);
  });
});
