/** Step Functions task: records one step of a run (see ProgressEvent) in the run store. */
import { recordProgress, type ProgressDeps } from '../core/progress';
import { parseInput, progressEventSchema } from '../core/schemas';
import { RunStore } from '../store/run-store';
import { CodeBuildInspector } from './adapters/build-inspector';
import { awsPlatform, once, type HandlerPlatform } from './environment';

export function recordProgressDeps(platform: HandlerPlatform): ProgressDeps {
  const { clients } = platform;
  return {
    runs: new RunStore(clients.dynamodb(), platform.tableName),
    builds: new CodeBuildInspector(clients.codebuild(), clients.logs()),
    now: platform.now,
  };
}

export function createHandler(deps: ProgressDeps) {
  return async (event: unknown) => recordProgress(parseInput(progressEventSchema, event, 'progress event'), deps);
}

const awsHandler = once(() => createHandler(recordProgressDeps(awsPlatform())));

export const handler = (event: unknown) => awsHandler()(event);
