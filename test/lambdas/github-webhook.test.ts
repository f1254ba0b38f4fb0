/**
 * The GitHub webhook receiver's handler (lambdas/github-webhook.ts over core/sources/github-webhook.ts), fed
 * real GitHub payloads as a function URL delivers them. The signature check is the real one; the
 * catalog and the bus are the ports' in-memory sides, so what is published can be read back.
 */
import { createHmac } from 'node:crypto';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { MAX_WEBHOOK_BODY_BYTES, type GitHubWebhookDeps } from '../../core/sources/github-webhook';
import type { PipelineCatalogEntry } from '../../core/catalog';
import type { SourceChanged } from '../../core/records';
import { createHandler } from '../../lambdas/github-webhook';
import { hubSignatureMatches } from '../../lambdas/adapters/webhook-signature';
import { issuesExample, pingExample, pushExamples, signedDelivery, type Delivery } from '../support/github';

const SECRET = 'webhook-secret-for-tests';
const entry = (kind: 'github' | 'codecommit', repository: string): PipelineCatalogEntry => ({
  stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:stepline-x',
  source: { kind, repository },
  stages: { build: { name: 'build', project: 'stepline-x-build' }, tests: [], testConcurrency: 0 },
  filters: { branches: ['main'], tags: false, skipMarkers: [] },
  executionMode: 'QUEUED',
});

function urlEvent(delivery: Delivery, options: { method?: string; base64?: boolean } = {}): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: delivery.headers,
    body: options.base64 ? delivery.body.toString('base64') : delivery.body.toString('utf8'),
    isBase64Encoded: options.base64 ?? false,
    requestContext: { http: { method: options.method ?? 'POST' } } as LambdaFunctionURLEvent['requestContext'],
  };
}

describe('GitHub webhook receiver', () => {
  let published: SourceChanged[];
  let logs: Record<string, unknown>[];
  let deps: GitHubWebhookDeps;
  const receive = (event: LambdaFunctionURLEvent) => createHandler(deps, (line) => logs.push(line))(event);
  const answer = async (event: LambdaFunctionURLEvent) => {
    const response = await receive(event);
    return { status: response.statusCode, body: JSON.parse(response.body as string) as Record<string, unknown> };
  };

  beforeEach(() => {
    published = [];
    logs = [];
    deps = {
      verifySignature: async (body, signature) => hubSignatureMatches(SECRET, body, signature),
      catalog: {
        list: async () =>
          new Map([
            ['hello-web', entry('github', 'Codertocat/Hello-World')],
            ['hello-api', entry('github', 'codertocat/hello-world')],
            ['other', entry('github', 'octo/other')],
            ['cc', entry('codecommit', 'Codertocat/Hello-World')],
          ]),
      },
      publisher: { publish: async (events) => void published.push(...events) },
      now: () => new Date('2026-11-25T10:00:00.000Z'),
    };
  });

  it('turns a push into one SourceChanged event per pipeline following the repository', async () => {
    const delivery = signedDelivery('push', pushExamples.branch, SECRET, '72d3162e-cc78-11e3-81ab-4c9367dc0958');
    expect(await answer(urlEvent(delivery))).toEqual({
      status: 202,
      body: {
        message: 'push to refs/heads/master at 6113728f27ae sent to hello-api, hello-web',
        delivery: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
        pipelines: ['hello-api', 'hello-web'],
      },
    });
    const example = pushExamples.branch as {
      head_commit: { message: string; author: { name: string; email: string } };
    };
    expect(published).toEqual(
      ['hello-api', 'hello-web'].map((pipeline) => ({
        pipeline,
        repository: 'Codertocat/Hello-World',
        branch: 'master',
        referenceType: 'branch',
        commitId: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
        author: { name: example.head_commit.author.name, email: example.head_commit.author.email },
        message: example.head_commit.message,
        // head_commit.timestamp, "2019-05-15T15:19:25Z" in GitHub's example: where lead time starts.
        committedAt: '2019-05-15T15:19:25.000Z',
        changedFiles: ['README.md'],
        trigger: {
          kind: 'github',
          deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
          eventTime: '2026-11-25T10:00:00.000Z',
          pushedBy: 'Codertocat',
        },
      })),
    );
  });

  it('verifies the exact bytes of a body the function URL passed base64-encoded', async () => {
    const delivery = signedDelivery('push', pushExamples.branch, SECRET);
    expect((await answer(urlEvent(delivery, { base64: true }))).status).toBe(202);
    expect(published).toHaveLength(2);
  });

  it('sends a tag push as a tag (the pipeline filters decide), and a deletion as nothing', async () => {
    await answer(urlEvent(signedDelivery('push', pushExamples.tag, SECRET)));
    expect(published.map((e) => [e.referenceType, e.branch])).toEqual([
      ['tag', 'simple-tag'],
      ['tag', 'simple-tag'],
    ]);
    published = [];
    expect(await answer(urlEvent(signedDelivery('push', pushExamples.deletion, SECRET, 'd-1')))).toEqual({
      status: 202,
      body: { message: 'refs/tags/simple-tag was deleted: nothing to build', delivery: 'd-1' },
    });
    expect(published).toEqual([]);
  });

  it('refuses an unsigned, wrongly signed or tampered delivery with 401 before reading it', async () => {
    const delivery = signedDelivery('push', pushExamples.branch, SECRET);
    const unsigned = Object.fromEntries(
      Object.entries(delivery.headers).filter(([name]) => name !== 'x-hub-signature-256'),
    );
    const wrongSecret = signedDelivery('push', pushExamples.branch, 'not-the-secret');
    const tampered = { ...delivery, body: Buffer.from(delivery.body.toString().replace('Codertocat', 'Mallory')) };
    const sha1 = { ...delivery, headers: { ...delivery.headers, 'x-hub-signature-256': 'sha1=abc' } };
    for (const bad of [{ ...delivery, headers: unsigned }, wrongSecret, tampered, sha1]) {
      expect((await answer(urlEvent(bad))).status).toBe(401);
    }
    expect((await answer(urlEvent({ ...delivery, headers: unsigned }))).body.message).toBe(
      'X-Hub-Signature-256 is missing: give the webhook the secret stepline generated',
    );
    expect((await answer(urlEvent(tampered))).body.message).toBe(
      "X-Hub-Signature-256 does not match the body: the webhook's secret is not stepline's, or the body was changed",
    );
    expect(published).toEqual([]);
  });

  it('answers malformed JSON (correctly signed) with 400, and a body over the limit with 413', async () => {
    const body = Buffer.from('{"ref": "refs/heads/main",');
    const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    const malformed = {
      body,
      headers: { ...signedDelivery('push', {}, SECRET).headers, 'x-hub-signature-256': signature },
    };
    const response = await answer(urlEvent(malformed));
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(/^the body is not JSON: /);

    const big = signedDelivery('push', { padding: 'x'.repeat(MAX_WEBHOOK_BODY_BYTES) }, SECRET);
    expect(await answer(urlEvent(big))).toEqual({
      status: 413,
      body: { message: `the delivery is ${big.body.length} bytes; stepline takes at most ${MAX_WEBHOOK_BODY_BYTES}` },
    });
    expect(published).toEqual([]);
  });

  it('says what a payload lacks, and refuses a form-encoded webhook by its content type', async () => {
    const withoutCommits = { ...pushExamples.branch, commits: undefined };
    const response = await answer(urlEvent(signedDelivery('push', withoutCommits, SECRET)));
    expect(response).toMatchObject({
      status: 400,
      body: {
        message:
          'the push payload is not one stepline can read: commits: Invalid input: expected array, received undefined',
      },
    });
    const form = signedDelivery('push', pushExamples.branch, SECRET);
    const formEncoded = { ...form, headers: { ...form.headers, 'content-type': 'application/x-www-form-urlencoded' } };
    expect((await answer(urlEvent(formEncoded))).body.message).toBe(
      `the content type is "application/x-www-form-urlencoded": set the webhook's content type to application/json`,
    );
    expect(published).toEqual([]);
  });

  it('answers ping 200, other events and unfollowed repositories 202 with the reason', async () => {
    expect(await answer(urlEvent(signedDelivery('ping', pingExample, SECRET, 'p-1')))).toEqual({
      status: 200,
      body: { message: 'pong: stepline receives this webhook', delivery: 'p-1' },
    });
    expect((await answer(urlEvent(signedDelivery('issues', issuesExample, SECRET)))).body.message).toBe(
      'a issues event starts nothing: stepline runs on push events',
    );
    const elsewhere = { ...pushExamples.branch, repository: { full_name: 'someone/else' } };
    expect((await answer(urlEvent(signedDelivery('push', elsewhere, SECRET)))).body.message).toBe(
      'no pipeline follows someone/else: nothing started',
    );
    expect(
      (await answer(urlEvent(signedDelivery('push', pushExamples.branch, SECRET), { method: 'GET' }))).status,
    ).toBe(405);
    expect(published).toEqual([]);
  });

  it('leaves the changed files out when the list may be cut or is empty, so path filters never skip on it', async () => {
    const branch = pushExamples.branch as { commits: Record<string, unknown>[] };
    const commit = branch.commits[0]!;
    const cases = [
      { ...branch, commits: [] },
      { ...branch, commits: Array(2048).fill(commit) },
      { ...branch, commits: [{ ...commit, added: Array.from({ length: 3000 }, (_, i) => `f${i}`) }] },
      { ...branch, commits: [{ ...commit, added: Array.from({ length: 1001 }, (_, i) => `f${i}`) }] },
      // 1,000 paths of 200 characters: more than the 128 KiB a SourceChanged event keeps for paths.
      {
        ...branch,
        commits: [{ ...commit, added: Array.from({ length: 1000 }, (_, i) => `src/${i}`.padEnd(200, 'x')) }],
      },
    ];
    for (const payload of cases) await answer(urlEvent(signedDelivery('push', payload, SECRET)));
    expect(published).toHaveLength(10);
    expect(published.every((e) => e.changedFiles === undefined)).toBe(true);
  });

  it('answers 500 when the bus refuses, and never logs the secret, the signature or the body', async () => {
    deps = { ...deps, publisher: { publish: async () => Promise.reject(new Error('InternalFailure')) } };
    const delivery = signedDelivery('push', pushExamples.branch, SECRET, 'd-9');
    expect(await answer(urlEvent(delivery))).toEqual({
      status: 500,
      body: { message: "stepline could not take this delivery; redeliver it from the webhook's Recent Deliveries" },
    });
    expect(logs).toEqual([
      {
        delivery: 'd-9',
        event: 'push',
        status: 500,
        message: 'delivery failed',
        error: 'Error',
        cause: 'InternalFailure',
      },
    ]);
    const logged = JSON.stringify(logs);
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain(delivery.headers['x-hub-signature-256']!.slice(7));
  });
});
