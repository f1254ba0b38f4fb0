/**
 * The local Lambda runtime through the real `@aws-sdk/client-lambda` over the local endpoint: code updates (in
 * progress for a while, refusing changes meanwhile, as Lambda's) and versions, a weighted alias routing by its weight, Lambda's refusals as the SDK's exceptions, timeouts and crashes
 * ending an environment, the metrics CloudWatch would get, and no process left behind.
 *
 * The tests of `local Lambda` run in order on one function: each starts from what the previous ones published.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvalidParameterValueException,
  InvokeCommand,
  LambdaClient,
  PreconditionFailedException,
  PublishVersionCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type InvokeCommandOutput,
} from '@aws-sdk/client-lambda';
import { startLocalEndpoint, type LocalEndpoint } from '../../local/aws-endpoint';
import { lambdaApiRoute } from '../../local/functions/lambda-api';
import { LocalMetrics } from '../../local/functions/metrics';
import { LocalFunctions } from '../../local/functions/local-lambda';

/** Every environment writes its pid into PID_DIR when it loads the code, so the test can check they all end. */
const RECORD_PID = "require('fs').writeFileSync(require('path').join(process.env.PID_DIR, String(process.pid)), '');";

/** Whether a process exists: signal 0 checks without sending anything. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * How long an update stays in progress here: long enough for the calls made "during" an update (four requests and a
 * cold start of $LATEST) to land inside it on a loaded CI machine, where 200 ms was once not.
 */
const UPDATE_MS = 1000;

describe('local Lambda', () => {
  let dir: string;
  let pidDir: string;
  let metrics: LocalMetrics;
  let functions: LocalFunctions;
  let endpoint: LocalEndpoint;
  let lambda: LambdaClient;
  /** Alias routing draws 0.2, 0.8, 0.2, ...: below a weight of 0.5, then above it. */
  let draws = 0;
  let unluckyUpdates = 0;

  const code = async (name: string, source: string) => {
    const codeDir = join(dir, name);
    await mkdir(codeDir);
    await writeFile(join(codeDir, 'index.js'), `${RECORD_PID}\n${source}\n`);
    return codeDir;
  };
  const payloadOf = (output: InvokeCommandOutput) => JSON.parse(Buffer.from(output.Payload!).toString('utf8'));
  const invoke = (FunctionName: string, Qualifier?: string, payload: unknown = {}) =>
    lambda.send(new InvokeCommand({ FunctionName, Qualifier, Payload: JSON.stringify(payload) }));
  const sum = (samples: { value: number }[]) => samples.reduce((total, sample) => total + sample.value, 0);
  const since = Date.now();
  const lambdaMetric = (metricName: string, dimensions: Record<string, string>) =>
    metrics.samples('AWS/Lambda', metricName, dimensions, since, Date.now() + 1);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-functions-'));
    pidDir = join(dir, 'pids');
    await mkdir(pidDir);
    metrics = new LocalMetrics();
    functions = new LocalFunctions({
      rootDir: join(dir, 'functions'),
      metrics,
      random: () => (draws++ % 2 === 0 ? 0.2 : 0.8),
      updateMs: UPDATE_MS,
      // Every update of "unlucky" after its first fails.
      updateOutcome: (name) =>
        name === 'unlucky' && unluckyUpdates++ > 0
          ? { reasonCode: 'EniLimitExceeded', reason: 'no network interface left' }
          : undefined,
    });
    endpoint = await startLocalEndpoint({}, {}, lambdaApiRoute(functions));
    lambda = new LambdaClient({
      endpoint: endpoint.url,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    functions.createFunction({ name: 'hello', handler: 'index.handler', environment: { PID_DIR: pidDir } });
  });
  afterAll(async () => {
    await functions.close();
    await endpoint.close();
    lambda.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes what UpdateFunctionCode put on $LATEST; republishing unchanged code answers the same version', async () => {
    const v1 = await code('v1', 'exports.handler = async () => ({ ok: 1 });');
    const v2 = await code('v2', "exports.handler = async () => { throw new Error('version 2 is broken'); };");
    // Each update is awaited to its end: publishing while it is in progress is refused (next test).
    const update = async (dir: string) => {
      const answer = await lambda.send(
        new UpdateFunctionCodeCommand({ FunctionName: 'hello', S3Bucket: 'local', S3Key: dir }),
      );
      await functions.updated('hello');
      return answer;
    };
    const publish = () => lambda.send(new PublishVersionCommand({ FunctionName: 'hello' }));

    const first = await update(pathToFileURL(v1).href);
    const published = [(await publish()).Version, (await publish()).Version];
    const second = await update(v2);
    published.push((await publish()).Version);

    expect(published).toEqual(['1', '1', '2']);
    expect(first.CodeSha256).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(second.CodeSha256).not.toBe(first.CodeSha256);
    expect(second.RevisionId).not.toBe(first.RevisionId);
  });

  it('refuses a zip file: local mode takes artifact directories', async () => {
    const zip = lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'hello', ZipFile: Buffer.from('PK') }));

    await expect(zip).rejects.toBeInstanceOf(InvalidParameterValueException);
    await expect(zip).rejects.toThrow(/artifact directory, not a zip file/);
  });

  it('routes a weighted alias to its additional version with its weight and names the executed version', async () => {
    functions.createAlias('hello', 'live', '1');
    const before = await lambda.send(new GetAliasCommand({ FunctionName: 'hello', Name: 'live' }));

    const updated = await lambda.send(
      new UpdateAliasCommand({
        FunctionName: 'hello',
        Name: 'live',
        RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } },
        RevisionId: before.RevisionId,
      }),
    );
    const outputs = [
      await invoke('hello', 'live'),
      await invoke('hello', 'live'),
      await invoke('arn:aws:lambda:local:000000000000:function:hello:live'),
      await invoke('hello', 'live'),
    ];

    expect(before.FunctionVersion).toBe('1');
    expect(before.RoutingConfig).toBeUndefined();
    expect(updated).toMatchObject({ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } });
    expect(updated.RevisionId).not.toBe(before.RevisionId);
    expect(outputs.map((output) => [output.ExecutedVersion, output.FunctionError])).toEqual([
      ['2', 'Unhandled'],
      ['1', undefined],
      ['2', 'Unhandled'],
      ['1', undefined],
    ]);
    expect(payloadOf(outputs[1]!)).toEqual({ ok: 1 });
    expect(payloadOf(outputs[0]!)).toMatchObject({
      errorType: 'Error',
      errorMessage: 'version 2 is broken',
      trace: expect.arrayContaining([expect.stringContaining('index.js')]),
    });
  });

  it("refuses a stale RevisionId, an unknown alias, and routing Lambda's rules forbid", async () => {
    const { RevisionId } = await lambda.send(new GetAliasCommand({ FunctionName: 'hello', Name: 'live' }));
    const route = (AdditionalVersionWeights: Record<string, number>, FunctionVersion?: string) =>
      lambda.send(
        new UpdateAliasCommand({
          FunctionName: 'hello',
          Name: 'live',
          FunctionVersion,
          RoutingConfig: { AdditionalVersionWeights },
        }),
      );
    await lambda.send(new UpdateAliasCommand({ FunctionName: 'hello', Name: 'live', RevisionId }));

    await expect(
      lambda.send(new UpdateAliasCommand({ FunctionName: 'hello', Name: 'live', RevisionId })),
    ).rejects.toBeInstanceOf(PreconditionFailedException);
    await expect(lambda.send(new GetAliasCommand({ FunctionName: 'hello', Name: 'nope' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    await expect(invoke('hello', 'nope')).rejects.toBeInstanceOf(ResourceNotFoundException);
    for (const refused of [
      route({ '2': 1.5 }),
      route({ '2': -0.1 }),
      route({ '1': 0.1 }),
      route({ '2': 0.1, '3': 0.1 }),
      route({ $LATEST: 0.1 }),
      route({ '1': 0.1 }, '$LATEST'),
    ]) {
      await expect(refused).rejects.toBeInstanceOf(InvalidParameterValueException);
    }
    await expect(route({ '9': 0.1 })).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(functions.getAlias('hello', 'live').routingConfig).toEqual({ additionalVersionWeights: { '2': 0.5 } });
  });

  it('publishes Invocations, Errors and Duration under each dimension set, as Lambda does', async () => {
    await invoke('hello', '1');

    const executed = (version: string) => ({ FunctionName: 'hello', Resource: 'hello:live', ExecutedVersion: version });
    expect(sum(lambdaMetric('Errors', executed('2')))).toBe(2);
    expect(sum(lambdaMetric('Invocations', executed('2')))).toBe(2);
    expect(sum(lambdaMetric('Errors', executed('1')))).toBe(0);
    expect(lambdaMetric('Errors', executed('1'))).toHaveLength(2);
    expect(sum(lambdaMetric('Invocations', { FunctionName: 'hello', Resource: 'hello:live' }))).toBe(4);
    expect(sum(lambdaMetric('Invocations', { FunctionName: 'hello', Resource: 'hello:1' }))).toBe(1);
    expect(sum(lambdaMetric('Invocations', { FunctionName: 'hello' }))).toBe(5);
    expect(sum(lambdaMetric('Errors', { FunctionName: 'hello' }))).toBe(2);
    // A metric is its exact dimension set: a version invoked directly has no ExecutedVersion metric.
    expect(lambdaMetric('Invocations', { FunctionName: 'hello', Resource: 'hello:1', ExecutedVersion: '1' })).toEqual(
      [],
    );
    const durations = lambdaMetric('Duration', { FunctionName: 'hello' });
    expect(durations).toHaveLength(5);
    expect(durations.every((sample) => sample.value >= 0 && sample.value < 1000)).toBe(true);
  });

  it("refuses changes while an update is in progress, with Lambda's ResourceConflictException; invocations run the previous code", async () => {
    const v3 = await code('v3', 'exports.handler = async () => ({ ok: 3 });');
    const arn = 'arn:aws:lambda:local:000000000000:function:hello';
    const inProgress = `The operation cannot be performed at this time. An update is in progress for resource: ${arn}`;

    const started = await lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: 'hello', S3Bucket: 'local', S3Key: v3 }),
    );
    // Everything "during" is sent at once, so that it all lands inside the update.
    const [during, invokedDuring, ...refusals] = await Promise.allSettled([
      lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'hello' })),
      invoke('hello'),
      lambda.send(new PublishVersionCommand({ FunctionName: 'hello' })),
      lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'hello', S3Bucket: 'local', S3Key: v3 })),
      lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'hello', Timeout: 5 })),
    ]);
    await functions.updated('hello');
    const after = await lambda.send(new GetFunctionCommand({ FunctionName: 'hello' }));
    const invokedAfter = await invoke('hello');

    expect(started).toMatchObject({ State: 'Active', LastUpdateStatus: 'InProgress' });
    expect(during).toMatchObject({ status: 'fulfilled', value: { State: 'Active', LastUpdateStatus: 'InProgress' } });
    for (const refusal of refusals) {
      expect(refusal).toMatchObject({ status: 'rejected', reason: expect.any(ResourceConflictException) });
      const reason = (refusal as PromiseRejectedResult).reason as ResourceConflictException;
      expect(reason.message).toBe(inProgress);
      expect(reason.$metadata.httpStatusCode).toBe(409);
    }
    // Version 2's code (it throws) is $LATEST until the update ends.
    expect(invokedDuring).toMatchObject({ status: 'fulfilled', value: { FunctionError: 'Unhandled' } });
    expect(after.Configuration).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful' });
    expect(payloadOf(invokedAfter)).toEqual({ ok: 3 });
  });

  it("a configuration update is in progress too; a failed update keeps the previous code and configuration, with Lambda's reason", async () => {
    functions.createFunction({ name: 'unlucky', handler: 'index.handler', environment: { PID_DIR: pidDir } });
    functions.updateFunctionCode('unlucky', await code('unlucky-v0', 'exports.handler = async () => ({ ok: 0 });'));
    await functions.updated('unlucky');
    const landed = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'unlucky' }));

    await lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: 'unlucky',
        S3Bucket: 'local',
        S3Key: await code('unlucky-v1', 'exports.handler = async () => ({ ok: 1 });'),
      }),
    );
    await functions.updated('unlucky');
    const codeFailed = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'unlucky' }));
    const configuring = await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'unlucky', Timeout: 7 }),
    );
    await functions.updated('unlucky');
    const configurationFailed = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'unlucky' }));

    expect(landed).toMatchObject({ LastUpdateStatus: 'Successful', Timeout: 3 });
    expect(codeFailed).toMatchObject({
      LastUpdateStatus: 'Failed',
      LastUpdateStatusReasonCode: 'EniLimitExceeded',
      LastUpdateStatusReason: 'no network interface left',
      CodeSha256: landed.CodeSha256,
    });
    expect(payloadOf(await invoke('unlucky'))).toEqual({ ok: 0 });
    expect(configuring).toMatchObject({ LastUpdateStatus: 'InProgress', Timeout: 3 });
    expect(configurationFailed).toMatchObject({ LastUpdateStatus: 'Failed', Timeout: 3 });
  });

  it('ends a handler past its timeout and answers the next invocation from a new environment', async () => {
    const pidsBefore = (await readdir(pidDir)).map(Number);
    functions.createFunction({
      name: 'sleepy',
      handler: 'index.handler',
      timeoutSeconds: 1,
      environment: { PID_DIR: pidDir },
    });
    functions.updateFunctionCode(
      'sleepy',
      await code(
        'sleepy',
        `exports.handler = async (event) => {
          if (event.sleep) await new Promise((resolve) => setTimeout(resolve, 10000));
          if (event.exit) process.exit(3);
          return { pid: process.pid };
        };`,
      ),
    );
    await functions.updated('sleepy');

    const timedOut = await invoke('sleepy', undefined, { sleep: true });
    const [killed] = (await readdir(pidDir)).map(Number).filter((pid) => !pidsBefore.includes(pid));
    const next = await invoke('sleepy');

    expect(timedOut).toMatchObject({ ExecutedVersion: '$LATEST', FunctionError: 'Unhandled' });
    expect(payloadOf(timedOut)).toMatchObject({ errorMessage: 'Task timed out after 1.00 seconds' });
    expect(isAlive(killed!)).toBe(false);
    expect(next.FunctionError).toBeUndefined();
    expect(payloadOf(next)).toEqual({ pid: expect.any(Number) });
    expect(payloadOf(next).pid).not.toBe(killed);
    expect(sum(lambdaMetric('Duration', { FunctionName: 'sleepy' }))).toBeGreaterThanOrEqual(1000);
  });

  it('restarts an environment whose process exited', async () => {
    const before = payloadOf(await invoke('sleepy'));

    const crashed = await invoke('sleepy', undefined, { exit: true });
    const after = payloadOf(await invoke('sleepy'));

    expect(crashed.FunctionError).toBe('Unhandled');
    expect(payloadOf(crashed)).toMatchObject({
      errorType: 'Runtime.ExitError',
      errorMessage: expect.stringMatching(/Runtime exited with error: exit status 3$/),
    });
    expect(after.pid).not.toBe(before.pid);
  });

  it('close() ends every environment process', async () => {
    const pids = (await readdir(pidDir)).map(Number);
    const aliveBefore = pids.filter(isAlive);

    await functions.close();

    // $LATEST of sleepy is alive; versions 1 and 2 of hello too.
    expect(aliveBefore.length).toBeGreaterThanOrEqual(3);
    expect(pids.filter(isAlive)).toEqual([]);
  });
});

describe('an idle environment', () => {
  it('ends after the idle timeout, and the next invocation starts a new one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stepline-functions-idle-'));
    const functions = new LocalFunctions({
      rootDir: join(dir, 'functions'),
      metrics: new LocalMetrics(),
      idleTimeoutMs: 50,
      updateMs: 0,
    });
    try {
      await mkdir(join(dir, 'code'));
      await writeFile(join(dir, 'code', 'index.js'), 'exports.handler = async () => process.pid;');
      functions.createFunction({ name: 'idle', handler: 'index.handler' });
      functions.updateFunctionCode('idle', join(dir, 'code'));

      const first = (await functions.invoke('idle', undefined, {})).payload as number;
      await new Promise((resolve) => setTimeout(resolve, 300));
      const ended = !isAlive(first);
      const second = (await functions.invoke('idle', undefined, {})).payload as number;

      expect(ended).toBe(true);
      expect(second).not.toBe(first);
    } finally {
      await functions.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('LocalMetrics', () => {
  it('matches a metric by its exact dimension set, in any order', () => {
    const metrics = new LocalMetrics({ now: () => 10_000 });
    const dimensions = { FunctionName: 'f', Resource: 'f:live' };

    metrics.put({ namespace: 'AWS/Lambda', metricName: 'Errors', dimensions, value: 1, timestamp: 5_000 });

    expect(metrics.samples('AWS/Lambda', 'Errors', { Resource: 'f:live', FunctionName: 'f' }, 0, 10_000)).toEqual([
      { timestamp: 5_000, value: 1 },
    ]);
    expect(metrics.samples('AWS/Lambda', 'Errors', { FunctionName: 'f' }, 0, 10_000)).toEqual([]);
    expect(metrics.samples('AWS/Lambda', 'Errors', dimensions, 0, 5_000)).toEqual([]);
  });

  it('drops samples older than the retention and keeps them ordered by time', () => {
    let now = 100_000;
    const metrics = new LocalMetrics({ retentionMs: 60_000, now: () => now });
    const put = (timestamp: number, value: number) =>
      metrics.put({ namespace: 'N', metricName: 'M', dimensions: {}, value, timestamp });

    put(30_000, 1); // already past the retention
    put(90_000, 3);
    put(50_000, 2);
    const ordered = metrics.samples('N', 'M', {}, 0, now);
    now = 120_000;

    expect(ordered).toEqual([
      { timestamp: 50_000, value: 2 },
      { timestamp: 90_000, value: 3 },
    ]);
    expect(metrics.samples('N', 'M', {}, 0, now)).toEqual([{ timestamp: 90_000, value: 3 }]);
  });
});
