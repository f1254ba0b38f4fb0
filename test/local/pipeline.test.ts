/**
 * The pipeline state machine executed end to end in local mode: a push to the local repository,
 * the CodeCommit-shaped event, the run starter, statemachines/pipeline.asl.json on
 * aws-local-stepfunctions, the real build runner, the recorder, and the run store on dynalite.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { LOCAL_CREDENTIALS } from '../../local/constants';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidRequestError } from '../../core/errors';
import type { BuildRunner } from '../../local/codebuild';
import { LocalBuildRunner } from '../../local/build-runner';
import { codeCommitEvent, LocalRuntime, type DeliveryProblem } from '../../local/runtime';
import { parseConfig } from '../../core/config/stepline-config';
import { taskError } from '../../local/aws-errors';
import { runEventTrigger } from '../../core/sources/source-events';
import { buildspecs, demoPipeline, junit, passingSeed, startFixture, type Fixture } from '../support/pipeline-fixture';
import { queuedRun } from '../support/records';

/** The event CodeCommit sends when a push creates a branch of the demo repository. */
const branchCreated = (commitId: string, ref = 'refs/heads/main') =>
  codeCommitEvent({ repository: 'demo', oldCommitId: '0'.repeat(40), commitId, ref });

describe('pipeline run in local mode', () => {
  let fixture: Fixture;
  afterEach(() => fixture?.close());

  async function pushAndRun(files: Record<string, string>) {
    const commitId = await fixture.push(files);
    const [started] = await fixture.runtime.runsStartedFor(commitId);
    expect(started).toBeDefined();
    const run = await fixture.runtime.waitForRun(started!.runId);
    const stages = await fixture.runtime.store.listStages(run.runId);
    return { commitId, run, stages: Object.fromEntries(stages.map((s) => [s.name, s])) };
  }

  it('runs build then both test stages and records every step (happy path)', async () => {
    fixture = await startFixture();
    const { commitId, run, stages } = await pushAndRun(passingSeed);

    expect(run).toMatchObject({
      pipeline: 'demo',
      status: 'SUCCEEDED',
      commit: {
        repository: 'demo',
        branch: 'main',
        id: commitId,
        message: 'change',
        author: { name: 'stepline local' },
      },
      trigger: { kind: 'codecommit' },
      stageNames: ['build', 'unit', 'lint'],
      executionArn: `arn:aws:states:local:000000000000:execution:stepline-demo:${run.runId}`,
    });
    expect(run.runId).toMatch(new RegExp(`^demo-${commitId.slice(0, 12)}-[0-9a-f]{8}$`));
    expect(Date.parse(run.endedAt!)).toBeGreaterThanOrEqual(Date.parse(run.startedAt!));
    expect(run.failure).toBeUndefined();
    for (const name of ['build', 'unit', 'lint']) {
      expect(stages[name]).toMatchObject({
        status: 'SUCCEEDED',
        buildId: expect.stringMatching(`^stepline-demo-${name}:`),
      });
      expect(stages[name]!.durationMs).toEqual(expect.any(Number));
      expect(stages[name]!.logs?.deepLink).toMatch(/^file:\/\//);
    }
    expect(stages.unit!.tests).toMatchObject({ total: 3, passed: 3, failed: 0, skipped: 0 });
    expect((await fixture.runtime.store.listActiveRuns()).items).toEqual([]);
  });

  it('records a failed build with its stage and log tail, and runs no test stage', async () => {
    fixture = await startFixture();
    const { run, stages } = await pushAndRun({
      ...passingSeed,
      'build.yml': buildspecs.ok([
        String.raw`printf '\033[31msrc/app.ts(3,1): error TS1005: expected ;\033[0m\n'`,
        'exit 2',
      ]),
    });

    expect(run.status).toBe('FAILED');
    expect(run.failure).toMatchObject({
      stage: 'build',
      error: 'States.TaskFailed',
      cause: expect.stringMatching(/^build stepline-demo-build:\S+ FAILED in phase BUILD/),
    });
    // The stored tail is plain text; the log file keeps the colours.
    expect(run.failure!.logTail).toContain('src/app.ts(3,1): error TS1005: expected ;');
    expect(run.failure!.logTail!.join('\n')).not.toContain('\u001b');
    expect(readFileSync(stages.build!.logs!.deepLink!.replace('file://', ''), 'utf8')).toContain(
      '\u001b[31msrc/app.ts(3,1)',
    );
    expect(stages.build).toMatchObject({ status: 'FAILED', failure: { stage: 'build' } });
    expect(stages.unit).toBeUndefined();
    expect(stages.lint).toBeUndefined();
  });

  it('lets every test stage finish when one fails, and fails the run with the failing one', async () => {
    fixture = await startFixture();
    const { run, stages } = await pushAndRun({
      ...passingSeed,
      'unit.yml': buildspecs.withReport(['mkdir -p reports', `echo '${junit(4, 1)}' > reports/junit.xml`, 'exit 1']),
    });

    expect(run.status).toBe('FAILED');
    const failedTest = { name: 'case 0', suite: 'unit', status: 'FAILED', message: 'expected 1 to be 2\nboom' };
    // The run record names the failing test case, as CodeBuild's DescribeTestCases does.
    expect(run.failure).toMatchObject({ stage: 'unit', error: 'States.TaskFailed', failedTests: [failedTest] });
    expect(stages.unit).toMatchObject({
      status: 'FAILED',
      tests: { total: 4, passed: 3, failed: 1, failures: [failedTest] },
    });
    expect(stages.lint).toMatchObject({ status: 'SUCCEEDED' });
    expect(stages.build).toMatchObject({ status: 'SUCCEEDED' });
  });

  it.each([
    'CodeBuild.AccountLimitExceededException',
    'CodeBuild.CodeBuildException',
    'CodeBuild.AWSCodeBuildException',
  ])('retries a build start refused with %s, then succeeds', async (error) => {
    const real = new LocalBuildRunner({ rootDir: join(tmpdir(), `stepline-throttle-${process.pid}`) });
    const starts: string[] = [];
    const throttleFirstBuild: BuildRunner = {
      async run(request) {
        starts.push(request.projectName);
        if (starts.length === 1) {
          throw taskError(error, 'Cannot have more than 0 builds in queue');
        }
        return real.run(request);
      },
      getReports: (arns) => real.getReports(arns),
      describeTestCases: (arn, status) => real.describeTestCases(arn, status),
    };
    fixture = await startFixture({ runner: throttleFirstBuild, retryIntervalOverrides: { Build: 0 } });
    const { run, stages } = await pushAndRun(passingSeed);

    expect(run.status).toBe('SUCCEEDED');
    expect(starts.filter((p) => p === 'stepline-demo-build')).toHaveLength(2);
    expect(stages.build!.status).toBe('SUCCEEDED');
  });

  it.each([
    [1, false],
    [0, true],
  ])('runs test stages with testConcurrency %d: overlapping %s', async (testConcurrency, overlapping) => {
    fixture = await startFixture({}, { testConcurrency });
    const slow = buildspecs.ok(['sleep 0.6']);
    const { run, stages } = await pushAndRun({ ...passingSeed, 'unit.yml': slow, 'lint.yml': slow });

    expect(run.status).toBe('SUCCEEDED');
    const [a, b] = [stages.unit!, stages.lint!].map((s) => [Date.parse(s.startedAt!), Date.parse(s.endedAt!)]);
    expect(a![0]! < b![1]! && b![0]! < a![1]!).toBe(overlapping);
  });

  it('records who pushed: the callerUserArn of the CodeCommit event', async () => {
    fixture = await startFixture();
    const { run } = await pushAndRun(passingSeed);
    expect(run.trigger.pushedBy).toMatch(/^arn:aws:iam::000000000000:user\/.+/);
  });

  it('starts one run when the same push event is delivered twice', async () => {
    fixture = await startFixture();
    const commitId = await fixture.push(passingSeed);
    const [first] = await fixture.runtime.runsStartedFor(commitId);
    const run = await fixture.runtime.store.getRun(first!.runId);
    const redelivery = branchCreated(commitId);
    // EventBridge redelivers the same event: same id.
    const sameEvent = { ...redelivery, id: run!.trigger.deliveryId };

    const [again] = await fixture.runtime.putEvent(sameEvent);
    expect(again).toMatchObject({ runId: first!.runId, duplicate: true, executionArn: first!.executionArn });
    await fixture.runtime.waitForRun(first!.runId);
    // After the run ended, StartExecution answers ExecutionAlreadyExists (through the real SFN client).
    const [late] = await fixture.runtime.putEvent(sameEvent);
    expect(late).toMatchObject({ runId: first!.runId, duplicate: true, executionArn: first!.executionArn });
    expect(fixture.runtime.stepFunctions.listExecutions()).toHaveLength(1);
    expect((await fixture.runtime.store.listRuns('demo')).items).toHaveLength(1);

    // A new delivery (a new event id) of the same commit is a deliberate re-run: a second run.
    const [rerun] = await fixture.runtime.putEvent(redelivery);
    expect(rerun!.duplicate).toBe(false);
    expect(rerun!.runId).not.toBe(first!.runId);
    await fixture.runtime.waitForRun(rerun!.runId);
  });

  it('refuses a malformed event with a precise error and starts nothing', async () => {
    fixture = await startFixture();
    const event = branchCreated('a'.repeat(40));

    expect(() => fixture.runtime.putEvent({ ...event, account: 'me', detail: 'x' })).toThrow(
      new InvalidRequestError('invalid event', [
        'account: account must be 12 digits',
        'detail: Invalid input: expected record, received string',
      ]),
    );
    // Matches the rule, but carries no usable commit id: the publisher refuses it.
    const refused = fixture.runtime.putEvent({ ...event, detail: { ...event.detail, commitId: 'HEAD' } });
    await expect(refused).rejects.toThrow('invalid CodeCommit push: commitId: must be a 40-character hex commit id');
    // The publisher's log says why, as its CloudWatch log group would.
    expect(
      readFileSync(join(fixture.runtime.stateDir, 'functions', 'stepline-publish-source-change.log'), 'utf8'),
    ).toContain('"message":"source change not published","error":"InvalidRequestError"');
    expect((await fixture.runtime.store.listRuns('demo')).items).toEqual([]);
    expect(fixture.runtime.stepFunctions.listExecutions()).toEqual([]);
  });

  it('records a push to a branch the pipeline does not follow as SKIPPED, with the reason', async () => {
    fixture = await startFixture();
    await fixture.push(passingSeed);
    const feature = await fixture.runtime.git.commitAndPush('demo', 'feature/x', fixture.seedDir, 'on a branch');
    const [skipped] = await fixture.runtime.runsStartedFor(feature);

    const reason = "branch feature/x matches none of the pipeline's branch patterns (main)";
    expect(skipped).toMatchObject({ duplicate: false, skipped: reason });
    expect(await fixture.runtime.waitForRun(skipped!.runId)).toMatchObject({ status: 'SKIPPED', skipReason: reason });
    expect(fixture.runtime.stepFunctions.listExecutions().map((e) => e.name)).not.toContain(skipped!.runId);
  });

  it('records a commit that says [skip ci] as SKIPPED, and runs the next one', async () => {
    fixture = await startFixture();
    const skippedCommit = await fixture.push(passingSeed, 'docs only [skip ci]');
    const [skipped] = await fixture.runtime.runsStartedFor(skippedCommit);
    expect(await fixture.runtime.waitForRun(skipped!.runId)).toMatchObject({
      status: 'SKIPPED',
      skipReason: 'the commit message says [skip ci]',
      commit: { message: 'docs only [skip ci]' },
    });
    const next = await fixture.push(passingSeed, 'a real change');
    const [run] = await fixture.runtime.runsStartedFor(next);
    expect((await fixture.runtime.waitForRun(run!.runId)).status).toBe('SUCCEEDED');
  });

  it('records a push that changes no file of its path filters as SKIPPED, and runs one that does', async () => {
    fixture = await startFixture({}, { filters: { paths: { include: ['src/**', '*.yml'] } } });
    const first = await fixture.push(passingSeed);
    await fixture.runtime.waitForRun((await fixture.runtime.runsStartedFor(first))[0]!.runId);

    const docsOnly = await fixture.push({ ...passingSeed, 'docs/guide.md': 'words' }, 'docs');
    const [skipped] = await fixture.runtime.runsStartedFor(docsOnly);
    expect(await fixture.runtime.waitForRun(skipped!.runId)).toMatchObject({
      status: 'SKIPPED',
      skipReason: "none of the 1 changed files matches the pipeline's paths (include src/**, *.yml)",
    });

    const source = await fixture.push({ ...passingSeed, 'docs/guide.md': 'words', 'src/app.ts': 'code' }, 'code');
    const [run] = await fixture.runtime.runsStartedFor(source);
    expect((await fixture.runtime.waitForRun(run!.runId)).status).toBe('SUCCEEDED');
  });

  it('says so when a push reaches no pipeline: a repository no pipeline follows', async () => {
    const problems: DeliveryProblem[] = [];
    fixture = await startFixture({ onDeliveryProblem: (problem) => problems.push(problem) });
    const event = codeCommitEvent({
      repository: 'elsewhere',
      oldCommitId: '0'.repeat(40),
      commitId: 'a'.repeat(40),
      ref: 'refs/heads/main',
    });
    // The one push rule takes it; the publisher finds no pipeline following the repository in the catalog.
    await expect(fixture.runtime.putEvent(event)).resolves.toEqual([]);
    expect(problems).toEqual([
      {
        event: 'elsewhere refs/heads/main at aaaaaaaaaaaa',
        deliveryId: event.id,
        reason: 'no pipeline follows this repository',
      },
    ]);
    expect(readFileSync(join(fixture.runtime.stateDir, 'event-bus.log'), 'utf8')).toContain(
      '"reason":"no pipeline follows this repository"',
    );
    // The publisher's log says it too, as its CloudWatch log group would on AWS.
    expect(
      readFileSync(join(fixture.runtime.stateDir, 'functions', 'stepline-publish-source-change.log'), 'utf8'),
    ).toContain('"message":"no pipeline follows elsewhere: nothing published"');
  });

  it('records a push of a commit the repository does not have as a FAILED run, and says so', async () => {
    const problems: DeliveryProblem[] = [];
    fixture = await startFixture({ onDeliveryProblem: (problem) => problems.push(problem) });
    await fixture.push(passingSeed);
    const missing = 'b'.repeat(40);
    const response = await fetch(`${fixture.runtime.endpoint.url}/_local/git-push`, {
      method: 'POST',
      body: JSON.stringify({
        repository: 'demo',
        lines: `${'0'.repeat(40)} ${missing} refs/heads/main\n`,
        delivery: '0b8e3c4a-1d2f-4e5a-9b6c-7d8e9f0a1b2c',
      }),
    });
    expect(response.status).toBe(200);
    const [refused] = await fixture.runtime.runsStartedFor(missing);

    const reason = `commit ${missing} does not exist in repository demo`;
    expect(refused).toMatchObject({ duplicate: false, refused: { error: 'CommitNotFoundError', cause: reason } });
    expect(refused!.executionArn).toBeUndefined();
    expect(await fixture.runtime.store.getRun(refused!.runId)).toMatchObject({
      status: 'FAILED',
      failure: { error: 'CommitNotFoundError', cause: reason },
    });
    expect(problems).toContainEqual(
      expect.objectContaining({
        event: 'demo refs/heads/main at bbbbbbbbbbbb',
        reason: `CommitNotFoundError: ${reason}`,
      }),
    );
    expect(readFileSync(join(fixture.runtime.stateDir, 'functions', 'stepline-start-run.log'), 'utf8')).toContain(
      '"message":"run refused"',
    );
  });
});

describe('local mode stops', () => {
  it('remembers its executions across a restart: a redelivered event starts nothing, past runs stay described', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'stepline-executions-'));
    const seedDir = join(stateDir, 'seed');
    const config = parseConfig({ pipelines: [demoPipeline()] });
    const first = await LocalRuntime.start({ config, stateDir, persistStore: true });
    await mkdir(seedDir, { recursive: true });
    for (const [name, content] of Object.entries(passingSeed)) await writeFile(join(seedDir, name), content);
    const commitId = await first.pushSeed(config.pipelines[0]!, seedDir, 'first');
    const [started] = await first.runsStartedFor(commitId);
    const run = await first.waitForRun(started!.runId);
    await first.close();

    const second = await LocalRuntime.start({ config, stateDir, persistStore: true });
    try {
      const redelivery = { ...branchCreated(commitId), id: run.trigger.deliveryId };
      const [again] = await second.putEvent(redelivery);
      expect(again).toEqual({ runId: run.runId, executionArn: started!.executionArn, duplicate: true });
      expect(second.stepFunctions.listExecutions().map((e) => [e.name, e.status])).toEqual([[run.runId, 'SUCCEEDED']]);
      // As AWS answers it, through the real SDK client.
      const sfn = new SFNClient({ endpoint: second.endpoint.url, region: 'local', credentials: LOCAL_CREDENTIALS });
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: started!.executionArn }));
      expect(described).toMatchObject({ name: run.runId, status: 'SUCCEEDED' });
      await expect(
        sfn.send(
          new StartExecutionCommand({ stateMachineArn: described.stateMachineArn, name: run.runId, input: '{}' }),
        ),
      ).rejects.toThrow(ExecutionAlreadyExists);
      expect((await second.store.listRuns('demo')).items).toHaveLength(1);
    } finally {
      await second.close();
      await rm(stateDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  });

  it('records the runs active at a stop as FAILED, and keeps the others', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'stepline-restart-'));
    const config = parseConfig({ pipelines: [demoPipeline()] });
    const first = await LocalRuntime.start({ config, stateDir, persistStore: true });
    await first.store.createRun(queuedRun({ runId: 'left-running', pipeline: 'demo' }));
    await first.store.transitionRun('left-running', 'RUNNING');
    await first.store.transitionStage('left-running', 'build', 'IN_PROGRESS');
    await first.store.createRun(queuedRun({ runId: 'done', pipeline: 'demo' }));
    await first.store.transitionRun('done', 'FAILED');
    const announced: unknown[] = [];
    first.sourceBus.addRule({ name: 'test-run-events', ...runEventTrigger(), target: async (e) => announced.push(e) });
    await first.close();
    // Its end is announced as the AWS path announces an execution that ended without recording it.
    expect(announced).toEqual([{ kind: 'RunEnded', runId: 'left-running', pipeline: 'demo' }]);

    const second = await LocalRuntime.start({ config, stateDir, persistStore: true });
    try {
      expect(second.interruptedRuns).toEqual([]);
      expect(await second.store.getRun('left-running')).toMatchObject({
        status: 'FAILED',
        failure: { error: 'LocalModeStopped' },
      });
      // As on AWS for an execution that ended without recording its end: the stages stay as it left them.
      expect((await second.store.listStages('left-running'))[0]).toMatchObject({
        name: 'build',
        status: 'IN_PROGRESS',
      });
      expect((await second.store.getRun('done'))?.failure).toBeUndefined();
      expect((await second.store.listActiveRuns()).items).toEqual([]);
    } finally {
      await second.close();
      await rm(stateDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  });
});
