/**
 * The redrive entry of statemachines/pipeline.asl.json (`Is this a redrive?` → `Resume at the failed state`), read and
 * executed (aws-local-stepfunctions through local/step-functions.ts) with recording functions: a normal run never
 * takes it, a redrive starts at the state it names and nowhere else, and the Choice lists exactly the states core
 * resumes at (core/runs/redrive.ts).
 */
import { readFileSync } from 'node:fs';
import { TASK_RESOURCES } from '../../core/asl/states';
import { RESUME_POINTS, resumeStates } from '../../core/runs/redrive';
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
  stages: {
    build: { name: 'build', project: 'stepline-demo-build' },
    tests: [{ name: 'unit', project: 'stepline-demo-unit' }],
    testConcurrency: 0,
  },
  staging: true,
};

interface State {
  readonly Type: string;
  readonly Choices?: readonly { Variable: string; StringEquals?: string; IsPresent?: boolean; Next: string }[];
  readonly Default?: string;
}
const definition = JSON.parse(readFileSync(PIPELINE_DEFINITION_FILE, 'utf8')) as {
  StartAt: string;
  States: Record<string, State>;
};

/** Executes the pipeline on `executionInput`; every function call is recorded as `kind` (`deploy:kind`). */
async function execute(executionInput: Record<string, unknown>) {
  const calls: string[] = [];
  const functions = new Map<string, (event: unknown) => Promise<unknown>>([
    [RECORDER, async (event) => (calls.push((event as { kind: string }).kind), { status: 'SUCCEEDED' })],
    [GATE, async () => (calls.push('gate'), { needsApproval: false, timeoutSeconds: 1201 })],
    [DEPLOY, async (event) => (calls.push(`deploy:${(event as { kind: string }).kind}`), {})],
  ]);
  const builds: string[] = [];
  const sfn = new LocalStepFunctions({
    [TASK_RESOURCES.lambdaInvoke]: lambdaInvokeAdapter(functions),
    [TASK_RESOURCES.lambdaInvokeWaitForTaskToken]: lambdaInvokeWaitForTaskTokenAdapter(functions),
    [TASK_RESOURCES.codeBuildSync]: async (request: unknown) => {
      builds.push((request as { ProjectName: string }).ProjectName);
      return { Build: { Id: `${(request as { ProjectName: string }).ProjectName}:1` } };
    },
  });
  const arn = sfn.createStateMachine(
    'stepline-demo',
    renderDefinition(PIPELINE_DEFINITION_FILE, {
      RecordProgressFunctionArn: RECORDER,
      ApprovalGateFunctionArn: GATE,
      DeployFunctionArn: DEPLOY,
    }),
  );
  const execution = sfn.startExecution(arn, 'run-1', JSON.stringify(executionInput));
  await execution.done;
  const entered = sfn
    .getExecutionHistory(execution.executionArn)
    .filter((e) => e.stateEnteredEventDetails)
    .map((e) => e.stateEnteredEventDetails!.name);
  return { execution, calls, builds, entered };
}

describe('the redrive entry', () => {
  it('lists exactly the states core resumes at, each a top-level state', () => {
    expect(definition.StartAt).toBe('Is this a redrive?');
    expect(definition.States['Is this a redrive?']).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.redrive', IsPresent: true, Next: 'Resume at the failed state' }],
      Default: 'Record run started',
    });
    const resume = definition.States['Resume at the failed state']!;
    expect(resume.Default).toBeUndefined();
    const branches = resume.Choices!.map((c) => [c.Variable, c.StringEquals, c.Next]);
    expect(branches).toEqual(resumeStates().map((state) => ['$.redrive.from', state, state]));
    for (const [failed, resumeAt] of Object.entries(RESUME_POINTS)) {
      expect(definition.States[failed]).toBeDefined();
      expect(definition.States[resumeAt]).toBeDefined();
    }
  });

  it('is never taken by a normal run', async () => {
    const { execution, calls, builds, entered } = await execute(input);

    expect(execution.status).toBe('SUCCEEDED');
    expect(entered.slice(0, 2)).toEqual(['Is this a redrive?', 'Record run started']);
    expect(entered).not.toContain('Resume at the failed state');
    expect(calls[0]).toBe('runStarted');
    expect(builds).toEqual(['stepline-demo-build', 'stepline-demo-unit']);
  });

  it.each([
    ['Record build started', ['stepline-demo-build', 'stepline-demo-unit'], 'stageStarted'],
    ['Run test stages', ['stepline-demo-unit'], 'stageStarted'],
    ['Deploy to staging', [], 'deploy:staging'],
  ])('resumes at "%s" and runs only what follows it', async (from, expectedBuilds, firstCall) => {
    const { execution, calls, builds, entered } = await execute({
      ...input,
      build: { id: 'stepline-demo-build:1' },
      redrive: { from },
    });

    expect(execution.status).toBe('SUCCEEDED');
    expect(entered.slice(0, 3)).toEqual(['Is this a redrive?', 'Resume at the failed state', from]);
    expect(calls).not.toContain('runStarted');
    expect(calls[0]).toBe(firstCall);
    expect(builds).toEqual(expectedBuilds);
    expect(calls.at(-1)).toBe('runSucceeded');
  });

  it('fails a redrive naming a state it cannot resume at, before any step', async () => {
    const { execution, calls } = await execute({ ...input, redrive: { from: 'Record run started' } });

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('States.NoChoiceMatched');
    expect(calls).toEqual([]);
  });
});
