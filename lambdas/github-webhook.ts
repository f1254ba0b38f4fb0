/**
 * The GitHub webhook endpoint (a Lambda function URL, payload format 2.0): verifies each delivery's
 * signature on the exact bytes received, then turns a push into SourceChanged events on the
 * platform's bus (core/sources/github-webhook.ts). Answers within GitHub's 10 s: it only publishes.
 */
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { receiveGitHubDelivery, type GitHubWebhookDeps } from '../core/sources/github-webhook';
import { EventBridgeSourcePublisher } from './adapters/bus-publishers';
import { SsmPipelineCatalog } from './adapters/pipeline-catalog';
import { CachedSecret } from './adapters/secrets';
import { hubSignatureMatches } from './adapters/webhook-signature';
import { awsPlatform, once, stdoutLog, type HandlerPlatform, type LogLine } from './environment';

function githubWebhookDeps(platform: HandlerPlatform): GitHubWebhookDeps {
  const { clients } = platform;
  const secret = new CachedSecret(clients.secretsManager(), platform.webhookSecretId, platform.now);
  return {
    verifySignature: async (body, signature) => {
      if (hubSignatureMatches(await secret.value(), body, signature)) return true;
      // The secret may have been rotated since this container read it: read it again, at most
      // every 30 s, so that deliveries signed with the new one pass at once.
      const rotated = await secret.refreshed();
      return rotated !== undefined && hubSignatureMatches(rotated, body, signature);
    },
    catalog: new SsmPipelineCatalog(clients.ssm(), platform.catalogPath, platform.now),
    publisher: new EventBridgeSourcePublisher(clients.eventbridge(), platform.sourceBusName),
    now: platform.now,
  };
}

/** A function URL's structured response (Lambda also takes a bare string; this handler never answers one). */
export interface FunctionUrlResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function createHandler(deps: GitHubWebhookDeps, log: LogLine = stdoutLog) {
  return async (event: LambdaFunctionURLEvent): Promise<FunctionUrlResponse> => {
    const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    // The signature covers the bytes GitHub sent: a base64-encoded body is decoded, never re-encoded.
    const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
    // What a log line may say of a delivery: never its signature, never its body.
    const delivery = { delivery: headers['x-github-delivery'], event: headers['x-github-event'] };
    try {
      const response = await receiveGitHubDelivery(
        { method: event.requestContext?.http?.method ?? 'POST', headers, body },
        deps,
      );
      log({ ...delivery, status: response.statusCode, message: response.body.message });
      return json(response.statusCode, response.body);
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      log({ ...delivery, status: 500, message: 'delivery failed', error: failure.name, cause: failure.message });
      return json(500, {
        message: "stepline could not take this delivery; redeliver it from the webhook's Recent Deliveries",
      });
    }
  };
}

function json(statusCode: number, body: unknown): FunctionUrlResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export function handlerOn(platform: HandlerPlatform, log: LogLine) {
  return createHandler(githubWebhookDeps(platform), log);
}

const awsHandler = once(() => handlerOn(awsPlatform(), stdoutLog));

export const handler = (event: LambdaFunctionURLEvent) => awsHandler()(event);
