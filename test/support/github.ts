/** Real GitHub webhook payloads (@octokit/webhooks-examples) and deliveries signed as GitHub signs them. */
import examples from '@octokit/webhooks-examples';
import { createHmac, randomUUID } from 'node:crypto';

type Payload = Record<string, unknown> & { ref?: string; deleted?: boolean };

function examplesOf(event: string): Payload[] {
  const found = (examples as unknown as { name: string; examples: Payload[] }[]).find((e) => e.name === event);
  if (!found) throw new Error(`@octokit/webhooks-examples has no ${event} examples`);
  return found.examples;
}

/** GitHub's own push examples: a branch push, a tag push and a deletion. */
export const pushExamples = {
  branch: examplesOf('push').find((p) => p.ref === 'refs/heads/master' && !p.deleted)!,
  tag: examplesOf('push').find((p) => p.ref?.startsWith('refs/tags/') && !p.deleted)!,
  deletion: examplesOf('push').find((p) => p.deleted)!,
};
export const pingExample = examplesOf('ping')[0]!;
export const issuesExample = examplesOf('issues')[0]!;

export interface Delivery {
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** A delivery of `payload` as GitHub sends it: JSON body, its event and delivery id, signed with `secret`. */
export function signedDelivery(
  event: string,
  payload: unknown,
  secret: string,
  delivery: string = randomUUID(),
): Delivery {
  const body = Buffer.from(JSON.stringify(payload));
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/044aadd',
      'x-github-event': event,
      'x-github-delivery': delivery,
      'x-github-hook-id': '292430182',
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
  };
}
