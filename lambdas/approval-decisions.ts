/**
 * The decision endpoint (API Gateway HTTP API, payload format 2.0) and the gates' sweep (a schedule).
 * The people's routes (Slack, email links, the CLI's approvals) are lambdas/decision-routes.ts's; here
 * the event is routed, the sweep run, and operators' deployment controls handed to the deploy function.
 */
import { openApprovals, sweepApprovals } from '../core/approval/gate';
import { APPROVAL_ROUTES } from '../core/platform';
import { decisionEventSchema, deploymentControlSchema, type DeploymentControl } from '../core/schemas';
import { gateStoreDeps } from './approval-gate';
import { controlDeployment, type ControlAnswer } from './adapters/deploy-function';
import { CachedSecret } from './adapters/secrets';
import { slackResponder } from './adapters/slack-response';
import { SfnTaskResumer } from './adapters/task-resumer';
import { awsPlatform, once, stdoutLog, type HandlerPlatform, type LogLine } from './environment';
import {
  bodyOf,
  cli,
  json,
  linkDecision,
  linkPage,
  safeJson,
  slack,
  type DecisionRoutesDeps,
  type HttpAnswer,
  type HttpEvent,
} from './decision-routes';

export interface DecisionEndpointDeps extends DecisionRoutesDeps {
  /** Hands a control to the deploy function; resolves with the deployment's status, or a refusal. */
  readonly controlDeployment: (control: DeploymentControl) => Promise<ControlAnswer>;
}

export function approvalDecisionsDeps(platform: HandlerPlatform): DecisionEndpointDeps {
  const { clients } = platform;
  const linkKey = new CachedSecret(clients.secretsManager(), platform.linkKeySecretId, platform.now);
  const signingSecret = new CachedSecret(clients.secretsManager(), platform.slackSigningSecretId, platform.now);
  return {
    ...gateStoreDeps(platform),
    executions: new SfnTaskResumer(clients.sfn()),
    linkKey: () => linkKey.value(),
    slackSigningSecret: () => signingSecret.value(),
    respondToSlack: slackResponder(platform.slackResponseUrls),
    controlDeployment: (control) => controlDeployment(clients.lambda(), platform.deployFunctionArn, control),
    ...(platform.demoApprover ? { demoApprover: true } : {}),
  };
}

export function handlerOn(platform: HandlerPlatform, log: LogLine) {
  const deps = approvalDecisionsDeps(platform);
  return async (event: unknown): Promise<HttpAnswer | Record<string, string>> => {
    const request = decisionEventSchema.safeParse(event);
    if (!request.success) return json(400, { message: 'not an HTTP API request (payload format 2.0) or a sweep' });
    if ('kind' in request.data) {
      const done = await sweep(deps);
      if (Object.keys(done).length) log({ message: 'gates swept', ...done });
      return done;
    }
    // Checked above for what routing reads; each route reads the rest of the request itself.
    const http = request.data as unknown as HttpEvent;
    const method = http.requestContext.http.method;
    const path = http.rawPath;
    try {
      if (path === APPROVAL_ROUTES.slackInteractions && method === 'POST') return await slack(http, deps, log);
      if (path === APPROVAL_ROUTES.decide && method === 'GET') return await linkPage(http, deps);
      if (path === APPROVAL_ROUTES.decide && method === 'POST') return await linkDecision(http, deps, log);
      if (path === APPROVAL_ROUTES.cli || path.startsWith(`${APPROVAL_ROUTES.cli}/`)) return await cli(http, deps, log);
      if (path.startsWith(`${APPROVAL_ROUTES.deployments}/`) && method === 'POST')
        return await deploymentControl(http, deps, log);
      return json(404, { message: `nothing at ${method} ${path}` });
    } catch (error) {
      log({ message: 'decision endpoint failed', path, error: (error as Error).name, cause: (error as Error).message });
      throw error;
    }
  };
}

/** The schedule: expire, release held gates, re-send resumes, and heartbeat every waiting task. */
async function sweep(deps: DecisionEndpointDeps): Promise<Record<string, string>> {
  const done = await sweepApprovals(deps);
  for (const approval of await openApprovals(deps)) {
    if (approval.taskToken && approval.status !== 'PENDING') await deps.executions.heartbeat(approval.taskToken);
  }
  return done;
}

/** `stepline deploy <action> <run> --reason …`: the operator is the caller's IAM identity, as for approvals. */
async function deploymentControl(event: HttpEvent, deps: DecisionEndpointDeps, log: LogLine): Promise<HttpAnswer> {
  const arn = event.requestContext.authorizer?.iam?.userArn;
  if (!arn) return json(401, { message: 'the CLI routes need an IAM-signed request (the caller is the operator)' });
  const runId = event.rawPath.slice(APPROVAL_ROUTES.deployments.length + 1);
  const body = deploymentControlSchema.safeParse(safeJson(bodyOf(event).toString('utf8')));
  if (!body.success)
    return json(400, {
      message: `invalid control: ${body.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`,
    });
  const answer = await deps.controlDeployment({ runId, ...body.data, by: arn });
  log({ message: 'deployment control', runId, action: body.data.action, by: arn, ...answer });
  if ('refused' in answer) return json(409, { message: answer.refused });
  return json(200, { message: `deployment ${answer.status}${answer.outcome ? `: ${answer.outcome}` : ''}`, ...answer });
}

const awsHandler = once(() => handlerOn(awsPlatform(), stdoutLog));

export const handler = (event: unknown) => awsHandler()(event);
