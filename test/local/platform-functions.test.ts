/**
 * The platform's functions as local mode serves them from their one declaration: every declared entry
 * is a handler module both runtimes build, invoked by rules and schedules as Lambda's asynchronous
 * invocation does; local Lambda's Invoke of a platform function answers as
 * Lambda does, a thrown error included, so that an operator's control and its refusal take, through the
 * real Lambda client, the one path they take on AWS.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ControlRefusedError } from '../../core/deployment/errors';
import { PLATFORM_FUNCTIONS } from '../../core/platform-functions';
import type { DeploymentControl } from '../../core/schemas';
import { controlDeployment } from '../../lambdas/adapters/deploy-function';
import { startLocalEndpoint, type LocalEndpoint } from '../../local/aws-endpoint';
import { lambdaApiRoute } from '../../local/functions/lambda-api';
import { LocalMetrics } from '../../local/functions/metrics';
import { LocalFunctions } from '../../local/functions/local-lambda';
import { LocalEventBus } from '../../local/event-bus';
import { LocalOutbox } from '../../local/outbox';
import {
  LocalPlatformFunctions,
  loadHandlerModule,
  localFunctionArn,
  localPlatform,
  type AsyncInvocation,
} from '../../local/platform-functions';
import { TimeScale } from '../../local/time-scale';

describe('the declared platform functions', () => {
  it.each(Object.entries(PLATFORM_FUNCTIONS))(
    '%s: its entry exports handler (AWS) and handlerOn (both runtimes)',
    (_, declared) => {
      const loaded = loadHandlerModule(declared.entry);
      expect(loaded.handler).toEqual(expect.any(Function));
      expect(loaded.handlerOn).toEqual(expect.any(Function));
    },
  );

  it('refuses an entry that is not a handler module, naming what it must export', () => {
    expect(() => loadHandlerModule('core/platform.ts')).toThrow(
      'core/platform.ts must export handlerOn(platform, log) and handler (lambdas/environment.ts)',
    );
  });
});

describe("local Lambda's Invoke of a platform function", () => {
  const DEPLOY = PLATFORM_FUNCTIONS.deploy.localName;
  const control: DeploymentControl = {
    runId: 'web-run',
    action: 'resume',
    by: 'arn:aws:sts::000000000000:assumed-role/stepline-local/eve@example.com',
    reason: 'the fix is out',
  };
  const deployment: ConstructorParameters<typeof ControlRefusedError>[1] = {
    runId: 'web-run',
    pipeline: 'web',
    function: 'web',
    alias: 'live',
    fromVersion: '1',
    toVersion: '2',
    steps: [{ weight: 0.5, bakeSeconds: 60 }],
    step: 0,
    status: 'IN_PROGRESS',
    alarms: [],
    alarmsSeen: [],
    interventions: [],
    startedAt: '2026-11-25T09:31:00.000Z',
  };
  let dir: string;
  let functions: LocalFunctions;
  let endpoint: LocalEndpoint;
  let lambda: LambdaClient;
  /** What the in-process deploy function does with each event, and the events it was given. */
  let answer: (event: unknown) => Promise<unknown>;
  let received: unknown[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-platform-functions-'));
    functions = new LocalFunctions({ rootDir: join(dir, 'functions'), metrics: new LocalMetrics() });
    const deploy = async (event: unknown) => {
      received.push(event);
      return answer(event);
    };
    endpoint = await startLocalEndpoint(
      {},
      {},
      lambdaApiRoute(functions, (name) => (name === DEPLOY ? deploy : undefined)),
    );
    lambda = new LambdaClient({
      endpoint: endpoint.url,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });
  beforeEach(() => (received = []));
  afterAll(async () => {
    lambda.destroy();
    await functions.close();
    await endpoint.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers a thrown error as Lambda does: status 200, FunctionError Unhandled, the error's type, message and trace", async () => {
    answer = async () => {
      throw new ControlRefusedError('resume', deployment);
    };
    const invoked = await lambda.send(
      new InvokeCommand({ FunctionName: localFunctionArn(DEPLOY), Payload: Buffer.from('{"kind":"control"}') }),
    );
    expect(invoked.StatusCode).toBe(200);
    expect(invoked.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(invoked.Payload!).toString('utf8'))).toEqual({
      errorType: 'ControlRefusedError',
      errorMessage:
        'cannot resume the deployment of web:live (run web-run): it is IN_PROGRESS; only a PAUSED deployment resumes',
      trace: expect.arrayContaining([expect.stringContaining('ControlRefusedError: cannot resume')]),
    });
    expect(received).toEqual([{ kind: 'control' }]);
  });

  it("hands an operator's control to the deploy function and answers with the deployment's status", async () => {
    answer = async () => ({ status: 'IN_PROGRESS', outcome: '' });
    await expect(controlDeployment(lambda, localFunctionArn(DEPLOY), control)).resolves.toEqual({
      status: 'IN_PROGRESS',
      outcome: '',
    });
    expect(received).toEqual([{ kind: 'control', ...control }]);
  });

  it("matches the deploy function's refusal by its error's name, and fails on any other error", async () => {
    answer = async () => {
      throw new ControlRefusedError('resume', deployment);
    };
    await expect(controlDeployment(lambda, localFunctionArn(DEPLOY), control)).resolves.toEqual({
      refused:
        'cannot resume the deployment of web:live (run web-run): it is IN_PROGRESS; only a PAUSED deployment resumes',
    });
    answer = async () => {
      throw new RangeError('the store is gone');
    };
    await expect(controlDeployment(lambda, localFunctionArn(DEPLOY), control)).rejects.toThrow(
      'the deploy function failed: RangeError: the store is gone',
    );
  });

  it('serves the platform function itself ($LATEST), not a version or alias of it', async () => {
    answer = async () => ({});
    await expect(
      lambda.send(new InvokeCommand({ FunctionName: localFunctionArn(DEPLOY), Qualifier: 'live' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(received).toEqual([]);
  });
});

describe("a platform function's asynchronous invocation in local mode", () => {
  let dir: string;
  let functions: LocalPlatformFunctions | undefined;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'stepline-async-'))));
  afterEach(async () => {
    await functions?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs a failing function three times in all (two retries, as Lambda does), then fails; observers see one invocation', async () => {
    const invocations: AsyncInvocation[] = [];
    const taskFunctions = new Map<string, (event: unknown) => Promise<unknown>>();
    functions = await LocalPlatformFunctions.start({
      // Nothing here reaches a client: the notifier refuses the event before any call.
      platform: localPlatform({
        endpointUrl: 'http://127.0.0.1:9',
        storeEndpoint: 'http://127.0.0.1:9',
        stateDir: dir,
        outbox: new LocalOutbox(join(dir, 'outbox')),
        now: () => new Date(),
        timeScale: TimeScale.REAL,
      }),
      buses: { default: new LocalEventBus(), platform: new LocalEventBus() },
      logDir: join(dir, 'functions'),
      now: () => new Date(),
      taskFunctions,
      onInvoked: (invocation) => invocations.push(invocation),
    });

    const event = { kind: 'RunEnded', runId: '' };
    await expect(functions.invokeAsync('notify', event)).rejects.toThrow('invalid run event');

    expect(invocations).toEqual([{ name: 'notify', event, result: expect.any(Promise) }]);
    const attempts = (await readFile(join(dir, 'functions', 'stepline-notify.log'), 'utf8')).trim().split('\n');
    expect(attempts.map((line) => (JSON.parse(line) as { message: string }).message)).toEqual([
      'notifications not delivered',
      'notifications not delivered',
      'notifications not delivered',
    ]);
    // Every declared function is registered under its local ARN for the Task adapters.
    expect([...taskFunctions.keys()].sort()).toEqual(
      Object.values(PLATFORM_FUNCTIONS)
        .map(({ localName }) => localFunctionArn(localName))
        .sort(),
    );
  });
});
