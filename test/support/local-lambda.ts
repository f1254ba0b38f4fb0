/** Local mode's Lambda behind its endpoint, reached with the real Lambda client, for tests of deployments. */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalEndpoint, type LocalEndpoint } from '../../local/aws-endpoint';
import { lambdaApiRoute } from '../../local/functions/lambda-api';
import { LocalMetrics } from '../../local/functions/metrics';
import { LocalFunctions, type UpdateOutcome } from '../../local/functions/local-lambda';

export interface LocalLambda {
  readonly dir: string;
  readonly functions: LocalFunctions;
  readonly endpoint: LocalEndpoint;
  readonly lambda: LambdaClient;
  /** Writes a handler answering `body` into its own folder under `dir`; answers the folder. */
  code(name: string, body: string): Promise<string>;
  close(): Promise<void>;
}

export async function startLocalLambda(options: {
  readonly updateMs: number;
  readonly updateOutcome?: UpdateOutcome;
}): Promise<LocalLambda> {
  const dir = await mkdtemp(join(tmpdir(), 'stepline-lambda-'));
  const functions = new LocalFunctions({ rootDir: join(dir, 'functions'), metrics: new LocalMetrics(), ...options });
  const endpoint = await startLocalEndpoint({}, {}, lambdaApiRoute(functions));
  const lambda = new LambdaClient({
    endpoint: endpoint.url,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    dir,
    functions,
    endpoint,
    lambda,
    async code(name, body) {
      const folder = join(dir, name);
      await mkdir(folder);
      await writeFile(join(folder, 'index.js'), `exports.handler = async () => (${body});`);
      return folder;
    },
    async close() {
      lambda.destroy();
      await functions.close();
      await endpoint.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Function `web` with versions 1 and 2 (answering 1 and 2), its alias `live` on version 1. */
export async function webWithTwoVersions({ functions, code }: LocalLambda): Promise<void> {
  functions.createFunction({ name: 'web', handler: 'index.handler' });
  for (const body of ['1', '2']) {
    functions.updateFunctionCode('web', await code(`code-${body}`, body));
    await functions.updated('web');
    functions.publishVersion('web');
  }
  functions.createAlias('web', 'live', '1');
}
