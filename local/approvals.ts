/**
 * Local mode's release gate edges: the decision endpoint's routes on the local endpoint (the HTTP
 * API's, same paths), local stand-ins for what AWS authenticates (IAM on the CLI routes becomes the
 * machine's git identity) and Slack's response URLs delivered into the outbox. The gate's handlers are
 * the ones AWS runs; its sweep's schedule is the declaration's (local/platform-functions.ts).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CallerNaming } from '../core/approval/policy';
import { APPROVAL_ROUTES } from '../core/platform';
import { functionUrlEvent, type FunctionUrlRoute } from './aws-endpoint';
import { LOCAL_ACCOUNT } from './constants';

/** Where local mode's Slack response URLs point: a reply lands in `<outbox>/slack/`. */
export const SLACK_RESPONSE_ROUTE = '/_local/slack/respond/';

/** Headers the local CLI sends instead of an IAM signature. */
export const LOCAL_IDENTITY_HEADER = 'x-stepline-local-identity';
export const LOCAL_DEMO_HEADER = 'x-stepline-demo-approver';

type Handler = (event: unknown) => Promise<unknown>;

/**
 * The decision endpoint's routes. On the CLI routes the local person is the identity the CLI names
 * (its git email), presented as an IAM Identity Center session named by that email, which is how an
 * approver's IAM identity is matched on AWS; the demo approver is marked as such.
 */
export function decisionRoutes(decisions: Handler): Record<string, FunctionUrlRoute> {
  const serve: FunctionUrlRoute = async (request) => {
    const cli = request.url.startsWith(APPROVAL_ROUTES.cli) || request.url.startsWith(APPROVAL_ROUTES.deployments);
    const identity = request.headers[LOCAL_IDENTITY_HEADER];
    const demo = request.headers[LOCAL_DEMO_HEADER] === 'true';
    const authorizer =
      cli && (identity || demo)
        ? {
            ...(identity ? { iam: { userArn: localUserArn(identity) } } : {}),
            ...(identity || demo
              ? { lambda: { ...(demo ? { demo: true } : {}), ...(identity ? { caller: localCaller(identity) } : {}) } }
              : {}),
          }
        : undefined;
    return (await decisions(functionUrlEvent(request, authorizer))) as Awaited<ReturnType<FunctionUrlRoute>>;
  };
  return {
    '/slack/': serve,
    '/approvals/': serve,
    [`${APPROVAL_ROUTES.cli}`]: serve,
    [`${APPROVAL_ROUTES.cli}/`]: serve,
    [`${APPROVAL_ROUTES.deployments}/`]: serve,
  };
}

/**
 * The IAM identity local mode gives the CLI's caller: an IAM Identity Center session named by their git email,
 * as an approver's IAM identity is matched on AWS.
 */
export function localUserArn(identity: string): string {
  return `arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/stepline-local/${identity}`;
}

/** How a refusal names the local CLI's caller: by their git email, not the IAM session it stands in for. */
function localCaller(identity: string): CallerNaming {
  return { you: `${identity}, your git user.email`, remedy: 'set git config user.email to one of theirs' };
}

/** Slack's response URL, locally: each reply is written to `<outbox>/slack/<run>-response-<n>.json`. */
export function slackResponseRoute(outboxDir: string): Record<string, FunctionUrlRoute> {
  return {
    [SLACK_RESPONSE_ROUTE]: async (request) => {
      const runId = request.url.slice(SLACK_RESPONSE_ROUTE.length).replace(/[^\w.-]+/g, '-');
      const dir = join(outboxDir, 'slack');
      mkdirSync(dir, { recursive: true });
      const count = readdirSync(dir).filter((f) => f.startsWith(`${runId}-response-`)).length;
      writeFileSync(join(dir, `${runId}-response-${count + 1}.json`), `${request.body.toString('utf8')}\n`);
      return { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' };
    },
  };
}
