/**
 * Runs started by hand in local mode, end to end: `stepline release` and `stepline rerun` as child processes
 * against a running local mode (its endpoint, the git identity as the caller), the manual-runs function putting
 * a SourceChanged event on the local platform bus, the starter running it as any push, through to the end; the
 * refusals as the endpoint answers them; and the CodeCommit stand-in's GetBranch and GetCommit as AWS answers,
 * through the real @aws-sdk/client-codecommit.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  BranchDoesNotExistException,
  CodeCommitClient,
  CommitIdDoesNotExistException,
  GetBranchCommand,
  GetCommitCommand,
  RepositoryDoesNotExistException,
} from '@aws-sdk/client-codecommit';
import { RUN_CONTROL_ROUTES } from '../../core/platform';
import type { RunRecord } from '../../core/records';
import { LOCAL_IDENTITY_HEADER } from '../../local/approvals';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/constants';
import { stepline } from '../support/cli';
import { buildspecs, passingSeed, startFixture, type Fixture } from '../support/pipeline-fixture';

const ADA = 'ada@example.com';

/** The run once the starter has recorded it (the CLI answers as soon as the request is on the bus). */
async function recorded(fixture: Fixture, runId: string): Promise<RunRecord> {
  for (let i = 0; i < 200; i++) {
    const run = await fixture.runtime.store.getRun(runId);
    if (run) return run;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`run ${runId} was never recorded`);
}

/** A request to the local endpoint's run-control routes, as the CLI sends it (as `identity`). */
async function post(fixture: Fixture, path: string, body?: unknown, identity = ADA) {
  const response = await fetch(`${fixture.runtime.endpoint.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [LOCAL_IDENTITY_HEADER]: identity },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as { message: string; runId?: string } };
}

describe('runs started by hand, in local mode', () => {
  let fixture: Fixture;
  afterEach(async () => {
    await fixture?.close();
    fixture = undefined!;
  });

  it('release runs the branch head as the git identity past a path filter that drops its push; rerun runs it again', async () => {
    // Every file of the seed is at its root: the path filter drops the push.
    fixture = await startFixture({}, { filters: { paths: { include: ['src/**'] } } });
    const head = await fixture.push(passingSeed);
    const [pushed] = await fixture.runtime.runsStartedFor(head);
    expect((await recorded(fixture, pushed!.runId)).status).toBe('SKIPPED');

    const stateDir = ['--state-dir', fixture.runtime.stateDir];
    const released = await stepline(['release', 'demo', ...stateDir], { email: ADA });
    expect(released.stderr).toBe('');
    expect(released.code).toBe(0);
    const runId = released.stdout.split('\n')[0]!;
    expect(runId).toMatch(new RegExp(`^demo-${head.slice(0, 12)}-[0-9a-f]{8}$`));
    const run = await fixture.runtime.waitForRun((await recorded(fixture, runId)).runId);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.trigger).toMatchObject({ kind: 'manual', pushedBy: expect.stringMatching(/\/ada@example\.com$/) });
    expect(run.trigger.rerunOf).toBeUndefined();
    // The commit as local git has it: its committer date, read through GetCommit as CodeCommit writes it.
    const { stdout: committed } = await promisify(execFile)('git', [
      '-C',
      fixture.runtime.git.repositoryPath('demo'),
      'show',
      '-s',
      '--format=%ct',
      head,
    ]);
    expect(run.commit).toMatchObject({
      id: head,
      branch: 'main',
      committedAt: new Date(Number(committed.trim()) * 1000).toISOString(),
    });

    const again = await stepline(['rerun', runId, ...stateDir], { email: 'bob@example.com' });
    expect(again.code).toBe(0);
    const rerunId = again.stdout.split('\n')[0]!;
    expect(rerunId).not.toBe(runId);
    const rerun = await fixture.runtime.waitForRun((await recorded(fixture, rerunId)).runId);
    expect(rerun.status).toBe('SUCCEEDED');
    expect(rerun.commit.id).toBe(head);
    expect(rerun.trigger).toMatchObject({
      kind: 'manual',
      rerunOf: runId,
      pushedBy: expect.stringMatching(/\/bob@example\.com$/),
    });
  });

  it('refuses what cannot run: an unknown commit or pipeline (404), a run still running (409)', async () => {
    fixture = await startFixture();
    const head = await fixture.push({ ...passingSeed, 'build.yml': buildspecs.ok(['sleep 20']) });
    const [running] = await fixture.runtime.runsStartedFor(head);
    for (let i = 0; i < 200 && (await fixture.runtime.store.getRun(running!.runId))?.status !== 'RUNNING'; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));

    const unknown = 'deadbeef'.repeat(5);
    const stateDir = ['--state-dir', fixture.runtime.stateDir];
    const refused = await stepline(['release', 'demo', '--commit', unknown, ...stateDir], { email: ADA });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe(
      `refused (404): commit ${unknown} cannot be released by demo: demo has no such commit\n`,
    );
    expect(await post(fixture, `${RUN_CONTROL_ROUTES.releases}/nope`)).toEqual({
      status: 404,
      body: {
        error: 'PipelineNotDeployedError',
        message:
          'unknown pipeline "nope": no pipeline of that name is deployed (is it in stepline.config.ts, and its stack deployed?)',
      },
    });
    const stillRunning = await stepline(['rerun', running!.runId, ...stateDir], { email: ADA });
    expect(stillRunning.code).toBe(1);
    expect(stillRunning.stdout).toContain(`refused (409): run ${running!.runId} is RUNNING`);
    // Nothing was started by any of them: the pipeline has its one run.
    expect(fixture.runtime.stepFunctions.listExecutions().map((e) => e.name)).toEqual([running!.runId]);
    // Without an identity the route is refused, as an unsigned request is on AWS.
    const anonymous = await fetch(`${fixture.runtime.endpoint.url}${RUN_CONTROL_ROUTES.releases}/demo`, {
      method: 'POST',
    });
    expect(anonymous.status).toBe(401);
  });

  it('answers GetBranch and GetCommit as CodeCommit does, through the real SDK client', async () => {
    fixture = await startFixture();
    const head = await fixture.push(passingSeed);
    const codecommit = new CodeCommitClient({
      endpoint: fixture.runtime.endpoint.url,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    expect(
      (await codecommit.send(new GetBranchCommand({ repositoryName: 'demo', branchName: 'main' }))).branch,
    ).toEqual({ branchName: 'main', commitId: head });
    await expect(
      codecommit.send(new GetBranchCommand({ repositoryName: 'demo', branchName: 'nope' })),
    ).rejects.toBeInstanceOf(BranchDoesNotExistException);
    await expect(
      codecommit.send(new GetBranchCommand({ repositoryName: 'other', branchName: 'main' })),
    ).rejects.toBeInstanceOf(RepositoryDoesNotExistException);
    const { commit } = await codecommit.send(new GetCommitCommand({ repositoryName: 'demo', commitId: head }));
    // "timestamp format with GMT offset": epoch seconds and the offset, as aws-cli's example shows.
    expect(commit?.committer?.date).toMatch(/^\d{10} [+-]\d{4}$/);
    expect(commit?.author?.date).toMatch(/^\d{10} [+-]\d{4}$/);
    await expect(
      codecommit.send(new GetCommitCommand({ repositoryName: 'demo', commitId: 'deadbeef'.repeat(5) })),
    ).rejects.toBeInstanceOf(CommitIdDoesNotExistException);
    // The push's run ends before local mode closes under it.
    for (const { runId } of await fixture.runtime.runsStartedFor(head)) await fixture.runtime.waitForRun(runId);
  });
});
