/**
 * The GitHub webhook receiver: a delivery becomes one SourceChanged event per pipeline that follows
 * the pushed repository, or an answer that says why it becomes none. The signature is checked on the
 * exact bytes received before anything in them is read; GitHub never retries a failed delivery by
 * itself, and a manual redelivery keeps its `X-GitHub-Delivery`, which names the run (core/runs/naming.ts),
 * so a redelivery finds the run the first delivery started instead of starting another.
 */
import * as z from 'zod';
import type { CatalogListing, Clock, SourceEventPublisher } from '../ports';
import type { SourceChanged } from '../records';
import { SOURCE_CHANGED_LIMITS } from '../schemas';
import { excerpt } from '../text';
import { gitHubTimestamp } from './commit-dates';
import { pipelinesFollowing } from './followers';

/**
 * The largest delivery accepted: 5 MiB. GitHub sends up to 25 MB; a Lambda function takes 6 MB
 * synchronously, so a larger push is answered 413 here, with the reason, before Lambda refuses it bare.
 */
export const MAX_WEBHOOK_BODY_BYTES = 5 * 1024 * 1024;

/** GitHub lists at most 2,048 commits in a push and 3,000 files per commit: a list at either bound may be cut. */
const GITHUB_LISTED_COMMITS = 2048;
const GITHUB_LISTED_FILES = 3000;
const NO_COMMIT = /^0{40}$/;

export interface WebhookRequest {
  readonly method: string;
  /** Header names in lower case (as a function URL and HTTP API deliver them). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The body exactly as received. */
  readonly body: Uint8Array;
}

export interface WebhookResponse {
  readonly statusCode: number;
  readonly body: { readonly message: string; readonly [field: string]: unknown };
}

export interface GitHubWebhookDeps {
  /** Whether `signature` (the X-Hub-Signature-256 header) is the HMAC-SHA256 of `body` with the webhook secret. */
  readonly verifySignature: (body: Uint8Array, signature: string) => Promise<boolean>;
  readonly catalog: CatalogListing;
  readonly publisher: SourceEventPublisher;
  readonly now: Clock;
}

const commitId = z.string().regex(/^[0-9a-f]{40}$/);
const gitHubCommit = z.object({
  id: commitId,
  message: z.string(),
  author: z.object({ name: z.string(), email: z.string() }),
  /** ISO 8601 with an offset; read leniently: a form not understood is "not known" (commit-dates.ts). */
  timestamp: z.string().optional(),
  added: z.array(z.string()).default([]),
  modified: z.array(z.string()).default([]),
  removed: z.array(z.string()).default([]),
});

/** The fields of a `push` delivery stepline reads (GitHub's docs: webhook events and payloads, push). */
const pushSchema = z.object({
  ref: z.string().regex(/^refs\/(heads|tags)\/.+/, 'must be refs/heads/<branch> or refs/tags/<tag>'),
  before: commitId,
  after: commitId,
  created: z.boolean(),
  deleted: z.boolean(),
  commits: z.array(gitHubCommit),
  head_commit: gitHubCommit.nullable(),
  repository: z.object({ full_name: z.string().regex(/^[\w.-]+\/[\w.-]+$/) }),
  pusher: z.object({ name: z.string() }).optional(),
  sender: z.object({ login: z.string() }).optional(),
});
type Push = z.infer<typeof pushSchema>;

const answer = (statusCode: number, message: string, fields: Record<string, unknown> = {}): WebhookResponse => ({
  statusCode,
  body: { message, ...fields },
});

export async function receiveGitHubDelivery(
  request: WebhookRequest,
  deps: GitHubWebhookDeps,
): Promise<WebhookResponse> {
  if (request.method !== 'POST') return answer(405, `${request.method} is not a webhook delivery: GitHub POSTs`);
  if (request.body.byteLength > MAX_WEBHOOK_BODY_BYTES) {
    return answer(
      413,
      `the delivery is ${request.body.byteLength} bytes; stepline takes at most ${MAX_WEBHOOK_BODY_BYTES}`,
    );
  }
  const signature = request.headers['x-hub-signature-256'];
  if (!signature) {
    return answer(401, 'X-Hub-Signature-256 is missing: give the webhook the secret stepline generated');
  }
  if (!(await deps.verifySignature(request.body, signature))) {
    return answer(
      401,
      "X-Hub-Signature-256 does not match the body: the webhook's secret is not stepline's, or the body was changed",
    );
  }

  const event = request.headers['x-github-event'];
  const delivery = request.headers['x-github-delivery'];
  if (!event || !delivery) return answer(400, 'X-GitHub-Event and X-GitHub-Delivery are required');
  const contentType = request.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(contentType)) {
    return answer(400, `the content type is "${contentType}": set the webhook's content type to application/json`);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(request.body));
  } catch (error) {
    return answer(400, `the body is not JSON: ${(error as Error).message}`);
  }

  if (event === 'ping') return answer(200, 'pong: stepline receives this webhook', { delivery });
  if (event !== 'push')
    return answer(202, `a ${event} event starts nothing: stepline runs on push events`, { delivery });
  const parsed = pushSchema.safeParse(payload);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return answer(400, `the push payload is not one stepline can read: ${fields.join('; ')}`, { delivery });
  }
  const push = parsed.data;
  const repository = push.repository.full_name;
  if (push.deleted) return answer(202, `${push.ref} was deleted: nothing to build`, { delivery });

  const followers = await pipelinesFollowing(deps.catalog, 'github', repository);
  if (followers.length === 0) {
    return answer(202, `no pipeline follows ${repository}: nothing started`, { delivery });
  }
  const events = followers.map((pipeline) => sourceChanged(pipeline, push, delivery, deps.now()));
  await deps.publisher.publish(events);
  return answer(202, `push to ${push.ref} at ${push.after.slice(0, 12)} sent to ${followers.join(', ')}`, {
    delivery,
    pipelines: followers,
  });
}

/** The SourceChanged event of a push for one pipeline. */
function sourceChanged(pipeline: string, push: Push, delivery: string, received: Date): SourceChanged {
  const [, kind, ...name] = push.ref.split('/');
  const head = push.head_commit;
  const changedFiles = listedFiles(push);
  const committedAt = gitHubTimestamp(head?.timestamp);
  return {
    pipeline,
    repository: push.repository.full_name,
    branch: name.join('/'),
    referenceType: kind === 'tags' ? 'tag' : 'branch',
    commitId: push.after,
    ...(NO_COMMIT.test(push.before) ? {} : { parentCommitId: push.before }),
    ...(head
      ? {
          author: { name: head.author.name, email: head.author.email },
          message: excerpt(head.message, Number.MAX_SAFE_INTEGER, SOURCE_CHANGED_LIMITS.message - 1),
        }
      : {}),
    // Where the change's lead time starts (the run record's commit.committedAt).
    ...(committedAt ? { committedAt } : {}),
    ...(changedFiles ? { changedFiles } : {}),
    trigger: {
      kind: 'github',
      deliveryId: delivery,
      // When the delivery arrived: the push's order among others (commit timestamps are the authors').
      eventTime: received.toISOString(),
      ...((push.sender?.login ?? push.pusher?.name) ? { pushedBy: push.sender?.login ?? push.pusher?.name } : {}),
    },
  };
}

/**
 * The files the push's commits changed, or undefined when the list cannot be trusted to be whole:
 * GitHub cut it (too many commits or files), lists no commits (a new branch at a known commit, a
 * force push backwards), or it is longer than a SourceChanged event carries.
 */
function listedFiles(push: Push): string[] | undefined {
  if (push.commits.length === 0 || push.commits.length >= GITHUB_LISTED_COMMITS) return undefined;
  const files = new Set<string>();
  for (const commit of push.commits) {
    const changed = [...commit.added, ...commit.modified, ...commit.removed];
    if (changed.length >= GITHUB_LISTED_FILES) return undefined;
    changed.forEach((file) => files.add(file));
  }
  if (files.size > SOURCE_CHANGED_LIMITS.changedFiles) return undefined;
  if ([...files].some((file) => file.length > SOURCE_CHANGED_LIMITS.path)) return undefined;
  const characters = [...files].reduce((sum, file) => sum + file.length, 0);
  if (characters > SOURCE_CHANGED_LIMITS.changedFilesCharacters) return undefined;
  return [...files].sort();
}
