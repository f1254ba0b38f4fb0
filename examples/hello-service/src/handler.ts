import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { resolveVersion, respond } from './greeting';

/** Lambda entry point (`index.handler` in the bundle) for an API Gateway HTTP API, payload format 2.0. */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> {
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
