/**
 * The local endpoint at its edges, over real loopback sockets: bounded bodies, JSON errors that say
 * what is wrong, and a server that goes on serving; and the git hook's notification, replayed.
 */
import { MAX_BODY_BYTES } from '../../local/aws-endpoint';
import { passingSeed, startFixture, type Fixture } from '../support/pipeline-fixture';

describe('the local endpoint', () => {
  let fixture: Fixture;
  beforeAll(async () => {
    fixture = await startFixture();
  });
  afterAll(() => fixture.close());

  const post = async (path: string, body: string | Buffer, target?: string) => {
    const response = await fetch(`${fixture.runtime.endpoint.url}${path}`, {
      method: 'POST',
      headers: target ? { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.1' } : {},
      body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const aws = (target: string, body: string | Buffer) => post('/', body, target);
  const stillServing = async () =>
    expect(await aws('AmazonSSM.GetParameter', JSON.stringify({ Name: '/stepline/pipelines/demo' }))).toMatchObject({
      status: 200,
      body: { Parameter: { Name: '/stepline/pipelines/demo' } },
    });

  it('refuses a body over the limit with 413, without reading it whole, and goes on serving', async () => {
    expect(await aws('CodeBuild_20161006.BatchGetBuilds', Buffer.alloc(MAX_BODY_BYTES + 1, 'x'))).toEqual({
      status: 413,
      body: { __type: 'RequestEntityTooLarge', message: `the request body exceeds ${MAX_BODY_BYTES} bytes` },
    });
    expect(await post('/_local/git-push', Buffer.alloc(50 * 1024 * 1024, ' '))).toEqual({
      status: 413,
      body: { error: 'RequestEntityTooLarge', message: `the request body exceeds ${MAX_BODY_BYTES} bytes` },
    });
    await stillServing();
  });

  it('answers a body that is not JSON with 400 SerializationException', async () => {
    const { status, body } = await aws('CodeBuild_20161006.BatchGetBuilds', '{"ids": [');
    expect(status).toBe(400);
    expect(body.__type).toBe('SerializationException');
    expect(body.message).toMatch(/^the request body is not JSON: /);
    await stillServing();
  });

  it('answers a request of the wrong shape with 400 ValidationException naming the field', async () => {
    expect(await aws('CodeBuild_20161006.BatchGetBuilds', JSON.stringify({ ids: 'x' }))).toEqual({
      status: 400,
      body: {
        __type: 'ValidationException',
        message:
          'invalid CodeBuild_20161006.BatchGetBuilds request: ids: Invalid input: expected array, received string',
      },
    });
    expect(await post('/_local/git-push', JSON.stringify({ lines: 'a b c' }))).toEqual({
      status: 400,
      body: {
        error: 'ValidationException',
        message:
          'invalid /_local/git-push request: repository: Invalid input: expected string, received undefined; delivery: Invalid input: expected string, received undefined',
      },
    });
    await stillServing();
  });

  it('answers an unknown operation with 400 and an unknown route with 404, in JSON', async () => {
    expect(await aws('AWSStepFunctions.DeleteStateMachine', '{}')).toEqual({
      status: 400,
      body: {
        __type: 'UnknownOperationException',
        message: 'AWSStepFunctions.DeleteStateMachine is not served locally',
      },
    });
    expect(await post('/nowhere', '{}')).toEqual({
      status: 404,
      body: { error: 'NotFound', message: 'nothing at POST /nowhere' },
    });
  });

  it('answers AWS errors by their code: an unknown parameter is ParameterNotFound', async () => {
    expect(await aws('AmazonSSM.GetParameter', JSON.stringify({ Name: '/stepline/pipelines/none' }))).toEqual({
      status: 400,
      body: { __type: 'ParameterNotFound', message: 'Parameter /stepline/pipelines/none not found.' },
    });
  });

  it('serves GetDifferences as CodeCommit does: against a commit, or every file of the commit without one', async () => {
    const first = await fixture.push(passingSeed);
    const second = await fixture.push({ ...passingSeed, 'docs/guide.md': 'words' });
    const differences = async (body: Record<string, string>) => {
      const { status, body: answer } = await aws(
        'CodeCommit_20150413.GetDifferences',
        JSON.stringify({ repositoryName: 'demo', ...body }),
      );
      expect(status).toBe(200);
      return (answer.differences as { changeType: string; afterBlob?: { path: string } }[]).map(
        (d) => `${d.changeType} ${d.afterBlob?.path}`,
      );
    };
    expect(await differences({ beforeCommitSpecifier: first, afterCommitSpecifier: second })).toEqual([
      'A docs/guide.md',
    ]);
    expect((await differences({ afterCommitSpecifier: second })).sort()).toEqual(
      ['A build.yml', 'A docs/guide.md', 'A lint.yml', 'A unit.yml'].sort(),
    );
    for (const commit of [first, second]) {
      for (const run of await fixture.runtime.runsStartedFor(commit)) await fixture.runtime.waitForRun(run.runId);
    }
  });

  it('recognises a replayed git hook notification: the same delivery starts one run', async () => {
    const commitId = await fixture.push(passingSeed);
    const [first] = await fixture.runtime.runsStartedFor(commitId);
    await fixture.runtime.waitForRun(first!.runId);
    const notification = JSON.stringify({
      repository: 'demo',
      lines: `${'0'.repeat(40)} ${commitId} refs/heads/main\n`,
      delivery: '6f1c1a52-7a9e-4a55-9d0b-0c7d5a1e2f33',
    });

    expect(await post('/_local/git-push', notification)).toEqual({ status: 200, body: { events: 1 } });
    expect(await post('/_local/git-push', notification)).toEqual({ status: 200, body: { events: 1 } });
    const deliveries = await fixture.runtime.runsStartedFor(commitId);

    // The hook's own delivery, then the notification and its replay: two runs, one of the two
    // deliveries of the notification a duplicate (they race to the starter, either may win).
    const [own, ...replayed] = deliveries;
    expect(own!.duplicate).toBe(false);
    expect(replayed.map((d) => d.duplicate).sort()).toEqual([false, true]);
    expect(replayed[0]!.runId).toBe(replayed[1]!.runId);
    expect(replayed[0]!.runId).not.toBe(own!.runId);
    expect((await fixture.runtime.store.listRuns('demo')).items.filter((r) => r.commit.id === commitId)).toHaveLength(
      2,
    );
    await fixture.runtime.waitForRun(replayed[0]!.runId);
  });
});
