/**
 * The demo's bad change (`npm start` pushes it after the good one): it passes every test and its
 * pre-traffic check, then fails in Lambda from the second request a warm environment serves (it
 * reuses a connection it has closed). The canary's errors alarm rolls it back on its own.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { resolveVersion, respond } from './greeting';

let connection: { open: boolean } | undefined;

/** Lambda entry point (`index.handler` in the bundle) for an API Gateway HTTP API, payload format 2.0. */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> {
  if (process.env.AWS_LAMBDA_FUNCTION_NAME) {
    if (connection && !connection.open) throw new Error('connection used after it was closed');
    connection = { open: false };
  }
  const { statusCode, body } = respond({
    method: event.requestContext.http.method,
    path: event.rawPath,
    name: event.queryStringParameters?.name,
    version: resolveVersion(process.env.APP_VERSION),
  });
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}
