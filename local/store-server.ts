/**
 * A DynamoDB-protocol server for local mode and tests: dynalite, in memory or persisted under a
 * directory, with the run store's table created on start. Clients reach it with the real SDK.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createTableInput } from '../store/schema';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './constants';
import { listenOnLoopback, LOOPBACK_ADDRESS, onlyLoopbackHosts } from './local-address';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: { path?: string; createTableMs?: number }) => Server;

export interface StoreServer {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  close(): Promise<void>;
}

export async function startStoreServer(options: {
  tableName: string;
  path?: string;
  port?: number;
}): Promise<StoreServer> {
  const server = dynalite({ path: options.path, createTableMs: 0 });
  // dynalite answers a request carrying an Origin with `Access-Control-Allow-Origin: *` (its index.js),
  // which would let any web page read the store: the Origin is dropped before dynalite sees the request.
  const [answer] = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request').on('request', (req: IncomingMessage, res: ServerResponse) => {
    delete req.headers.origin;
    answer!(req, res);
  });
  // dynalite takes no Host check of its own: it is put in front of dynalite's request handler.
  onlyLoopbackHosts(server);
  const endpoint = `http://${LOOPBACK_ADDRESS}:${await listenOnLoopback(server, options.port ?? 0)}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  await ensureTable(client, options.tableName);
  return {
    endpoint,
    client,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  // dynalite creates tables asynchronously even with createTableMs 0.
  for (let attempt = 0; attempt < 50; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`local table ${tableName} did not become ACTIVE`);
}
