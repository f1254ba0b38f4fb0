/**
 * Driving the release gate from tests the way its people do: the CLI route (with local mode's
 * identity header), email links from the outbox, Slack clicks signed with local mode's signing secret.
 * Every call goes over HTTP to the local decision endpoint.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APPROVAL_ROUTES } from '../../core/platform';
import type { ApprovalRecord, ApprovalStatus } from '../../core/records';
import { signSlackRequest } from '../../lambdas/adapters/slack-signature';
import { LOCAL_DEMO_HEADER, LOCAL_IDENTITY_HEADER, SLACK_RESPONSE_ROUTE } from '../../local/approvals';
import type { LocalRuntime } from '../../local/runtime';

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** A decision through the CLI route, as the person whose git email is `identity`. */
export async function decideByCli(
  runtime: LocalRuntime,
  runId: string,
  identity: string | 'demo',
  decision: 'approve' | 'reject' | 'override',
  reason?: string,
): Promise<Answer> {
  const response = await fetch(`${runtime.endpoint.url}${APPROVAL_ROUTES.cli}/${runId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(identity === 'demo' ? { [LOCAL_DEMO_HEADER]: 'true' } : { [LOCAL_IDENTITY_HEADER]: identity }),
    },
    body: JSON.stringify({ decision, ...(reason ? { reason } : {}) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Waits until the run's gate is in `status` (the execution reached it, or a decision moved it). */
export async function gateIn(runtime: LocalRuntime, runId: string, status: ApprovalStatus): Promise<ApprovalRecord> {
  for (let waited = 0; waited < 60_000; waited += 50) {
    const approval = await runtime.store.getApproval(runId);
    if (approval?.status === status) return approval;
    const run = await runtime.store.getRun(runId);
    if (run && !['QUEUED', 'RUNNING'].includes(run.status))
      throw new Error(
        `run ${runId} ended ${run.status} (${run.failure?.error}: ${run.failure?.cause}) before its gate was ${status}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the gate of ${runId} never became ${status}`);
}

/** Waits until the notification `id` of a run is delivered (into the outbox, locally). */
export async function delivered(runtime: LocalRuntime, runId: string, id: string): Promise<void> {
  for (let waited = 0; waited < 30_000; waited += 50) {
    const record = (await runtime.store.listNotifications(runId)).find((n) => n.id === id);
    if (record?.status === 'DELIVERED') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`notification ${id} of ${runId} was never delivered`);
}

/** The Approve and Reject links of the approval email an approver got (from the outbox's .eml). */
export function emailLinks(
  runtime: Pick<LocalRuntime, 'stateDir'>,
  runId: string,
  approverId: string,
): { approve: string; reject: string } {
  const file = join(runtime.stateDir, 'outbox', 'email', `${runId}-email-approval-${approverId}.eml`);
  const eml = readFileSync(file, 'utf8');
  const text = Buffer.from(eml.split('\r\n\r\n')[2]!.split('\r\n--')[0]!.replace(/\r\n/g, ''), 'base64').toString();
  const link = (label: string) => new RegExp(`^${label}:\\s+(\\S+)$`, 'm').exec(text)?.[1];
  return { approve: link('Approve')!, reject: link('Reject')! };
}

/** A Slack `block_actions` click on the gate's message, signed as Slack signs it (timestamp `at`). */
export async function slackClick(
  runtime: LocalRuntime,
  click: { runId: string; userId: string; action: 'approve' | 'reject'; reason?: string; at?: Date; secret?: string },
): Promise<number> {
  const payload = {
    type: 'block_actions',
    user: { id: click.userId, username: click.userId.toLowerCase() },
    response_url: `${runtime.endpoint.url}${SLACK_RESPONSE_ROUTE}${click.runId}`,
    actions: [
      click.action === 'approve'
        ? {
            action_id: 'stepline-approve',
            block_id: `stepline-gate:${click.runId}`,
            value: click.runId,
            type: 'button',
          }
        : {
            action_id: 'stepline-reject',
            block_id: `stepline-gate:${click.runId}:reject`,
            value: click.reason ?? '',
            type: 'plain_text_input',
          },
    ],
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const timestamp = String(Math.floor((click.at ?? new Date()).getTime() / 1000));
  const secret = click.secret ?? readFileSync(join(runtime.stateDir, 'slack-signing-secret'), 'utf8').trim();
  const response = await fetch(`${runtime.endpoint.url}${APPROVAL_ROUTES.slackInteractions}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': signSlackRequest(secret, timestamp, body),
    },
    body,
  });
  return response.status;
}

/** What local mode's Slack response URL received for a run, in order. */
export function slackResponses(runtime: LocalRuntime, runId: string): Record<string, unknown>[] {
  const dir = join(runtime.stateDir, 'outbox', 'slack');
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${runId}-response-`))
    .sort((a, b) => Number(/-(\d+)\.json$/.exec(a)![1]) - Number(/-(\d+)\.json$/.exec(b)![1]))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
}
