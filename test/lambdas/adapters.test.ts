/** The AWS adapters of the handlers' ports, against mocked SDK clients: exact request shapes. */
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetBuildsCommand,
  BatchGetReportsCommand,
  CodeBuildClient,
  DescribeTestCasesCommand,
} from '@aws-sdk/client-codebuild';
import {
  CodeCommitClient,
  BranchDoesNotExistException,
  CommitDoesNotExistException,
  CommitIdDoesNotExistException,
  GetBranchCommand,
  GetCommitCommand,
  RepositoryDoesNotExistException,
  GetDifferencesCommand,
} from '@aws-sdk/client-codecommit';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, GetParametersByPathCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { createHmac } from 'node:crypto';
import { mockClient } from 'aws-sdk-client-mock';
import {
  BranchNotFoundError,
  CommitNotFoundError,
  InvalidCatalogEntryError,
  BusEventsRefusedError,
} from '../../core/errors';
import type { SourceChanged } from '../../core/records';
import { CodeBuildInspector } from '../../lambdas/adapters/build-inspector';
import { CodeCommitReader } from '../../lambdas/adapters/commit-reader';
import { SfnExecutionStarter } from '../../lambdas/adapters/execution-starter';
import { SsmPipelineCatalog } from '../../lambdas/adapters/pipeline-catalog';
import { EventBridgeSourcePublisher } from '../../lambdas/adapters/bus-publishers';
import { CachedSecret } from '../../lambdas/adapters/secrets';
import { hubSignatureMatches } from '../../lambdas/adapters/webhook-signature';

const codebuild = mockClient(CodeBuildClient);
const logs = mockClient(CloudWatchLogsClient);
const codecommit = mockClient(CodeCommitClient);
const sfn = mockClient(SFNClient);
const ssm = mockClient(SSMClient);
const eventbridge = mockClient(EventBridgeClient);
const secrets = mockClient(SecretsManagerClient);
beforeEach(() => [codebuild, logs, codecommit, sfn].forEach((m) => m.reset()));

describe('CodeBuildInspector', () => {
  const inspector = () => new CodeBuildInspector(new CodeBuildClient({}), new CloudWatchLogsClient({}));

  it('describes a failed build with its failed phase and test summary', async () => {
    codebuild.on(BatchGetBuildsCommand).resolves({
      builds: [
        {
          id: 'p:1',
          buildStatus: 'FAILED',
          startTime: new Date(1_000),
          endTime: new Date(4_500),
          logs: { groupName: '/aws/codebuild/p', streamName: '1', deepLink: 'https://console/x' },
          phases: [
            { phaseType: 'INSTALL', phaseStatus: 'SUCCEEDED' },
            {
              phaseType: 'BUILD',
              phaseStatus: 'FAILED',
              contexts: [{ statusCode: 'COMMAND_EXECUTION_ERROR', message: 'Error while executing command: npm test' }],
            },
          ],
          reportArns: ['arn:report/1'],
        },
      ],
    });
    codebuild.on(BatchGetReportsCommand).resolves({
      reports: [
        {
          arn: 'arn:report/1',
          testSummary: {
            total: 5,
            statusCounts: { SUCCEEDED: 3, FAILED: 1, SKIPPED: 1 },
            durationInNanoSeconds: 2.5e9,
          },
        },
      ],
    });
    codebuild.on(DescribeTestCasesCommand).resolves({
      testCases: [
        {
          reportArn: 'arn:report/1',
          name: 'adds',
          prefix: 'math.Spec',
          testSuiteName: 'unit',
          status: 'FAILED',
          message: 'expected 3 to be 4',
        },
      ],
    });

    const build = await inspector().describeBuild('p:1');

    expect(codebuild.commandCalls(BatchGetBuildsCommand)[0]!.args[0].input).toEqual({ ids: ['p:1'] });
    expect(codebuild.commandCalls(BatchGetReportsCommand)[0]!.args[0].input).toEqual({ reportArns: ['arn:report/1'] });
    // Only the statuses the report counts are asked for: FAILED here, no ERROR.
    expect(codebuild.commandCalls(DescribeTestCasesCommand).map((c) => c.args[0].input)).toEqual([
      { reportArn: 'arn:report/1', filter: { status: 'FAILED' }, maxResults: 10 },
    ]);
    expect(build).toEqual({
      id: 'p:1',
      status: 'FAILED',
      startTime: new Date(1_000),
      endTime: new Date(4_500),
      logs: { groupName: '/aws/codebuild/p', streamName: '1', deepLink: 'https://console/x' },
      failedPhase: {
        type: 'BUILD',
        status: 'FAILED',
        context: 'COMMAND_EXECUTION_ERROR: Error while executing command: npm test',
      },
      tests: {
        total: 5,
        passed: 3,
        failed: 1,
        skipped: 1,
        other: 0,
        durationMs: 2500,
        reports: ['arn:report/1'],
        failures: [{ name: 'adds', suite: 'unit › math.Spec', status: 'FAILED', message: 'expected 3 to be 4' }],
      },
    });
  });

  it('does not ask for reports a build did not produce, and refuses an unknown build', async () => {
    codebuild
      .on(BatchGetBuildsCommand, { ids: ['p:2'] })
      .resolves({ builds: [{ id: 'p:2', buildStatus: 'SUCCEEDED' }] });
    codebuild.on(BatchGetBuildsCommand, { ids: ['nope'] }).resolves({ builds: [], buildsNotFound: ['nope'] });
    expect((await inspector().describeBuild('p:2')).tests).toBeUndefined();
    expect(codebuild.commandCalls(BatchGetReportsCommand)).toHaveLength(0);
    await expect(inspector().describeBuild('nope')).rejects.toThrow('CodeBuild does not know build nope');
  });

  it('reads the tail of a log from CloudWatch Logs, newest last', async () => {
    logs.on(GetLogEventsCommand).resolves({ events: [{ message: 'a\n' }, { message: 'b\nc\n' }] });
    const tail = await inspector().logTail({ groupName: '/aws/codebuild/p', streamName: '1' }, 2);
    expect(logs.commandCalls(GetLogEventsCommand)[0]!.args[0].input).toEqual({
      logGroupName: '/aws/codebuild/p',
      logStreamName: '1',
      startFromHead: false,
      limit: 2,
    });
    expect(tail).toEqual(['b', 'c']);
  });
});

describe('CodeCommitReader', () => {
  it('reads author and message of a commit', async () => {
    codecommit.on(GetCommitCommand).resolves({
      commit: { message: 'Fix it\n', author: { name: 'Ada', email: 'ada@example.com', date: '1 +0000' } },
    });
    const commit = await new CodeCommitReader(new CodeCommitClient({})).getCommit('repo', 'abc');
    expect(codecommit.commandCalls(GetCommitCommand)[0]!.args[0].input).toEqual({
      repositoryName: 'repo',
      commitId: 'abc',
    });
    expect(commit).toEqual({ author: { name: 'Ada', email: 'ada@example.com' }, message: 'Fix it' });
  });

  it('lists the changed files of a push, every page, both paths of a rename', async () => {
    codecommit
      .on(GetDifferencesCommand, { NextToken: undefined })
      .resolves({
        differences: [
          { afterBlob: { path: 'src/a.ts' } },
          { beforeBlob: { path: 'old.ts' }, afterBlob: { path: 'new.ts' } },
        ],
        NextToken: 'page2',
      })
      .on(GetDifferencesCommand, { NextToken: 'page2' })
      .resolves({ differences: [{ beforeBlob: { path: 'gone.ts' } }] });
    const files = await new CodeCommitReader(new CodeCommitClient({})).changedFiles('repo', 'before', 'after');
    expect(codecommit.commandCalls(GetDifferencesCommand).map((c) => c.args[0].input)).toEqual([
      { repositoryName: 'repo', beforeCommitSpecifier: 'before', afterCommitSpecifier: 'after', NextToken: undefined },
      { repositoryName: 'repo', beforeCommitSpecifier: 'before', afterCommitSpecifier: 'after', NextToken: 'page2' },
    ]);
    expect(files).toEqual(['src/a.ts', 'old.ts', 'new.ts', 'gone.ts']);
  });

  it("answers CodeCommit's CommitDoesNotExistException as CommitNotFoundError, and lets others through", async () => {
    const reader = new CodeCommitReader(new CodeCommitClient({}));
    codecommit.on(GetCommitCommand).rejects(new CommitDoesNotExistException({ message: 'gone', $metadata: {} }));
    await expect(reader.getCommit('repo', 'abc')).rejects.toThrow(CommitNotFoundError);
    await expect(reader.getCommit('repo', 'abc')).rejects.toThrow('commit abc does not exist in repository repo');
    codecommit.on(GetCommitCommand).rejects(new Error('ThrottlingException'));
    await expect(reader.getCommit('repo', 'abc')).rejects.toThrow('ThrottlingException');
  });

  it("answers GetCommit's own CommitIdDoesNotExistException (its API reference's name) as CommitNotFoundError", async () => {
    codecommit.on(GetCommitCommand).rejects(new CommitIdDoesNotExistException({ message: 'gone', $metadata: {} }));
    await expect(new CodeCommitReader(new CodeCommitClient({})).getCommit('repo', 'abc')).rejects.toThrow(
      CommitNotFoundError,
    );
  });

  it("records the committer's date, CodeCommit's epoch seconds with an offset, as ISO 8601", async () => {
    codecommit.on(GetCommitCommand).resolves({
      commit: {
        message: 'Fix it',
        author: { name: 'Ada', email: 'ada@example.com', date: '1484160000 -0800' },
        committer: { name: 'Bob', email: 'bob@example.com', date: '1484167798 -0800' },
      },
    });
    const commit = await new CodeCommitReader(new CodeCommitClient({})).getCommit('repo', 'abc');
    expect(commit.committedAt).toBe('2017-01-11T20:49:58.000Z');
  });

  it("reads a branch's head with GetBranch, a missing branch or repository as BranchNotFoundError", async () => {
    const reader = new CodeCommitReader(new CodeCommitClient({}));
    codecommit.on(GetBranchCommand).resolves({ branch: { branchName: 'main', commitId: 'c0ffee' } });
    expect(await reader.head('repo', 'main')).toBe('c0ffee');
    expect(codecommit.commandCalls(GetBranchCommand)[0]!.args[0].input).toEqual({
      repositoryName: 'repo',
      branchName: 'main',
    });
    codecommit.on(GetBranchCommand).rejects(new BranchDoesNotExistException({ message: 'no', $metadata: {} }));
    await expect(reader.head('repo', 'main')).rejects.toThrow('branch main does not exist in repository repo');
    codecommit.on(GetBranchCommand).rejects(new RepositoryDoesNotExistException({ message: 'no', $metadata: {} }));
    await expect(reader.head('repo', 'main')).rejects.toThrow(BranchNotFoundError);
    await expect(reader.head('repo', 'main')).rejects.toThrow('repository repo does not exist');
  });
});

describe('SfnExecutionStarter', () => {
  const request = {
    stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:stepline-web',
    name: 'web-0123456789ab-0badcafe',
    input: {
      runId: 'web-0123456789ab-0badcafe',
      pipeline: 'web',
      commit: { repository: 'web', branch: 'main', id: '0123456789ab' },
      stages: { build: { name: 'build', project: 'stepline-web-build' }, tests: [], testConcurrency: 0 },
    },
  };

  it('starts the execution under the run id', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date() });
    const started = await new SfnExecutionStarter(new SFNClient({})).start(request);
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toEqual({
      stateMachineArn: request.stateMachineArn,
      name: request.name,
      input: JSON.stringify(request.input),
    });
    expect(started).toEqual({ executionArn: 'arn:exec', alreadyStarted: false });
  });

  it('answers a taken name as already started, with the execution ARN', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const started = await new SfnExecutionStarter(new SFNClient({})).start(request);
    expect(started).toEqual({
      executionArn: 'arn:aws:states:eu-west-1:111122223333:execution:stepline-web:web-0123456789ab-0badcafe',
      alreadyStarted: true,
    });
  });

  it('lets other errors through', async () => {
    sfn.on(StartExecutionCommand).rejects(new Error('AccessDenied'));
    await expect(new SfnExecutionStarter(new SFNClient({})).start(request)).rejects.toThrow('AccessDenied');
  });
});

describe('SsmPipelineCatalog', () => {
  const entry = {
    stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:stepline-web',
    source: { kind: 'github', repository: 'octo/web' },
    stages: { build: { name: 'build', project: 'stepline-web-build' }, tests: [], testConcurrency: 2 },
    filters: { branches: ['main'], tags: false, skipMarkers: ['[skip ci]'] },
    executionMode: 'QUEUED',
  };
  let clock: number;
  const catalog = () => new SsmPipelineCatalog(new SSMClient({}), '/stepline/pipelines', () => new Date(clock), 1000);
  beforeEach(() => {
    ssm.reset();
    clock = 0;
  });

  it("reads the pipeline's parameter under the catalog path and parses its entry", async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(entry) } });
    expect(await catalog().lookup('web')).toEqual(entry);
    expect(ssm.commandCalls(GetParameterCommand).map((c) => c.args[0].input)).toEqual([
      { Name: '/stepline/pipelines/web' },
    ]);
  });

  it('keeps an entry for its cache time, then reads it again', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(entry) } });
    const cached = catalog();
    await cached.lookup('web');
    clock = 999;
    await cached.lookup('web');
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
    clock = 1000;
    await cached.lookup('web');
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it('answers an unknown pipeline with undefined, and does not cache the miss', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: '', $metadata: {} }));
    const cached = catalog();
    expect(await cached.lookup('api')).toBeUndefined();
    expect(await cached.lookup('api')).toBeUndefined();
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it('refuses an entry that is not one, naming the pipeline and the parameter', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '{"stateMachineArn":"x"}' } });
    await expect(catalog().lookup('web')).rejects.toThrow(InvalidCatalogEntryError);
    await expect(catalog().lookup('web')).rejects.toThrow(
      'the catalog entry of pipeline "web" at /stepline/pipelines/web is not valid (invalid catalog entry: source: Invalid input: expected object, received undefined; stages: Invalid input: expected object, received undefined; filters: Invalid input: expected object, received undefined; executionMode: Invalid option: expected one of "QUEUED"|"SUPERSEDED"|"PARALLEL"); redeploy its stack',
    );
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'not json' } });
    await expect(catalog().lookup('web')).rejects.toThrow(
      /^the catalog entry of pipeline "web" .* is not valid \(Unexpected token/,
    );
  });

  it('lets other errors through', async () => {
    ssm.on(GetParameterCommand).rejects(new Error('AccessDeniedException'));
    await expect(catalog().lookup('web')).rejects.toThrow('AccessDeniedException');
  });
});

describe('SsmPipelineCatalog listing', () => {
  const entry = (repository: string) => ({
    stateMachineArn: `arn:aws:states:eu-west-1:111122223333:stateMachine:stepline-${repository}`,
    source: { kind: 'codecommit', repository },
    stages: { build: { name: 'build', project: `stepline-${repository}-build` }, tests: [], testConcurrency: 0 },
    filters: { branches: ['main'], tags: false, skipMarkers: [] },
    executionMode: 'PARALLEL',
  });
  let clock = 0;
  beforeEach(() => {
    ssm.reset();
    clock = 0;
  });

  it('reads every page of the catalog path, once per cache time', async () => {
    ssm
      .on(GetParametersByPathCommand, { Path: '/stepline/pipelines', MaxResults: 10, NextToken: undefined })
      .resolves({ Parameters: [{ Name: '/stepline/pipelines/a', Value: JSON.stringify(entry('a')) }], NextToken: 'p2' })
      .on(GetParametersByPathCommand, { Path: '/stepline/pipelines', MaxResults: 10, NextToken: 'p2' })
      .resolves({ Parameters: [{ Name: '/stepline/pipelines/b', Value: JSON.stringify(entry('b')) }] });
    const catalog = new SsmPipelineCatalog(new SSMClient({}), '/stepline/pipelines', () => new Date(clock), 1000);
    expect(new Map(await catalog.list())).toEqual(
      new Map([
        ['a', entry('a')],
        ['b', entry('b')],
      ]),
    );
    clock = 999;
    await catalog.list();
    expect(ssm.commandCalls(GetParametersByPathCommand).map((c) => c.args[0].input)).toEqual([
      { Path: '/stepline/pipelines', MaxResults: 10 },
      { Path: '/stepline/pipelines', MaxResults: 10, NextToken: 'p2' },
    ]);
  });
});

describe('EventBridgeSourcePublisher', () => {
  const change = (pipeline: string): SourceChanged => ({
    pipeline,
    repository: 'octo/web',
    branch: 'main',
    referenceType: 'branch',
    commitId: 'a'.repeat(40),
    trigger: { kind: 'github', deliveryId: 'd-1', eventTime: '2026-11-25T09:00:00Z' },
  });
  beforeEach(() => eventbridge.reset());

  it('puts SourceChanged events on the bus, ten per call', async () => {
    eventbridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ({ EventId: String(i) })),
    }));
    const pipelines = Array.from({ length: 12 }, (_, i) => `p${i}`);
    await new EventBridgeSourcePublisher(new EventBridgeClient({}), 'stepline').publish(pipelines.map(change));
    const calls = eventbridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!);
    expect(calls.map((entries) => entries.length)).toEqual([10, 2]);
    expect(calls[0]![0]).toEqual({
      EventBusName: 'stepline',
      Source: 'stepline.sources',
      DetailType: 'SourceChanged',
      Detail: JSON.stringify(change('p0')),
    });
  });

  it('throws when EventBridge refuses an entry, naming the pipeline and the error', async () => {
    eventbridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ EventId: '1' }, { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });
    const publish = new EventBridgeSourcePublisher(new EventBridgeClient({}), 'stepline').publish([
      change('a'),
      change('b'),
    ]);
    await expect(publish).rejects.toThrow(BusEventsRefusedError);
    await expect(publish).rejects.toThrow(
      "the platform's bus refused 1 SourceChanged event(s): b: InternalFailure try again",
    );
  });
});

describe('the webhook secret and its signature', () => {
  beforeEach(() => secrets.reset());

  it('reads the secret once per 5 minutes, and again after a failed read', async () => {
    let clock = 0;
    secrets
      .on(GetSecretValueCommand)
      .rejectsOnce(new Error('ThrottlingException'))
      .resolves({ SecretString: 's3cret' });
    const secret = new CachedSecret(
      new SecretsManagerClient({}),
      'stepline/github-webhook-secret',
      () => new Date(clock),
    );
    await expect(secret.value()).rejects.toThrow('ThrottlingException');
    expect(await secret.value()).toBe('s3cret');
    clock = 299_999;
    expect(await secret.value()).toBe('s3cret');
    clock = 300_000;
    expect(await secret.value()).toBe('s3cret');
    expect(secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual(
      Array(3).fill({ SecretId: 'stepline/github-webhook-secret' }),
    );
  });

  it('reads a rotated secret again on request, at most every 30 s', async () => {
    let clock = 0;
    secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'old' }).resolves({ SecretString: 'new' });
    const secret = new CachedSecret(
      new SecretsManagerClient({}),
      'stepline/github-webhook-secret',
      () => new Date(clock),
    );
    expect(await secret.value()).toBe('old');
    clock = 29_999;
    expect(secret.refreshed()).toBeUndefined();
    clock = 30_000;
    expect(await secret.refreshed()).toBe('new');
    expect(await secret.value()).toBe('new');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it("matches GitHub's X-Hub-Signature-256 over the exact bytes, and nothing else", () => {
    // GitHub's documented example: secret "It's a Secret to Everybody", payload "Hello, World!".
    const body = Buffer.from('Hello, World!');
    const signature = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(hubSignatureMatches("It's a Secret to Everybody", body, signature)).toBe(true);
    expect(hubSignatureMatches("It's a Secret to Everybody", Buffer.from('Hello, World?'), signature)).toBe(false);
    expect(hubSignatureMatches('another secret', body, signature)).toBe(false);
    expect(hubSignatureMatches("It's a Secret to Everybody", body, signature.toUpperCase())).toBe(false);
    expect(hubSignatureMatches("It's a Secret to Everybody", body, signature.replace('sha256=', 'sha1='))).toBe(false);
    expect(hubSignatureMatches("It's a Secret to Everybody", body, 'sha256=')).toBe(false);
    const own = createHmac('sha256', 'k').update(body).digest('hex');
    expect(hubSignatureMatches('k', body, `sha256=${own}`)).toBe(true);
  });
});
