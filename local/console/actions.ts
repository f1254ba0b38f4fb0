/**
 * What the console's buttons do: each is the CLI's own request to the decision endpoint on the local endpoint, as
 * the person this machine's git identity names (LOCAL_IDENTITY_HEADER, as `stepline approve` sends it), so a
 * decision made here passes the same checks (who may approve, separation of duties, the deadline) and is recorded
 * and audited as the CLI's. Redrive, re-run and cancel go to the run-control routes (RUN_CONTROL_ROUTES).
 */
import { execFileSync } from 'node:child_process';
import { APPROVAL_ROUTES, RUN_CONTROL_ROUTES } from '../../core/platform';
import { LOCAL_IDENTITY_HEADER } from '../approvals';

export const RUN_ACTIONS = ['approve', 'reject', 'redrive', 'rerun', 'cancel'] as const;
export type RunAction = (typeof RUN_ACTIONS)[number];

export interface ActionAnswer {
  readonly status: number;
  readonly message: string;
}

/** The person the console acts as: `git config user.email`, read when they act (as the CLI reads it). */
export function gitIdentity(): string | undefined {
  try {
    return execFileSync('git', ['config', 'user.email'], { encoding: 'utf8', env: process.env }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function takeAction(
  endpointUrl: string,
  identity: string | undefined,
  runId: string,
  action: RunAction,
  reason: string | undefined,
): Promise<ActionAnswer> {
  if (!identity)
    return {
      status: 400,
      message: 'local mode knows you by your git email: set it with `git config user.email you@example.com`',
    };
  const run = encodeURIComponent(runId);
  const [path, body] =
    action === 'approve' || action === 'reject'
      ? [`${APPROVAL_ROUTES.cli}/${run}`, { decision: action, ...(reason ? { reason } : {}) }]
      : [`${RUN_CONTROL_ROUTES.runs}/${run}/${action}`, reason ? { reason } : {}];
  const response = await fetch(`${endpointUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [LOCAL_IDENTITY_HEADER]: identity },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let message = text;
  try {
    const answer = JSON.parse(text) as { message?: unknown };
    if (typeof answer.message === 'string') message = answer.message;
  } catch {
    // Not JSON: the text is the answer.
  }
  return { status: response.status, message: message || `${response.status}` };
}
