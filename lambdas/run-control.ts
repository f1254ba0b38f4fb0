/**
 * `stepline cancel` and `stepline redrive` (HTTP API, payload format 2.0, IAM-authorized: the person is the caller's
 * IAM identity): `POST /cli/runs/<run>/cancel` with `{reason}`, `POST /cli/runs/<run>/redrive`. What they do is
 * core/runs/run-control.ts's; here the request is checked and a refusal answered with its status.
 */
import * as z from 'zod';
import { RunControlRefusedError } from '../core/runs/errors';
import { cancelRun, redriveRun, type RunControlDeps } from '../core/runs/run-control';
import { RUN_CONTROL_ROUTES } from '../core/platform';
import { RunStore } from '../store/run-store';
import { SfnExecutionControl } from './adapters/execution-control';
import { SfnExecutionStarter } from './adapters/execution-starter';
import { EventBridgeRunEventPublisher } from './adapters/bus-publishers';
import { SsmPipelineCatalog } from './adapters/pipeline-catalog';
import { bodyOf, json, safeJson, type HttpAnswer } from './decision-routes';
import { awsPlatform, once, stdoutLog, type HandlerPlatform, type LogLine } from './environment';

const requestSchema = z.looseObject({
  rawPath: z.string().regex(new RegExp(`^${RUN_CONTROL_ROUTES.runs}/[0-9A-Za-z_-]{1,80}/(cancel|redrive)$`)),
  requestContext: z.looseObject({
    http: z.looseObject({ method: z.literal('POST') }),
    authorizer: z.looseObject({ iam: z.looseObject({ userArn: z.string().min(1) }) }).optional(),
  }),
});
const cancelSchema = z.strictObject({ reason: z.string().trim().min(1, 'say why (--reason)').max(1000) });

export function runControlDeps(platform: HandlerPlatform): RunControlDeps {
  const { clients } = platform;
  const store = new RunStore(clients.dynamodb(), platform.tableName);
  return {
    runs: store,
    lanes: store,
    control: store,
    approvals: store,
    catalog: new SsmPipelineCatalog(clients.ssm(), platform.catalogPath, platform.now),
    executions: new SfnExecutionStarter(clients.sfn()),
    executionControl: new SfnExecutionControl(clients.sfn()),
    events: new EventBridgeRunEventPublisher(clients.eventbridge(), platform.sourceBusName),
    now: platform.now,
  };
}

export function handlerOn(platform: HandlerPlatform, log: LogLine) {
  const deps = runControlDeps(platform);
  return async (event: unknown): Promise<HttpAnswer> => {
    const request = requestSchema.safeParse(event);
    if (!request.success) return json(404, { message: 'nothing here: POST /cli/runs/<run>/cancel or …/redrive' });
    const by = request.data.requestContext.authorizer?.iam.userArn;
    if (!by) return json(401, { message: 'the CLI routes need an IAM-signed request (the caller is who acts)' });
    const [runId, action] = request.data.rawPath.slice(RUN_CONTROL_ROUTES.runs.length + 1).split('/') as [
      string,
      string,
    ];
    try {
      if (action === 'redrive') {
        const done = await redriveRun({ runId, by }, deps);
        log({ message: 'run redriven', runId, by, from: done.redrive.fromState, execution: done.redrive.executionArn });
        return json(200, {
          message: `run ${runId} resumes at "${done.redrive.fromState}" (it failed at "${done.failedState}")${done.stages.length ? `; stages run again: ${done.stages.join(', ')}` : ''}`,
          ...done,
        });
      }
      const body = cancelSchema.safeParse(safeJson(bodyOf(event as never).toString('utf8')));
      if (!body.success)
        return json(400, { message: `invalid cancel: ${body.error.issues.map((i) => i.message).join('; ')}` });
      const run = await cancelRun({ runId, by, reason: body.data.reason }, deps);
      log({ message: 'run cancelled', runId, by });
      return json(200, { message: `run ${runId} CANCELLED by ${run.cancelled!.by}: ${run.cancelled!.reason}`, run });
    } catch (error) {
      if (error instanceof RunControlRefusedError) return json(error.status, { message: error.message });
      log({
        message: 'run control failed',
        runId,
        action,
        error: (error as Error).name,
        cause: (error as Error).message,
      });
      throw error;
    }
  };
}

const awsHandler = once(() => handlerOn(awsPlatform(), stdoutLog));

export const handler = (event: unknown) => awsHandler()(event);
