/**
 * GitHub sources in local mode: deliveries POSTed over loopback to the local webhook receiver (the
 * same handler as the platform's function URL, signature check and all), SourceChanged on the local
 * platform bus, the run starter, and builds from the pipeline's local repository.
 */
import { GITHUB_WEBHOOK_ROUTE } from '../../local/runtime';
import { passingSeed, startFixture, type Fixture } from '../support/pipeline-fixture';
import { pushExamples, signedDelivery, type Delivery } from '../support/github';

const source = {
  type: 'github',
  owner: 'Codertocat',
  repo: 'Hello-World',
  branch: 'main',
  connectionArn: 'arn:aws:codeconnections:eu-west-1:111122223333:connection/0b6a2f8c-1f63-4b5e-9f3a-2d1c0e9b8a7f',
};

describe('GitHub sources in local mode', () => {
  let fixture: Fixture;
  afterEach(() => fixture?.close());

  const post = async (delivery: Delivery) => {
    const response = await fetch(`${fixture.runtime.endpoint.url}${GITHUB_WEBHOOK_ROUTE}`, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  /** GitHub's own push example, moved to the pipeline's branch and to a commit the local repository has. */
  const pushOf = (commitId: string, changes: Record<string, unknown> = {}) => {
    const example = pushExamples.branch as { commits: Record<string, unknown>[]; head_commit: Record<string, unknown> };
    const head = { ...example.head_commit, id: commitId, ...changes };
    return { ...example, ref: 'refs/heads/main', after: commitId, head_commit: head, commits: [head] };
  };

  it('runs a real push delivery end to end, once, however often it is delivered', async () => {
    fixture = await startFixture({}, { source });
    // The commit must exist where the build checks out from: pushing it to the local repository of a
    // GitHub pipeline delivers it as GitHub would, through the same receiver.
    const commitId = await fixture.push(passingSeed);
    const [fromPush] = await fixture.runtime.runsStartedFor(commitId);
    expect(fromPush).toMatchObject({ duplicate: false });
    expect((await fixture.runtime.waitForRun(fromPush!.runId)).status).toBe('SUCCEEDED');

    const delivery = signedDelivery(
      'push',
      pushOf(commitId),
      fixture.runtime.webhookSecret,
      'a1b2c3d4-0000-4000-8000-000000000001',
    );
    const first = await post(delivery);
    expect(first).toEqual({
      status: 202,
      body: {
        message: `push to refs/heads/main at ${commitId.slice(0, 12)} sent to demo`,
        delivery: 'a1b2c3d4-0000-4000-8000-000000000001',
        pipelines: ['demo'],
      },
    });
    // GitHub's "Redeliver" sends the same delivery id: the same run, not a second one.
    expect((await post(delivery)).status).toBe(202);
    const runs = (await fixture.runtime.store.listRuns('demo')).items;
    const fromDelivery = runs.filter((r) => r.trigger.deliveryId === 'a1b2c3d4-0000-4000-8000-000000000001');
    expect(fromDelivery).toHaveLength(1);
    const run = await fixture.runtime.waitForRun(fromDelivery[0]!.runId);
    expect(run).toMatchObject({
      status: 'SUCCEEDED',
      commit: { repository: 'Codertocat/Hello-World', branch: 'main', id: commitId, message: 'Initial commit' },
      trigger: { kind: 'github', pushedBy: 'Codertocat' },
    });
    expect(runs).toHaveLength(2);
  });

  it('refuses a tampered, unsigned or wrongly signed delivery with 401, and starts nothing', async () => {
    fixture = await startFixture({}, { source });
    const delivery = signedDelivery('push', pushOf('a'.repeat(40)), fixture.runtime.webhookSecret);
    const tampered = { ...delivery, body: Buffer.from(delivery.body.toString().replace('Initial', 'Evil')) };
    const wrong = signedDelivery('push', pushOf('a'.repeat(40)), 'guessed');
    const unsigned = { ...delivery, headers: { ...delivery.headers, 'x-hub-signature-256': '' } };
    for (const bad of [tampered, wrong, unsigned]) expect((await post(bad)).status).toBe(401);
    expect((await fixture.runtime.store.listRuns('demo')).items).toEqual([]);
  });

  it('records a push whose listed files miss the paths, or that says [skip ci], as SKIPPED with the reason', async () => {
    fixture = await startFixture({}, { source, filters: { paths: { include: ['src/**'] } } });
    const secret = fixture.runtime.webhookSecret;
    await post(signedDelivery('push', pushOf('b'.repeat(40), { added: ['docs/a.md'], modified: [] }), secret));
    await post(
      signedDelivery('push', pushOf('c'.repeat(40), { added: ['src/a.ts'], message: 'wip [skip ci]' }), secret),
    );
    const runs = (await fixture.runtime.store.listRuns('demo')).items;
    expect(runs.map((r) => [r.commit.id[0], r.status, r.skipReason]).sort()).toEqual([
      ['b', 'SKIPPED', "none of the 1 changed files matches the pipeline's paths (include src/**)"],
      ['c', 'SKIPPED', 'the commit message says [skip ci]'],
    ]);
  });

  it('answers a body over the function URL limit with 413 and starts nothing', async () => {
    fixture = await startFixture({}, { source });
    const response = await fetch(`${fixture.runtime.endpoint.url}${GITHUB_WEBHOOK_ROUTE}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(6 * 1024 * 1024 + 1, 0x20),
    });
    expect(response.status).toBe(413);
    expect((await fixture.runtime.store.listRuns('demo')).items).toEqual([]);
  });
});
