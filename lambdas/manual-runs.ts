/**
 * Runs started by hand, behind the IAM-authorized routes of the platform's HTTP API (payload format 2.0):
 * `POST /cli/runs/<run>/rerun` and `POST /cli/releases/<pipeline>` (body `{ commit? }`). The person is the
 * caller's IAM identity (locally, the git identity as an IAM session: local/approvals.ts). What starts the
 * run is core/runs/manual-runs.ts; here the request is parsed, and each refusal answered with its status.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BranchNotFoundError } from '../core/errors';
import { RUN_CONTROL_ROUTES } from '../core/platform';
import { BranchHeadUnknownError, ManualRunError, RunNotEndedError } from '../core/runs/errors';
import { release, rerun, type ManualRunDeps, type ManualRunStarted } from '../core/runs/manual-runs';
import { httpApiRequestSchema, manualReleaseSchema } from '../core/schemas';
import { RunStore } from '../store/run-store';
import { EventBridgeSourcePublisher } from './adapters/bus-publishers';
import { CodeCommitReader } from './adapters/commit-reader';
import { SsmPipelineCatalog } from './adapters/pipeline-catalog';
import { json, safeJson, type HttpAnswer } from './decision-routes';
import { awsPlatform, once, stdoutLog, type HandlerPlatform, type LogLine } from './environment';

const RERUN = new RegExp(`^${RUN_CONTROL_ROUTES.runs}/([^/]+)/rerun$`);
const RELEASE = new RegExp(`^${RUN_CONTROL_ROUTES.releases}/([^/]+)$`);

export function manualRunDeps(platform: HandlerPlatform): ManualRunDeps {
  const { clients } = platform;
  const store = new RunStore(clients.dynamodb(), platform.tableName);
  const codecommit = new CodeCommitReader(clients.codecommit());
  return {
    runs: store,
    history: store,
    catalog: new SsmPipelineCatalog(clients.ssm(), platform.catalogPath, platform.now),
    commits: codecommit,
    branches: codecommit,
    publisher: new EventBridgeSourcePublisher(clients.eventbridge(), platform.sourceBusName),
    deliveryId: randomUUID,
    now: platform.now,
    sleep: (ms) => sleep(ms),
  };
}

export function createHandler(deps: ManualRunDeps, log: LogLine = stdoutLog) {
  return async (event: unknown): Promise<HttpAnswer> => {
    const request = httpApiRequestSchema.safeParse(event);
    if (!request.success) return json(400, { message: 'not an HTTP API request (payload format 2.0)' });
    const { rawPath, requestContext } = request.data;
    const by = requestContext.authorizer?.iam?.userArn;
    if (!by) return json(401, { message: 'the CLI routes need an IAM-signed request (the caller starts the run)' });
    if (requestContext.http.method !== 'POST')
      return json(405, { message: `${requestContext.http.method} ${rawPath}: use POST` });
    const rerunOf = RERUN.exec(rawPath)?.[1];
    const pipeline = RELEASE.exec(rawPath)?.[1];
    try {
      let started: ManualRunStarted;
      if (rerunOf !== undefined) started = await rerun(decodeURIComponent(rerunOf), by, deps);
      else if (pipeline !== undefined) {
        const text = Buffer.from(request.data.body ?? '', request.data.isBase64Encoded ? 'base64' : 'utf8').toString();
        const body = manualReleaseSchema.safeParse(text.trim() ? safeJson(text) : {});
        if (!body.success)
          return json(400, {
            message: `invalid release: ${body.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`,
          });
        started = await release(decodeURIComponent(pipeline), body.data.commit, by, deps);
      } else return json(404, { message: `nothing at POST ${rawPath}` });
      log({ message: 'run started by hand', by, ...(rerunOf ? { rerunOf } : {}), ...started });
      const queued = started.status === 'QUEUED' ? ': it waits for the runs before it in its pipeline' : '';
      return json(202, {
        message: `run ${started.runId} of ${started.pipeline} at ${started.commitId.slice(0, 12)} (${started.branch}) ${started.status ? started.status : 'requested'}${queued}`,
        ...started,
      });
    } catch (error) {
      if (error instanceof ManualRunError) {
        log({ message: 'run by hand refused', by, path: rawPath, error: error.name, cause: error.message });
        return json(statusOf(error), { message: error.message, error: error.name });
      }
      log({
        message: 'run by hand failed',
        by,
        path: rawPath,
        error: (error as Error).name,
        cause: (error as Error).message,
      });
      throw error;
    }
  };
}

/** A refusal's status: what does not exist 404, a run still going 409, a request that cannot be served 400. */
function statusOf(error: ManualRunError): number {
  if (error instanceof RunNotEndedError) return 409;
  if (error instanceof BranchHeadUnknownError) return error.cause instanceof BranchNotFoundError ? 404 : 400;
  return 404;
}

export function handlerOn(platform: HandlerPlatform, log: LogLine) {
  return createHandler(manualRunDeps(platform), log);
}

const awsHandler = once(() => handlerOn(awsPlatform(), stdoutLog));

export const handler = (event: unknown) => awsHandler()(event);
