/**
 * The run store as the CLI reads it, wherever it is: on AWS (`--aws`: the table the platform names in SSM, the
 * default credential chain), in a local mode that is running (its store's endpoint, from `endpoint.json`), or in a
 * local mode that is stopped (its store's files opened here, under the state directory's lock so that local mode
 * cannot start on the same files while the CLI reads). The same RunStore reads all three.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { readConfigFile } from '../bin/config-file';
import { CATALOG_PATH, PLATFORM_PARAMETERS } from '../core/platform';
import { SsmPipelineCatalog } from '../lambdas/adapters/pipeline-catalog';
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
  close(): Promise<void>;
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
    const client = new DynamoDBClient({
      endpoint: running.storeEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    return {
      store: new RunStore(client, LOCAL_TABLE_NAME),
      source: 'local mode (running)',
      pipelines: configured,
      close: async () => client.destroy(),
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
  return {
    store: new RunStore(dynamodb, parameter.Parameter!.Value!),
    source: `AWS (${await ssm.config.region()})`,
    pipelines: async () => [...(await new SsmPipelineCatalog(ssm, CATALOG_PATH, () => new Date()).list()).keys()],
    close: async () => {
      ssm.destroy();
      dynamodb.destroy();
    },
  };
}
