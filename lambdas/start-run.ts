/** EventBridge target of the run rule on the platform's bus: starts a run for a SourceChanged event (it names its pipeline). */
import { parseInput, sourceChangedSchema } from '../core/schemas';
import { startRun, type StartRunDeps } from '../core/runs/start-run';
import { CodeCommitReader } from './adapters/commit-reader';
import { SfnExecutionStarter } from './adapters/execution-starter';
import { SsmPipelineCatalog } from './adapters/pipeline-catalog';
import { awsPlatform, once, stdoutLog, type HandlerPlatform, type LogLine } from './environment';
import { RunStore } from '../store/run-store';

function startRunDeps(platform: HandlerPlatform): StartRunDeps {
  const { clients } = platform;
  const store = new RunStore(clients.dynamodb(), platform.tableName);
  return {
    catalog: new SsmPipelineCatalog(clients.ssm(), platform.catalogPath, platform.now),
    runs: store,
    lanes: store,
    commits: new CodeCommitReader(clients.codecommit()),
    executions: new SfnExecutionStarter(clients.sfn()),
    now: platform.now,
  };
}

export function createHandler(deps: StartRunDeps, log: LogLine = stdoutLog) {
  return async (event: unknown) => {
    try {
      const result = await startRun(parseInput(sourceChangedSchema, event, 'SourceChanged event'), deps);
      const message = result.duplicate ? 'duplicate run request' : result.refused ? 'run refused' : 'run started';
      log({ message, ...result });
      return result;
    } catch (error) {
      // Every request that starts no run leaves a line saying why (then Lambda retries, or the DLQ keeps it).
      const failure = error instanceof Error ? error : new Error(String(error));
      log({ message: 'run request failed', error: failure.name, cause: failure.message, request: event });
      throw error;
    }
  };
}

export function handlerOn(platform: HandlerPlatform, log: LogLine) {
  return createHandler(startRunDeps(platform), log);
}

const awsHandler = once(() => handlerOn(awsPlatform(), stdoutLog));

export const handler = (event: unknown) => awsHandler()(event);
