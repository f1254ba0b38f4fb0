/**
 * The demo's bad change (`npm start` pushes it after the good one): it passes every test, and fails in
 * Lambda, where its missing configuration is felt. The canary rolls it back on its own.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { resolveVersion, respond } from './greeting';

/** Lambda entry point (`index.handler` in the bundle) for an API Gateway HTTP API, payload format 2.0. */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> {
  if (process.env.AWS_LAMBDA_FUNCTION_NAME && !process.env.GREETING_TABLE) {
    throw new Error('GREETING_TABLE is not set: the release forgot its configuration');
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
