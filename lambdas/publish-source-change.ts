/**
 * Target of the one CodeCommit push rule (every push in the account and Region): finds the pipelines
 * following the pushed repository in the catalog and puts the push, shaped by the rule's input transformer
 * (core/sources/triggers.ts), on the platform's bus as one SourceChanged event per pipeline
 * (core/sources/followers.ts), where the run rule picks them up. A push no pipeline follows publishes
 * nothing and says so in the function's log.
 */
import type { CatalogListing, SourceEventPublisher } from '../core/ports';
import { codeCommitPushSchema, parseInput } from '../core/schemas';
import { publishCodeCommitPush } from '../core/sources/followers';
import { EventBridgeSourcePublisher } from './adapters/bus-publishers';
import { SsmPipelineCatalog } from './adapters/pipeline-catalog';
import { awsPlatform, once, stdoutLog, type HandlerPlatform, type LogLine } from './environment';

export interface PublishSourceChangeDeps {
  readonly catalog: CatalogListing;
  readonly publisher: SourceEventPublisher;
}

export function createHandler(deps: PublishSourceChangeDeps, log: LogLine = stdoutLog) {
  return async (event: unknown) => {
    try {
      const push = parseInput(codeCommitPushSchema, event, 'CodeCommit push');
      const pipelines = await publishCodeCommitPush(push, deps);
      const { repository, branch, commitId, trigger } = push;
      log({
        message: pipelines.length ? 'source change published' : `no pipeline follows ${repository}: nothing published`,
        repository,
        branch,
        commitId,
        deliveryId: trigger.deliveryId,
        pipelines,
      });
      return { published: pipelines.length, pipelines };
    } catch (error) {
      // Thrown on, so that Lambda retries the asynchronous invocation and then keeps it in the DLQ;
      // the line says why.
      const failure = error instanceof Error ? error : new Error(String(error));
      log({ message: 'source change not published', error: failure.name, cause: failure.message, event });
      throw error;
    }
  };
}

export function handlerOn(platform: HandlerPlatform, log: LogLine) {
  const { clients } = platform;
  return createHandler(
    {
      catalog: new SsmPipelineCatalog(clients.ssm(), platform.catalogPath, platform.now),
      publisher: new EventBridgeSourcePublisher(clients.eventbridge(), platform.sourceBusName),
    },
    log,
  );
}

const awsHandler = once(() => handlerOn(awsPlatform(), stdoutLog));

export const handler = (event: unknown) => awsHandler()(event);
