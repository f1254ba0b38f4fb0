/** EventBridge target: starts a pipeline run for a source event's run request (see core/triggers.ts). */
import { parseInput, runRequestSchema } from '../core/schemas';
import { startRun, type StartRunDeps } from '../core/start-run';
import { CodeCommitReader } from './adapters/commit-reader';
import { SfnExecutionStarter } from './adapters/execution-starter';
import { awsClients, once, pipelineCatalogFromEnv, runStoreFromEnv } from './environment';

export function createHandler(deps: StartRunDeps) {
  return async (event: unknown) => {
    const result = await startRun(parseInput(runRequestSchema, event, 'run request'), deps);
    console.log(JSON.stringify({ message: result.duplicate ? 'duplicate run request' : 'run started', ...result }));
    return result;
  };
}

const awsHandler = once(() =>
  createHandler({
    catalog: pipelineCatalogFromEnv(),
    runs: runStoreFromEnv(),
    commits: new CodeCommitReader(awsClients.codecommit()),
    executions: new SfnExecutionStarter(awsClients.sfn()),
    now: () => new Date(),
  }),
);

export const handler = (event: unknown) => awsHandler()(event);
