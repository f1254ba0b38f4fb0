/**
 * Records one step of a run (see ProgressEvent) in the run store: a Step Functions task of every
 * pipeline machine, and the target of the platform's execution status rule (a run's execution ended).
 */
import { recordProgress, type ProgressDeps } from '../core/runs/progress';
import { parseInput, progressEventSchema } from '../core/schemas';
import { RunStore } from '../store/run-store';
import { CodeBuildInspector } from './adapters/build-inspector';
import { SfnExecutionStarter } from './adapters/execution-starter';
import { SsmPipelineCatalog } from './adapters/pipeline-catalog';
import { EventBridgeRunEventPublisher } from './adapters/bus-publishers';
import { awsPlatform, once, stdoutLog, type HandlerPlatform, type LogLine } from './environment';

/** The recorder's ports on a platform (local mode moves lanes on with them after a restart). */
export function recordProgressDeps(platform: HandlerPlatform): ProgressDeps {
  const { clients } = platform;
  const store = new RunStore(clients.dynamodb(), platform.tableName);
  return {
    runs: store,
    lanes: store,
    approvals: store,
    builds: new CodeBuildInspector(clients.codebuild(), clients.logs()),
    catalog: new SsmPipelineCatalog(clients.ssm(), platform.catalogPath, platform.now),
    executions: new SfnExecutionStarter(clients.sfn()),
    events: new EventBridgeRunEventPublisher(clients.eventbridge(), platform.sourceBusName),
    now: platform.now,
  };
}

/** The recorder logs nothing of its own: what it records is the run store's, and its failures are the Task's. */
export function handlerOn(platform: HandlerPlatform, _log: LogLine) {
  const deps = recordProgressDeps(platform);
  return async (event: unknown) => recordProgress(parseInput(progressEventSchema, event, 'progress event'), deps);
}

const awsHandler = once(() => handlerOn(awsPlatform(), stdoutLog));

export const handler = (event: unknown) => awsHandler()(event);
