/**
 * One HTTP endpoint that speaks the AWS JSON protocols of the few operations the handlers call, so
 * that they run unchanged with real SDK v3 clients whose `endpoint` points here. Also receives the
 * local git repositories' push notifications.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An operation: parsed JSON request in, JSON-able response out; throw an Error named as the AWS error code. */
export type Operation = (request: Record<string, unknown>) => unknown;

export interface LocalEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * @param operations keyed by X-Amz-Target, e.g. `AWSStepFunctions.StartExecution`
 * @param routes plain POST routes by path (not AWS), e.g. `/_local/git-push`
 */
export async function startLocalEndpoint(
  operations: Readonly<Record<string, Operation>>,
  routes: Readonly<Record<string, (body: string) => Promise<unknown>>> = {},
): Promise<LocalEndpoint> {
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const target = req.headers['x-amz-target'];
    const reply = (status: number, payload: unknown, contentType = 'application/x-amz-json-1.1') => {
      res.writeHead(status, { 'content-type': contentType });
      res.end(JSON.stringify(payload));
    };
    try {
      if (typeof target === 'string') {
        const operation = operations[target];
        if (!operation)
          return reply(400, { __type: 'UnknownOperationException', message: `${target} is not served locally` });
        const result = await operation(body ? (JSON.parse(body) as Record<string, unknown>) : {});
        return reply(200, toWire(result));
      }
      const route = routes[req.url ?? ''];
      if (req.method === 'POST' && route) return reply(200, (await route(body)) ?? {}, 'application/json');
      return reply(404, { message: `nothing at ${req.method} ${req.url}` }, 'application/json');
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      const code = failure.name === 'Error' ? 'ServiceException' : failure.name;
      return reply(code === 'ServiceException' ? 500 : 400, { __type: code, message: failure.message });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

/** AWS JSON protocols carry timestamps as epoch seconds. */
function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, toWire(v)]),
    );
  }
  return value;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
