/**
 * The notifier: target of the platform bus's run-event rule (RunStarted, RunEnded). Records and
 * delivers the messages the run's pipeline asks for (core/notification/delivery.ts); what it could not deliver
 * makes it fail, so that Lambda retries the asynchronous invocation and then keeps it in the DLQ.
 */
import { notify, type NotifyDeps } from '../core/notification/delivery';
import { parseInput, runEventSchema } from '../core/schemas';
import { RunStore } from '../store/run-store';
import { SsmPipelineCatalog } from './adapters/pipeline-catalog';
import { awsPlatform, once, stdoutLog, type HandlerPlatform, type LogLine } from './environment';

function notifyDeps(platform: HandlerPlatform): NotifyDeps {
  const { clients } = platform;
  const store = new RunStore(clients.dynamodb(), platform.tableName);
  return {
    catalog: new SsmPipelineCatalog(clients.ssm(), platform.catalogPath, platform.now),
    runs: store,
    notifications: store,
    sender: platform.edges.notificationSender(),
    links: (run) => ({ run: platform.runLink(run) }),
    now: platform.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

export function createHandler(deps: NotifyDeps, log: LogLine = stdoutLog) {
  return async (event: unknown) => {
    try {
      const runEvent = parseInput(runEventSchema, event, 'run event');
      const result = await notify(runEvent, deps);
      if (result.delivered.length) log({ message: 'notifications delivered', runId: runEvent.runId, ...result });
      return result;
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      log({ message: 'notifications not delivered', error: failure.name, cause: failure.message, event });
      throw error;
    }
  };
}

export function handlerOn(platform: HandlerPlatform, log: LogLine) {
  return createHandler(notifyDeps(platform), log);
}

const awsHandler = once(() => handlerOn(awsPlatform(), stdoutLog));

export const handler = (event: unknown) => awsHandler()(event);
