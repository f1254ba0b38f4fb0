/** EventBridge target: starts a pipeline run for a source event's run request (see core/triggers.ts). */
import { parseInput, runRequestSchema } from '../core/schemas';
import { startRun, type StartRunDeps } from '../core/start-run';
import { CodeCommitReader } from './adapters/commit-reader';
import { SfnExecutionStarter } from './adapters/execution-starter';
import { awsClients, once, pipelineCatalogFromEnv, runStoreFromEnv } from './environment';

/** Where the handler's log lines go: stdout (CloudWatch Logs) on AWS, a file in local mode. */
export type LogLine = (entry: Record<string, unknown>) => void;
const stdoutLog: LogLine = (entry) => console.log(JSON.stringify(entry));

export function createHandler(deps: StartRunDeps, log: LogLine = stdoutLog) {
  return async (event: unknown) => {
    const result = await startRun(parseInput(runRequestSchema, event, 'run request'), deps);
    log({ message: result.duplicate ? 'duplicate run request' : 'run started', ...result });
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
