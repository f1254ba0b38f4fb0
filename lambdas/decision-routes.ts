/**
 * The decision endpoint's routes for people deciding a gate, each authenticating the person before
 * anything is read or decided (lambdas/approval-decisions.ts routes requests here):
 *
 * - `POST /slack/interactions`: Slack's v0 request signature over the exact body bytes, timestamps
 *   more than 5 minutes off refused; the clicker is the Slack user id. The message is replaced in place
 *   through `response_url`; a refusal is answered to the clicker alone (ephemeral), saying why.
 * - `GET /approvals/decide?token=…`: an email link. Shows the confirmation page and decides nothing.
 * - `POST /approvals/decide`: the page's form. The signed token names the approver and the decision;
 *   each token works once and expires with the gate.
 * - `/cli/approvals…`: the CLI, IAM-authorized on AWS; the person is the caller's IAM identity.
 *
 * Deciding, recording and resuming are core/approval/gate.ts's; this maps requests and answers.
 */
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import type * as z from 'zod';
import { decide, openApprovals, publicView, type DecideDeps, type DecisionRequest } from '../core/approval/gate';
import { slackApprovalMessage, SLACK_ACTIONS, SLACK_BLOCK_PREFIX } from '../core/approval/messages';
import { confirmationPage, PAGE_HEADERS, resultPage } from '../core/approval/pages';
import { approverOf, type Principal } from '../core/approval/policy';
import { DecisionRefusedError } from '../core/approval/errors';
import { APPROVAL_ROUTES } from '../core/platform';
import { OPEN_APPROVAL_STATUSES, type ApprovalRecord } from '../core/records';
import { callerNamingSchema, cliDecisionSchema, slackBlockActionsSchema } from '../core/schemas';
import { forSlack } from '../core/text';
import type { RunStore } from '../store/run-store';
import { checkDecisionLink } from './adapters/decision-links';
import { checkSlackRequest } from './adapters/slack-signature';
import type { LogLine } from './environment';

/** What the people's routes need beyond deciding: the gates, the secrets that authenticate, Slack's replies. */
export interface DecisionRoutesDeps extends DecideDeps {
  readonly approvals: RunStore;
  readonly linkKey: () => Promise<string>;
  readonly slackSigningSecret: () => Promise<string>;
  /** Posts to a Slack `response_url` (the message's in-place update, or an ephemeral refusal), within `timeoutMs`. */
  readonly respondToSlack: (responseUrl: string, body: Record<string, unknown>, timeoutMs: number) => Promise<void>;
}

/**
 * Slack's acknowledgement window: an interaction must be answered with 200 within 3 seconds (Slack docs,
 * "Handling user interaction", https://docs.slack.dev/interactivity/handling-user-interaction).
 */
const SLACK_ACK_MS = 3000;
/** Kept back for the answer's way to Slack. */
const SLACK_ACK_MARGIN_MS = 400;
/** Less than this left: the update is not tried (it could not come back in time). */
const MIN_SLACK_RESPONSE_MS = 100;

export type HttpEvent = APIGatewayProxyEventV2WithIAMAuthorizer & {
  readonly requestContext: {
    readonly authorizer?: { readonly lambda?: { readonly demo?: unknown; readonly caller?: unknown } };
  };
};

export interface HttpAnswer {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function bodyOf(event: HttpEvent): Buffer {
  return Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
}

export async function slack(event: HttpEvent, deps: DecisionRoutesDeps, log: LogLine): Promise<HttpAnswer> {
  const raw = bodyOf(event);
  const check = checkSlackRequest({
    signingSecret: await deps.slackSigningSecret(),
    timestamp: event.headers['x-slack-request-timestamp'],
    signature: event.headers['x-slack-signature'],
    rawBody: raw,
    now: deps.now(),
  });
  if (!check.ok) {
    log({ message: 'Slack request refused', refusal: check.refusal });
    return json(401, { message: check.message });
  }
  const payloadText = new URLSearchParams(raw.toString('utf8')).get('payload');
  let parsed: z.infer<typeof slackBlockActionsSchema>;
  try {
    parsed = slackBlockActionsSchema.parse(JSON.parse(payloadText ?? ''));
  } catch {
    return json(400, { message: 'the interaction has no block_actions payload stepline understands' });
  }
  const action = parsed.actions[0]!;
  const decision =
    action.action_id === SLACK_ACTIONS.approve
      ? 'approve'
      : action.action_id === SLACK_ACTIONS.reject
        ? 'reject'
        : undefined;
  if (!decision || !action.block_id.startsWith(SLACK_BLOCK_PREFIX))
    return json(200, { message: 'not a stepline control' });
  const runId = action.block_id.slice(SLACK_BLOCK_PREFIX.length).replace(/:reject$/, '');
  const request: DecisionRequest = {
    runId,
    principal: { kind: 'slack', userId: parsed.user.id },
    decision,
    ...(decision === 'reject' ? { reason: action.value ?? '' } : {}),
    via: 'slack',
  };
  const outcome = await decideOrRefuse(request, deps, log);
  if (parsed.response_url) {
    const reply =
      'refused' in outcome
        ? {
            response_type: 'ephemeral',
            replace_original: false,
            // A refusal can quote what a person or a change wrote (a run id, a reason): inert in Slack too.
            text: `stepline did not take your ${decision}: ${forSlack.mrkdwn(outcome.refused)}`,
          }
        : {
            replace_original: true,
            ...slackApprovalMessage(outcome.approval, await deps.approvals.listDecisions(runId)),
          };
    // Slack counts an interaction not answered within 3 s from its request as failed (and shows the clicker a
    // warning), so the message's update gets what is left of that window, measured from when the request
    // reached the endpoint (API Gateway's timeEpoch: a cold start counts), with a margin for the answer's way
    // back. The decision stands whether or not Slack takes the update; the next update, and the gate's outcome
    // message, carry it too.
    const left = SLACK_ACK_MS - SLACK_ACK_MARGIN_MS - (deps.now().getTime() - event.requestContext.timeEpoch);
    if (left < MIN_SLACK_RESPONSE_MS)
      log({ message: 'Slack response URL skipped: no time left in the 3-second window', runId, leftMs: left });
    else
      await deps
        .respondToSlack(parsed.response_url, reply, left)
        .catch((error: unknown) =>
          log({ message: 'Slack response URL failed', runId, cause: (error as Error).message }),
        );
  }
  // Slack wants a quick 200; what the clicker sees comes through response_url.
  return { statusCode: 200, headers: {}, body: '' };
}

async function decideOrRefuse(
  request: DecisionRequest,
  deps: DecisionRoutesDeps,
  log: LogLine,
): Promise<{ approval: ApprovalRecord; message: string } | { refused: string; status: number }> {
  try {
    const result = await decide(request, deps);
    log({
      message: 'decision taken',
      runId: request.runId,
      via: request.via,
      decision: request.decision,
      ended: result.ended,
      status: result.approval.status,
    });
    return result;
  } catch (error) {
    if (!(error instanceof DecisionRefusedError)) throw error;
    log({
      message: 'decision refused',
      runId: request.runId,
      via: request.via,
      status: error.status,
      reason: error.message,
    });
    return { refused: error.message, status: error.status };
  }
}

const LINK_REFUSAL_STATUS = { malformed: 400, tampered: 403, expired: 410 } as const;

export async function linkPage(event: HttpEvent, deps: DecisionRoutesDeps): Promise<HttpAnswer> {
  const token = new URLSearchParams(event.rawQueryString ?? '').get('token') ?? '';
  const check = checkDecisionLink(await deps.linkKey(), token, deps.now());
  if (!check.ok) return page(LINK_REFUSAL_STATUS[check.refusal], resultPage('This link does not work', check.message));
  const { claims } = check;
  const approval = await deps.approvals.getApproval(claims.runId);
  const policy = approval && (await deps.catalog.lookup(approval.pipeline))?.approval;
  const approver = policy && approverOf(policy, { kind: 'approver', id: claims.approverId });
  if (!approval || !approver)
    return page(
      404,
      resultPage('This link does not work', `run ${claims.runId} has no release gate for ${claims.approverId}`),
    );
  // Opening a link to a decided gate says so at once, rather than after its form is sent.
  if (!OPEN_APPROVAL_STATUSES.includes(approval.status))
    return page(
      409,
      resultPage('Nothing to decide', `the gate is closed: the release was ${approval.status.toLowerCase()}`, approval),
    );
  return page(
    200,
    confirmationPage({
      approval,
      approverName: approver.name ?? approver.id,
      decision: claims.decision,
      token,
      action: APPROVAL_ROUTES.decide,
    }),
  );
}

export async function linkDecision(event: HttpEvent, deps: DecisionRoutesDeps, log: LogLine): Promise<HttpAnswer> {
  const form = new URLSearchParams(bodyOf(event).toString('utf8'));
  const check = checkDecisionLink(await deps.linkKey(), form.get('token') ?? '', deps.now());
  if (!check.ok) return page(LINK_REFUSAL_STATUS[check.refusal], resultPage('Not decided', check.message));
  const { claims } = check;
  if (form.get('decision') !== claims.decision)
    return page(
      400,
      resultPage('Not decided', `this link is for ${claims.decision === 'approve' ? 'approving' : 'rejecting'} only`),
    );
  const outcome = await decideOrRefuse(
    {
      runId: claims.runId,
      principal: { kind: 'approver', id: claims.approverId },
      decision: claims.decision,
      ...(form.get('reason') ? { reason: form.get('reason')! } : {}),
      via: 'email',
      linkNonce: claims.nonce,
    },
    deps,
    log,
  );
  if ('refused' in outcome) return page(outcome.status, resultPage('Not decided', outcome.refused));
  return page(200, resultPage('Decision recorded', outcome.message, outcome.approval));
}

export async function cli(event: HttpEvent, deps: DecisionRoutesDeps, log: LogLine): Promise<HttpAnswer> {
  const arn = event.requestContext.authorizer?.iam?.userArn;
  const demo = event.requestContext.authorizer?.lambda?.demo === true;
  if (!arn && !demo)
    return json(401, { message: 'the CLI routes need an IAM-signed request (the caller is the approver)' });
  const method = event.requestContext.http.method;
  const runId = event.rawPath.slice(APPROVAL_ROUTES.cli.length + 1);
  if (!runId) {
    if (method !== 'GET') return json(405, { message: `${method} ${APPROVAL_ROUTES.cli}: use GET` });
    return json(200, { approvals: (await openApprovals(deps)).map(publicView) });
  }
  if (method === 'GET') {
    const approval = await deps.approvals.getApproval(runId);
    if (!approval) return json(404, { message: `run ${runId} has no release gate` });
    return json(200, {
      approval: publicView(approval),
      decisions: await deps.approvals.listDecisions(runId),
      audit: await deps.approvals.listAudit(runId),
    });
  }
  if (method !== 'POST') return json(405, { message: `${method} ${event.rawPath}: use GET or POST` });
  const body = cliDecisionSchema.safeParse(safeJson(bodyOf(event).toString('utf8')));
  if (!body.success)
    return json(400, {
      message: `invalid decision: ${body.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`,
    });
  const naming = callerNamingSchema.safeParse(event.requestContext.authorizer?.lambda?.caller);
  const principal: Principal = {
    kind: 'iam',
    arn: arn ?? 'local-demo',
    ...(naming.success ? { naming: naming.data } : {}),
  };
  const outcome = await decideOrRefuse(
    { runId, principal, ...body.data, via: 'cli', ...(demo ? { demo: true } : {}) },
    deps,
    log,
  );
  if ('refused' in outcome) return json(outcome.status, { message: outcome.refused });
  return json(200, { message: outcome.message, approval: publicView(outcome.approval) });
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function json(statusCode: number, body: Record<string, unknown>): HttpAnswer {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function page(statusCode: number, html: string): HttpAnswer {
  return { statusCode, headers: { ...PAGE_HEADERS }, body: html };
}
