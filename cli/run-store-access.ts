/**
 * The run store as the CLI reads it, wherever it is: on AWS (`--aws`: the table the platform names in SSM, the
 * default credential chain), in a local mode that is running (its store's endpoint, from `endpoint.json`), or in a
 * local mode that is stopped (its store's files opened here, under the state directory's lock so that local mode
 * cannot start on the same files while the CLI reads). The same RunStore reads all three.
 *
 * With it, the two reads a run's logs need, one path for every runtime: CloudWatch Logs' GetLogEvents (AWS, and a
 * running local mode's endpoint, which serves it over its builds) or, local mode stopped, the same local code
 * reading the build's log file; and Step Functions' GetExecutionHistory, where a running stage's build is found.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudWatchLogsClient, GetLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { readConfigFile } from '../bin/config-file';
import { CATALOG_PATH, PLATFORM_PARAMETERS } from '../core/platform';
import type { ExecutionEvent } from '../core/runs/execution-history';
import { SsmPipelineCatalog } from '../lambdas/adapters/pipeline-catalog';
import { localBuildLogFile, readLogEvents } from '../local/build-logs';
import { LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from '../local/constants';
import { ENDPOINT_FILE } from '../local/runtime';
import { lockStateDir } from '../local/state-lock';
import { startStoreServer } from '../local/store-server';
import { RunStore } from '../store/run-store';

export interface RunStoreAccess {
  readonly store: RunStore;
  /** Where the runs are read from, said to the user: `AWS (<region>)`, `local mode (running)`, `local mode (stopped)`. */
  readonly source: string;
  /** The pipelines whose runs there are: the catalog's on AWS, the config's locally. */
  pipelines(): Promise<string[]>;
  /** GetLogEvents, read forward from the head (or from `nextToken`); undefined when there is no such stream. */
  logEvents(request: LogEventsRequest): Promise<LogEventsPage | undefined>;
  /**
   * GetExecutionHistory, newest event first, page by page as the caller reads on; undefined where no execution
   * can be asked (local mode stopped: nothing runs).
   */
  readonly executionHistory?: (executionArn: string) => AsyncIterable<ExecutionEvent>;
  close(): Promise<void>;
}

export interface LogEventsRequest {
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly nextToken?: string;
}

export interface LogEventsPage {
  readonly events: readonly { readonly timestamp?: number; readonly message?: string }[];
  /** Passed back unchanged at the end of the stream (GetLogEvents). */
  readonly nextForwardToken?: string;
}

/** What a running local mode says in `endpoint.json`. */
export interface RunningLocalMode {
  readonly url: string;
  readonly storeEndpoint: string;
  readonly pid: number;
}

export class NoLocalRunsError extends Error {
  override readonly name = 'NoLocalRunsError';
  constructor(readonly stateDir: string) {
    super(`no local runs in ${stateDir}: run \`npm start\` first, or pass --state-dir`);
  }
}

/** The local mode running in `stateDir`, if one is: its `endpoint.json`, when the process that wrote it lives. */
export function runningLocalMode(stateDir: string): RunningLocalMode | undefined {
  let running: RunningLocalMode;
  try {
    running = JSON.parse(readFileSync(join(stateDir, ENDPOINT_FILE), 'utf8')) as RunningLocalMode;
  } catch {
    return undefined;
  }
  try {
    // Signal 0 checks that the process exists: a file a killed local mode left names no one.
    process.kill(running.pid, 0);
    return running;
  } catch {
    return undefined;
  }
}

export async function openRunStore(options: {
  readonly aws?: boolean;
  readonly stateDir: string;
  readonly configFile: string;
}): Promise<RunStoreAccess> {
  if (options.aws) return openAwsRunStore();
  const configured = async () => readConfigFile(options.configFile).pipelines.map((pipeline) => pipeline.name);
  const running = runningLocalMode(options.stateDir);
  if (running) {
    const local = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const client = new DynamoDBClient({ ...local, endpoint: running.storeEndpoint });
    const logs = new CloudWatchLogsClient({ ...local, endpoint: running.url });
    const sfn = new SFNClient({ ...local, endpoint: running.url });
    return {
      store: new RunStore(client, LOCAL_TABLE_NAME),
      source: 'local mode (running)',
      pipelines: configured,
      logEvents: (request) => sdkLogEvents(logs, request),
      executionHistory: (executionArn) => sdkExecutionHistory(sfn, executionArn),
      close: async () => [client, logs, sfn].forEach((c) => c.destroy()),
    };
  }
  const path = join(options.stateDir, 'store');
  if (!existsSync(path)) throw new NoLocalRunsError(options.stateDir);
  const unlock = lockStateDir(options.stateDir);
  try {
    const server = await startStoreServer({ tableName: LOCAL_TABLE_NAME, path });
    return {
      store: new RunStore(server.client, LOCAL_TABLE_NAME),
      source: 'local mode (stopped)',
      pipelines: configured,
      logEvents: async ({ logGroupName, logStreamName, nextToken }) => {
        const file = localBuildLogFile(join(options.stateDir, 'codebuild'), logGroupName, logStreamName);
        return file === undefined ? undefined : readLogEvents(file, { logStreamName, startFromHead: true, nextToken });
      },
      close: async () => {
        await server.close();
        unlock();
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}

async function openAwsRunStore(): Promise<RunStoreAccess> {
  const ssm = new SSMClient({});
  const parameter = await ssm.send(new GetParameterCommand({ Name: PLATFORM_PARAMETERS.runTableName }));
  const dynamodb = new DynamoDBClient({});
  const logs = new CloudWatchLogsClient({});
  const sfn = new SFNClient({});
  return {
    store: new RunStore(dynamodb, parameter.Parameter!.Value!),
    source: `AWS (${await ssm.config.region()})`,
    pipelines: async () => [...(await new SsmPipelineCatalog(ssm, CATALOG_PATH, () => new Date()).list()).keys()],
    logEvents: (request) => sdkLogEvents(logs, request),
    executionHistory: (executionArn) => sdkExecutionHistory(sfn, executionArn),
    close: async () => [ssm, dynamodb, logs, sfn].forEach((c) => c.destroy()),
  };
}

/** A page of a log stream, oldest first; `startFromHead` as a forward token needs it (GetLogEvents). */
async function sdkLogEvents(logs: CloudWatchLogsClient, request: LogEventsRequest): Promise<LogEventsPage | undefined> {
  try {
    const page = await logs.send(new GetLogEventsCommand({ ...request, startFromHead: true }));
    return { events: page.events ?? [], nextForwardToken: page.nextForwardToken };
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/** The execution's events, newest first, a page of up to 1,000 at a time (GetExecutionHistory's most). */
async function* sdkExecutionHistory(sfn: SFNClient, executionArn: string): AsyncIterable<ExecutionEvent> {
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1000, nextToken }),
    );
    for (const event of page.events ?? [])
      yield { ...event, timestamp: event.timestamp?.toISOString() ?? '' } as ExecutionEvent;
    nextToken = page.nextToken;
  } while (nextToken);
}
