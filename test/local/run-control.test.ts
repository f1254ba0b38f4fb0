/**
 * `stepline cancel` and `stepline redrive` in local mode, end to end: the run-control handler behind the local
 * endpoint's `/cli/runs/<run>/…` routes (the git identity standing in for IAM), the pipeline ASL executed, the real
 * build runner, the recorder and the store on dynalite. A test stage and the build fail for a cause outside the
 * commit (a file in a directory this test controls), so the same commit passes once the cause is fixed.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/constants';
import { runEventTrigger } from '../../core/sources/source-events';
import type { RunRecord } from '../../core/records';
import { stepline } from '../support/cli';
import { buildspecs, passingSeed, startFixture, type Fixture } from '../support/pipeline-fixture';
import { isLive } from '../support/processes';
import { until } from '../support/until';

const ANA = 'ana@example.com';

describe('run control in local mode', () => {
  let fixture: Fixture;
  let outside: string;
  beforeEach(async () => (outside = await mkdtemp(join(tmpdir(), 'stepline-outside-'))));
  afterEach(async () => {
    await fixture?.close();
    await rm(outside, { recursive: true, force: true });
  });

  const control = (runId: string, action: 'cancel' | 'redrive', body: Record<string, unknown> = {}, identity = ANA) =>
    fetch(`${fixture.runtime.endpoint.url}/cli/runs/${runId}/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(identity ? { 'x-stepline-local-identity': identity } : {}) },
      body: JSON.stringify(body),
    }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as Record<string, unknown> & { message: string },
    }));

  async function firstRun(files: Record<string, string>): Promise<RunRecord> {
    const commitId = await fixture.push(files);
    const [started] = await fixture.runtime.runsStartedFor(commitId);
    return fixture.runtime.waitForRun(started!.runId);
  }

  /** Waits for the run's current execution (a redrive's) to end and the recorder to take its end. */
  async function settled(runId: string): Promise<RunRecord> {
    for (;;) {
      const run = (await fixture.runtime.store.getRun(runId))!;
      const execution = fixture.runtime.stepFunctions.listExecutions().find((e) => e.executionArn === run.executionArn);
      if (execution && execution.status !== 'RUNNING' && run.status !== 'RUNNING') return run;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const statesEntered = async (executionArn: string) => {
    const sfn = new SFNClient({
      endpoint: fixture.runtime.endpoint.url,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
    return events!.filter((e) => e.stateEnteredEventDetails).map((e) => e.stateEnteredEventDetails!.name!);
  };

  it('redrives a failed test stage at "Run test stages": it fails again until the cause is fixed, then succeeds without building again', async () => {
    fixture = await startFixture();
    const ready = join(outside, 'ready');
    const failed = await firstRun({ ...passingSeed, 'unit.yml': buildspecs.ok([`test -f ${ready}`]) });
    expect(failed).toMatchObject({ status: 'FAILED', failure: { stage: 'unit' } });
    const before = await fixture.runtime.store.listStages(failed.runId);
    const [build, lint] = ['build', 'lint'].map((name) => before.find((s) => s.name === name)!);

    const first = await control(failed.runId, 'redrive');
    expect(first).toEqual({
      status: 200,
      body: expect.objectContaining({
        message: `run ${failed.runId} resumes at "Run test stages" (it failed at "Run test stages"); stages run again: unit`,
        stages: ['unit'],
      }),
    });
    const again = await settled(failed.runId);
    expect(again).toMatchObject({ status: 'FAILED', failure: { stage: 'unit' } });
    expect(again.redrives).toEqual([
      {
        by: `arn:aws:sts::000000000000:assumed-role/stepline-local/${ANA}`,
        at: expect.any(String),
        fromState: 'Run test stages',
        executionArn: `arn:aws:states:local:000000000000:execution:stepline-demo:${failed.runId}-redrive-1`,
      },
    ]);

    await writeFile(ready, 'fixed outside the commit');
    expect((await control(failed.runId, 'redrive')).status).toBe(200);
    const succeeded = await settled(failed.runId);
    expect(succeeded).toMatchObject({
      status: 'SUCCEEDED',
      executionArn: `${again.redrives![0]!.executionArn.slice(0, -1)}2`,
    });
    expect(succeeded.failure).toBeUndefined();
    expect(succeeded.redrives).toHaveLength(2);
    expect((await fixture.runtime.store.listActiveRuns()).items).toEqual([]);

    // It began at the failed state: the build did not run again, nor the test stage that had passed.
    const entered = await statesEntered(succeeded.executionArn!);
    expect(entered.slice(0, 3)).toEqual(['Is this a redrive?', 'Resume at the failed state', 'Run test stages']);
    expect(entered).not.toContain('Build');
    expect(entered).not.toContain('Record run started');
    const stages = await fixture.runtime.store.listStages(failed.runId);
    expect(stages.find((s) => s.name === 'build')).toEqual(build);
    expect(stages.find((s) => s.name === 'lint')).toEqual(lint);
    expect(stages.find((s) => s.name === 'unit')).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('redrives a failed build at "Record build started" once its cause is fixed', async () => {
    fixture = await startFixture();
    const ready = join(outside, 'ready');
    const failed = await firstRun({ ...passingSeed, 'build.yml': buildspecs.ok([`test -f ${ready}`]) });
    expect(failed).toMatchObject({ status: 'FAILED', failure: { stage: 'build' } });

    await writeFile(ready, 'fixed');
    // Through the CLI, as a user runs it: the git identity against the running local mode.
    const redriven = await stepline(['redrive', failed.runId, '--state-dir', fixture.runtime.stateDir], { email: ANA });
    expect(redriven).toMatchObject({
      code: 0,
      stdout: `run ${failed.runId} resumes at "Record build started" (it failed at "Build"); stages run again: build\n`,
    });
    const succeeded = await settled(failed.runId);
    expect(succeeded.status).toBe('SUCCEEDED');
    expect((await statesEntered(succeeded.executionArn!)).slice(0, 4)).toEqual([
      'Is this a redrive?',
      'Resume at the failed state',
      'Record build started',
      'Build',
    ]);
    const stages = await fixture.runtime.store.listStages(failed.runId);
    expect(stages.map((s) => [s.name, s.status])).toEqual([
      ['build', 'SUCCEEDED'],
      ['lint', 'SUCCEEDED'],
      ['unit', 'SUCCEEDED'],
    ]);
    // Redriven once and SUCCEEDED: nothing more to redrive, nor to cancel.
    expect(await control(failed.runId, 'redrive')).toEqual({
      status: 409,
      body: { message: `run ${failed.runId} is SUCCEEDED: only a FAILED run can be redriven` },
    });
    const cancel = ['cancel', failed.runId, '--reason', 'too late', '--state-dir', fixture.runtime.stateDir];
    expect(await stepline(cancel, { email: ANA })).toMatchObject({
      code: 1,
      stdout: `refused (409): run ${failed.runId} is SUCCEEDED: only a QUEUED or RUNNING run can be cancelled\n`,
    });
  });

  it('cancels a QUEUED run and a running build: CANCELLED with who and why, its build ended, the lane moves on', async () => {
    fixture = await startFixture({}, { executionMode: 'QUEUED' });
    const announced: unknown[] = [];
    fixture.runtime.sourceBus.addRule({
      name: 'test-run-events',
      ...runEventTrigger(),
      target: async (e) => announced.push(e),
    });
    const pidFile = join(outside, 'sleeper.pid');
    const slowCommit = await fixture.push({
      ...passingSeed,
      'build.yml': buildspecs.ok([`sleep 60 & echo $! > ${pidFile}; wait`]),
    });
    const [slow] = await fixture.runtime.runsStartedFor(slowCommit);
    const [next] = await fixture.runtime.runsStartedFor(await fixture.push(passingSeed, 'next'));
    const [last] = await fixture.runtime.runsStartedFor(await fixture.push(passingSeed, 'last'));
    while (!existsSync(pidFile) || !(await readFile(pidFile, 'utf8')).trim())
      await new Promise((resolve) => setTimeout(resolve, 50));
    const sleeper = Number(await readFile(pidFile, 'utf8'));
    expect((await fixture.runtime.store.getRun(last!.runId))!.status).toBe('QUEUED');

    const queued = await control(last!.runId, 'cancel', { reason: 'superseded by hand' });
    expect(queued).toEqual({
      status: 200,
      body: expect.objectContaining({
        message: `run ${last!.runId} CANCELLED by arn:aws:sts::000000000000:assumed-role/stepline-local/${ANA}: superseded by hand`,
      }),
    });
    expect((await fixture.runtime.store.waiting('demo')).map((w) => w.runId)).toEqual([next!.runId]);

    const running = await control(slow!.runId, 'cancel', { reason: 'wrong branch' });
    expect(running.status).toBe(200);
    const cancelled = (await fixture.runtime.store.getRun(slow!.runId))!;
    expect(cancelled).toMatchObject({
      status: 'CANCELLED',
      cancelled: { by: `arn:aws:sts::000000000000:assumed-role/stepline-local/${ANA}`, reason: 'wrong branch' },
      endedAt: cancelled.cancelled!.at,
    });
    // The build's processes end with its execution: gone, or a zombie its parent has not reaped yet (under load the
    // group's end may trail the cancel's answer by a moment).
    await until("the build's processes to end", () => (isLive(sleeper) ? undefined : true), 15_000);
    expect((await fixture.runtime.store.listStages(slow!.runId)).find((s) => s.name === 'build')).toMatchObject({
      status: 'FAILED',
      failure: { error: 'RunCancelled', cause: expect.stringContaining('wrong branch') },
    });

    // The lane moved on: the run behind it ran; the cancelled QUEUED one never started.
    expect((await fixture.runtime.waitForRun(next!.runId)).status).toBe('SUCCEEDED');
    expect(fixture.runtime.stepFunctions.listExecutions().map((e) => e.name)).not.toContain(last!.runId);
    expect((await fixture.runtime.store.getRun(last!.runId))!.status).toBe('CANCELLED');
    // The execution's own end (ABORTED) left CANCELLED as it was.
    expect((await settled(slow!.runId)).status).toBe('CANCELLED');
    expect(announced).toEqual(
      expect.arrayContaining([
        { kind: 'RunEnded', runId: slow!.runId, pipeline: 'demo' },
        { kind: 'RunEnded', runId: last!.runId, pipeline: 'demo' },
      ]),
    );

    // Refusals: an ended run, an unknown one, no reason, no identity.
    expect(await control(slow!.runId, 'cancel', { reason: 'again' })).toEqual({
      status: 409,
      body: { message: `run ${slow!.runId} is CANCELLED: only a QUEUED or RUNNING run can be cancelled` },
    });
    expect(await control(slow!.runId, 'redrive')).toEqual({
      status: 409,
      body: { message: `run ${slow!.runId} is CANCELLED: only a FAILED run can be redriven` },
    });
    expect(await control('demo-000000000000-00000000', 'redrive')).toEqual({
      status: 404,
      body: { message: 'run demo-000000000000-00000000 does not exist' },
    });
    expect(await control('demo-000000000000-00000000', 'cancel', { reason: 'x' })).toMatchObject({ status: 404 });
    expect(await control(next!.runId, 'cancel', {})).toMatchObject({ status: 400 });
    expect(await control(next!.runId, 'cancel', { reason: 'x' }, '')).toMatchObject({ status: 401 });
  });
});
