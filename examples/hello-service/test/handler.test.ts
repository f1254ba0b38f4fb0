import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handler } from '../src/handler';

/** A complete HTTP API (payload 2.0) event, as API Gateway sends it for `method path?query`. */
function httpEvent(method: string, path: string, query?: Record<string, string>): APIGatewayProxyEventV2 {
  const rawQueryString = query ? new URLSearchParams(query).toString() : '';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString,
    headers: { host: 'abc123.execute-api.eu-west-1.amazonaws.com' },
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'node:test' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '01/Jan/2025:00:00:00 +0000',
      timeEpoch: 1735689600000,
    },
    isBase64Encoded: false,
  };
}

/** The handler always answers with a structured result; narrow the union and parse the JSON body. */
function parse(res: APIGatewayProxyResultV2): { statusCode: number | undefined; json: unknown } {
  assert.equal(typeof res, 'object');
  const r = res as APIGatewayProxyStructuredResultV2;
  assert.equal(r.headers?.['content-type'], 'application/json; charset=utf-8');
  assert.equal(typeof r.body, 'string');
  return { statusCode: r.statusCode, json: JSON.parse(r.body as string) };
}

describe('handler', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.APP_VERSION;
    process.env.APP_VERSION = '1.4.0';
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.APP_VERSION;
    else process.env.APP_VERSION = saved;
  });

  it('GET /hello?name=World is a 200 greeting with the version', async () => {
    const { statusCode, json } = parse(await handler(httpEvent('GET', '/hello', { name: 'World' })));
    assert.equal(statusCode, 200);
    assert.deepEqual(json, { message: 'Hello, World!', version: '1.4.0' });
  });

  it('reports version "dev" when APP_VERSION is not set', async () => {
    delete process.env.APP_VERSION;
    const { statusCode, json } = parse(await handler(httpEvent('GET', '/hello', { name: 'World' })));
    assert.equal(statusCode, 200);
    assert.deepEqual(json, { message: 'Hello, World!', version: 'dev' });
  });

  it('a bad name is a 400 with a precise error', async () => {
    const { statusCode, json } = parse(await handler(httpEvent('GET', '/hello', { name: 'Robert"); DROP' })));
    assert.equal(statusCode, 400);
    assert.deepEqual(json, {
      error: `query parameter 'name' may contain only letters, digits, spaces and '-': found "\\"" at position 7`,
    });
  });

  it('a missing name is a 400', async () => {
    const { statusCode, json } = parse(await handler(httpEvent('GET', '/hello')));
    assert.equal(statusCode, 400);
    assert.deepEqual(json, { error: "query parameter 'name' is required" });
  });

  it('any other route is a 404', async () => {
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/goodbye'],
      ['POST', '/hello'],
      ['DELETE', '/hello'],
    ] as const) {
      const { statusCode, json } = parse(await handler(httpEvent(method, path, { name: 'World' })));
      assert.equal(statusCode, 404, `${method} ${path}`);
      assert.deepEqual(json, { error: `no route for ${method} ${path}` });
    }
  });
});
