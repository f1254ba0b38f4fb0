/**
 * One HTTP endpoint that speaks the AWS JSON protocols of the few operations the handlers call, and
 * STS's Query protocol (local/aws-query.ts), so that they run unchanged with real SDK v3 clients whose
 * `endpoint` points here; each operation learns who signed the request (its key and Region), which
 * tells the accounts apart (local/accounts.ts). Also receives the local git repositories' push notifications.
 *
 * Every request is bounded and checked before any operation sees it: a body over MAX_BODY_BYTES is
 * answered 413 without being read whole; one that is not JSON, or not the operation's shape, 400 with
 * what is wrong; an unknown operation or route, 400 or 404. Answers are always JSON. A request not
 * addressed to a loopback name with the endpoint's port is refused before any of this (local/local-address.ts).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import * as z from 'zod';
import { AwsError } from './aws-errors';
import { serveQuery, signerOf, type AnyQueryOperation, type Signer } from './aws-query';
import { LOCAL_ACCOUNT } from './constants';
import { listenOnLoopback, LOOPBACK_ADDRESS, onlyLoopbackHosts } from './local-address';
import { InvalidRequestError } from '../core/errors';
import { parseInput } from '../core/schemas';

/** A plain HTTP route served as a Lambda function URL serves its function: raw body, headers, status. */
export type FunctionUrlRoute = (request: {
  readonly method: string;
  /** The path and query string, as requested. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}) => Promise<{ readonly statusCode: number; readonly headers?: Record<string, string>; readonly body: string }>;

/** What a function URL takes synchronously: 6 MB. A larger body is refused before the function runs. */
const FUNCTION_URL_MAX_BYTES = 6 * 1024 * 1024;

/**
 * The largest request body served: 1 MiB. The biggest legitimate request is a StartExecution, whose
 * input Step Functions caps at 256 KiB; a git hook's notification is a few lines.
 */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * An operation: its request's shape, and what it answers to its signer (local/aws-query.ts signerOf; undefined
 * for an unsigned request); it refuses a request with an AwsError (local/aws-errors.ts).
 */
export interface Operation<T> {
  readonly request: z.ZodType<T>;
  handle(request: T, signer: Signer | undefined): unknown;
}

/** Any operation, whatever its request type: what the endpoint holds. */
interface AnyOperation {
  readonly request: z.ZodType<unknown>;
  handle(request: never, signer: Signer | undefined): unknown;
}

/** The operations of a service speaking the Query protocol (STS), by Action, and its XML namespace. */
export interface QueryApi {
  readonly xmlns: string;
  readonly operations: Readonly<Record<string, AnyQueryOperation>>;
}

/** A name or ARN in a request: what most AWS operations take (1 to 2048 characters). */
export const awsName = z.string().min(1).max(2048);

/** Declares an operation, typing `handle` by `request`. */
export function operation<T>(
  request: z.ZodType<T>,
  handle: (request: T, signer: Signer | undefined) => unknown,
): Operation<T> {
  return { request, handle };
}

export interface LocalEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

/** The endpoint's port, taken before the services it serves exist: requests wait until `serve` is called. */
export interface ReservedEndpoint extends LocalEndpoint {
  serve(handler: RequestListener): void;
}

/**
 * Listens on the loopback interface at `port` (0: any free port), refusing requests addressed to any
 * other name; the requests it takes wait until it is served. Fails with a PortInUseError when the port is held.
 */
export async function reserveLocalEndpoint(port = 0): Promise<ReservedEndpoint> {
  let serve!: (handler: RequestListener) => void;
  const served = new Promise<RequestListener>((resolve) => (serve = resolve));
  const server = createServer((req, res) => void served.then((handler) => handler(req, res)));
  onlyLoopbackHosts(server);
  const bound = await listenOnLoopback(server, port);
  return {
    url: `http://${LOOPBACK_ADDRESS}:${bound}`,
    serve,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

const AWS_JSON = 'application/x-amz-json-1.1';

class RequestTooLarge extends Error {}

/**
 * @param operations keyed by X-Amz-Target, e.g. `AWSStepFunctions.StartExecution`
 * @param routes plain POST routes by path (not AWS), e.g. `/_local/git-push`
 * @param functionUrls routes served as function URLs by path, e.g. `/github/webhook`; a key ending
 *   in `/` serves every path below it (an HTTP API's routes to one function)
 * @param reserved where to serve them (reserveLocalEndpoint); @default any free loopback port
 * @param queryApi the service speaking the Query protocol (STS): a form-encoded request without X-Amz-Target
 */
export async function startLocalEndpoint(
  operations: Readonly<Record<string, AnyOperation>>,
  routes: Readonly<Record<string, AnyOperation>> = {},
  functionUrls: Readonly<Record<string, FunctionUrlRoute>> = {},
  reserved?: ReservedEndpoint,
  queryApi?: QueryApi,
): Promise<LocalEndpoint> {
  const endpoint = reserved ?? (await reserveLocalEndpoint());
  endpoint.serve((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const functionUrl =
      functionUrls[path] ??
      Object.entries(functionUrls).find(([prefix]) => prefix.endsWith('/') && path.startsWith(prefix))?.[1];
    const query =
      queryApi &&
      req.headers['x-amz-target'] === undefined &&
      path === '/' &&
      (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    void (functionUrl
      ? serveFunctionUrl(req, res, functionUrl)
      : query
        ? serveQueryRequest(req, res, queryApi)
        : serve(req, res, operations, routes));
  });
  return { url: endpoint.url, close: () => endpoint.close() };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  operations: Readonly<Record<string, AnyOperation>>,
  routes: Readonly<Record<string, AnyOperation>>,
): Promise<void> {
  const target = req.headers['x-amz-target'];
  const aws = typeof target === 'string';
  const reply = (status: number, payload: unknown) => {
    if (res.headersSent) return;
    res.writeHead(status, { 'content-type': aws ? AWS_JSON : 'application/json' });
    res.end(JSON.stringify(payload));
  };
  // AWS's JSON protocols name an error by `__type`; the local routes by `error`.
  const fail = (status: number, code: string, message: string) =>
    reply(status, aws ? { __type: code, message } : { error: code, message });

  const handler = aws ? operations[target] : req.method === 'POST' ? routes[req.url ?? ''] : undefined;
  if (!handler) {
    req.resume();
    return aws
      ? fail(400, 'UnknownOperationException', `${target} is not served locally`)
      : fail(404, 'NotFound', `nothing at ${req.method} ${req.url}`);
  }
  let body: string;
  try {
    body = (await readBody(req, MAX_BODY_BYTES)).toString('utf8');
  } catch (error) {
    if (!(error instanceof RequestTooLarge)) throw error;
    res.setHeader('connection', 'close');
    fail(413, 'RequestEntityTooLarge', `the request body exceeds ${MAX_BODY_BYTES} bytes`);
    return void res.once('finish', () => req.destroy());
  }
  let json: unknown;
  try {
    json = body === '' ? {} : JSON.parse(body);
  } catch (error) {
    return fail(400, 'SerializationException', `the request body is not JSON: ${(error as Error).message}`);
  }
  try {
    const request = parseInput(handler.request, json, aws ? `${target} request` : `${req.url} request`);
    return reply(200, toWire((await handler.handle(request as never, signerOf(req.headers))) ?? {}));
  } catch (error) {
    if (error instanceof InvalidRequestError) return fail(400, 'ValidationException', error.message);
    // An AwsError is that service's answer, named by its error code; anything else is a fault of local mode.
    if (error instanceof AwsError) return fail(400, error.name, error.message);
    const failure = error instanceof Error ? error : new Error(String(error));
    return fail(500, 'InternalFailure', `local mode failed to serve the request: ${failure.message}`);
  }
}

async function serveQueryRequest(req: IncomingMessage, res: ServerResponse, api: QueryApi): Promise<void> {
  let body: Buffer;
  try {
    body = await readBody(req, MAX_BODY_BYTES);
  } catch (error) {
    if (!(error instanceof RequestTooLarge)) throw error;
    res.writeHead(413, { 'content-type': 'text/xml', connection: 'close' });
    res.end();
    return void res.once('finish', () => req.destroy());
  }
  const answer = serveQuery(api.operations, api.xmlns, body.toString('utf8'), signerOf(req.headers));
  res.writeHead(answer.statusCode, { 'content-type': 'text/xml' });
  res.end(answer.body);
}

async function serveFunctionUrl(req: IncomingMessage, res: ServerResponse, route: FunctionUrlRoute): Promise<void> {
  let body: Buffer;
  try {
    body = await readBody(req, FUNCTION_URL_MAX_BYTES);
  } catch (error) {
    if (!(error instanceof RequestTooLarge)) throw error;
    res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ message: `Request must be smaller than ${FUNCTION_URL_MAX_BYTES} bytes` }));
    return void res.once('finish', () => req.destroy());
  }
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : (value ?? '')]),
  );
  try {
    const answer = await route({ method: req.method ?? 'GET', url: req.url ?? '/', headers, body });
    res.writeHead(answer.statusCode, answer.headers ?? {});
    res.end(answer.body);
  } catch (error) {
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: `the function failed: ${(error as Error).message}` }));
  }
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

/** Reads the body, refusing (before reading it whole) one that declares or reaches more than `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limit) return reject(new RequestTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        return reject(new RequestTooLarge());
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The event (payload format 2.0, as function URLs and HTTP APIs send it) a request to a local
 * function URL route becomes. `authorizer` is what an HTTP API's authorizer adds (local mode's stand-in
 * for IAM authorization on the CLI routes).
 */
export function functionUrlEvent(
  request: Parameters<FunctionUrlRoute>[0],
  authorizer?: Record<string, unknown>,
): LambdaFunctionURLEvent {
  const [path, query = ''] = request.url.split(/\?(.*)/s);
  const text = request.body.toString('utf8');
  // Lambda passes a body that is not valid UTF-8 text as base64; a signature is over the bytes.
  const binary = !Buffer.from(text, 'utf8').equals(request.body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path!,
    rawQueryString: query,
    headers: request.headers,
    body: binary ? request.body.toString('base64') : text,
    isBase64Encoded: binary,
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: request.method,
        path: path!,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: request.headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      ...(authorizer ? { authorizer } : {}),
    },
  } as LambdaFunctionURLEvent;
}
