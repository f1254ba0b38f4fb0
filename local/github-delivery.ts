/**
 * GitHub's side of a webhook, for local mode: a push to a GitHub pipeline's local repository becomes
 * the delivery GitHub would send for it — a `push` payload with GitHub's fields, its headers, and its
 * X-Hub-Signature-256 made with the local webhook secret — so it enters through the same receiver,
 * signature check and all. The commits of the push are listed as one (the head) whose files are every
 * file the push changed: what path filters need.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { LocalGitSource, RefUpdate } from './git-source';

export interface GitHubDelivery {
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

const ZERO = '0'.repeat(40);

/** A secret local mode makes at its first start and keeps (mode 600) in the state directory: the webhook secret, the link key. */
export function localGeneratedSecret(path: string): string {
  if (!existsSync(path))
    writeFileSync(path, randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, ''), { mode: 0o600 });
  return readFileSync(path, 'utf8').trim();
}

/** Headers GitHub sends with a delivery, signed over `body` with `secret`. */
function deliveryHeaders(event: string, body: Buffer, secret: string, delivery: string = randomUUID()) {
  return {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/stepline-local',
    'x-github-event': event,
    'x-github-delivery': delivery,
    'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
  };
}

/** The `push` delivery GitHub would send for one ref update of `fullName` (`owner/repo`). */
export async function pushDelivery(
  git: LocalGitSource,
  fullName: string,
  update: RefUpdate,
  secret: string,
  delivery: string,
  pusher: string,
): Promise<GitHubDelivery> {
  const deleted = update.commitId === ZERO;
  const created = update.oldCommitId === ZERO;
  let head: Record<string, unknown> | null = null;
  if (!deleted) {
    const commit = await git.getCommit(update.repository, update.commitId);
    const differences = await git.differences(
      update.repository,
      created ? undefined : update.oldCommitId,
      update.commitId,
    );
    const person = { name: commit.author.name, email: commit.author.email, username: pusher };
    head = {
      id: update.commitId,
      tree_id: '',
      distinct: true,
      message: commit.message,
      timestamp: commit.author.date,
      url: `https://github.com/${fullName}/commit/${update.commitId}`,
      author: person,
      committer: person,
      added: differences.filter((d) => d.changeType === 'A').map((d) => d.afterPath!),
      modified: differences.filter((d) => d.changeType === 'M').map((d) => d.afterPath!),
      removed: differences.filter((d) => d.changeType === 'D').map((d) => d.beforePath!),
    };
  }
  const payload = {
    ref: update.ref,
    before: update.oldCommitId,
    after: update.commitId,
    repository: { full_name: fullName, name: fullName.split('/')[1], owner: { login: fullName.split('/')[0] } },
    pusher: { name: pusher, email: `${pusher}@users.noreply.github.com` },
    sender: { login: pusher },
    created,
    deleted,
    forced: false,
    base_ref: null,
    compare: `https://github.com/${fullName}/compare/${update.oldCommitId.slice(0, 12)}...${update.commitId.slice(0, 12)}`,
    commits: head ? [head] : [],
    head_commit: head,
  };
  const body = Buffer.from(JSON.stringify(payload));
  return { headers: deliveryHeaders('push', body, secret, delivery), body };
}
