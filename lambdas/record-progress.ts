/** Step Functions task: records one step of a run (see ProgressEvent) in the run store. */
import { recordProgress, type ProgressDeps } from '../core/progress';
import { parseInput, progressEventSchema } from '../core/schemas';
import { CodeBuildInspector } from './adapters/build-inspector';
import { awsClients, once, runStoreFromEnv } from './environment';

export function createHandler(deps: ProgressDeps) {
  return async (event: unknown) => recordProgress(parseInput(progressEventSchema, event, 'progress event'), deps);
}

const awsHandler = once(() =>
  createHandler({
    runs: runStoreFromEnv(),
    builds: new CodeBuildInspector(awsClients.codebuild(), awsClients.logs()),
    now: () => new Date(),
  }),
);

export const handler = (event: unknown) => awsHandler()(event);
