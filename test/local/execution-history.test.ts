/**
 * A local execution's history is Step Functions': the events GetExecutionHistory answers through the real SDK, in
 * AWS's event types, with each state's input and output, a caught Task failure, Map iterations and the execution's
 * end; paged and reversed as the API pages; kept on disk with the execution.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import { startLocalEndpoint, type LocalEndpoint } from '../../local/aws-endpoint';
import { LocalStepFunctions, stepFunctionsOperations } from '../../local/step-functions';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/constants';

const definition = JSON.stringify({
  StartAt: 'Build',
  States: {
    Build: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { 'what.$': '$.what' },
      ResultPath: '$.built',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Tests' }],
      Next: 'Tests',
    },
    Tests: {
      Type: 'Map',
      ItemsPath: '$.stages',
      ResultPath: null,
      ItemProcessor: { StartAt: 'Run test stage', States: { 'Run test stage': { Type: 'Pass', End: true } } },
      Next: 'Run failed',
    },
    'Run failed': { Type: 'Fail', Error: 'TestsFailed', Cause: 'a stage failed' },
  },
});

describe('a local execution history', () => {
  let dir: string;
  let endpoint: LocalEndpoint;
  let sfn: LocalStepFunctions;
  let client: SFNClient;
  let executionArn: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-history-'));
    const adapters = {
      'arn:aws:states:::lambda:invoke': async () => {
        throw Object.assign(new Error('the build broke'), { name: 'BuildFailed' });
      },
    };
    sfn = new LocalStepFunctions(adapters, { executionsDir: join(dir, 'executions') });
    const execution = sfn.startExecution(
      sfn.createStateMachine('history', definition),
      'run-1',
      JSON.stringify({ what: 'app', stages: ['unit', 'lint'] }),
    );
    executionArn = execution.executionArn;
    await execution.done;
    endpoint = await startLocalEndpoint(stepFunctionsOperations(sfn));
    client = new SFNClient({ endpoint: endpoint.url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  });
  afterAll(async () => {
    client.destroy();
    await endpoint.close();
    await rm(dir, { recursive: true, force: true });
  });

  const allEvents = async (): Promise<HistoryEvent[]> => {
    // The log is followed after the execution's end is told: the history is whole once its end is in it.
    for (let attempt = 0; attempt < 50; attempt++) {
      const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
      if (events!.some((event) => event.type === 'ExecutionFailed')) return events!;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('the history never ended');
  };

  it("names every event as Step Functions does, with each state's input and output", async () => {
    const events = await allEvents();
    const types = events.map((event) => event.type);
    expect(types.slice(0, 6)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskFailed',
      'TaskStateExited',
      'MapStateEntered',
      'MapIterationStarted',
    ]);
    // The two iterations run at once: their events interleave as they happen.
    expect(types.slice(6, -3).sort()).toEqual(
      ['MapIterationStarted', ...Array(2).fill(['PassStateEntered', 'PassStateExited', 'MapIterationSucceeded'])]
        .flat()
        .sort(),
    );
    expect(types.slice(-3)).toEqual(['MapStateExited', 'FailStateEntered', 'ExecutionFailed']);
    expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
    expect(events[1]!.stateEnteredEventDetails).toEqual({
      name: 'Build',
      input: JSON.stringify({ what: 'app', stages: ['unit', 'lint'] }),
    });
    expect(events[2]!.taskFailedEventDetails).toEqual({ error: 'BuildFailed', cause: 'the build broke' });
    expect(JSON.parse(events[3]!.stateExitedEventDetails!.output!)).toMatchObject({ error: { Error: 'BuildFailed' } });
    expect(
      events.filter((event) => event.type === 'MapIterationStarted').map((e) => e.mapIterationStartedEventDetails),
    ).toEqual([
      { name: 'Tests', index: 0 },
      { name: 'Tests', index: 1 },
    ]);
    expect(events.at(-1)!.executionFailedEventDetails).toEqual({ error: 'TestsFailed', cause: 'a stage failed' });
    expect(events.every((event) => event.timestamp instanceof Date)).toBe(true);
  });

  it('pages by maxResults and nextToken, newest first with reverseOrder', async () => {
    const events = await allEvents();
    const first = await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 10 }));
    const second = await client.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 10, nextToken: first.nextToken }),
    );
    expect(first.events!.map((event) => event.id)).toEqual(events.slice(0, 10).map((event) => event.id));
    expect(second.events!.map((event) => event.id)).toEqual(events.slice(10).map((event) => event.id));
    expect(second.nextToken).toBeUndefined();
    const reversed = await client.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1 }),
    );
    expect(reversed.events![0]!.type).toBe('ExecutionFailed');
  });

  it('keeps the history with the execution on disk, and refuses an unknown execution as Step Functions does', async () => {
    const events = await allEvents();
    const reloaded = new LocalStepFunctions({}, { executionsDir: join(dir, 'executions') });
    expect(reloaded.getExecutionHistory(executionArn).map((event) => event.type)).toEqual(
      events.map((event) => event.type),
    );
    await expect(
      client.send(new GetExecutionHistoryCommand({ executionArn: `${executionArn}-unknown` })),
    ).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
  });
});
