/**
 * AWS's Query protocol, which STS speaks (the SDK's `AwsQueryProtocol`): a form-encoded POST naming its
 * `Action` and `Version`, answered in XML — `<{Action}Response><{Action}Result>…</{Action}Result>
 * <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></{Action}Response>`, or an error as
 * `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId>
 * </ErrorResponse>` with its HTTP status (STS's AccessDenied is 403, as a refused AssumeRole answers:
 * Netflix/security_monkey#77 shows one whole). The local endpoint (aws-endpoint.ts) hands it every request
 * that carries no X-Amz-Target and is form-encoded.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { InvalidRequestError } from '../core/errors';
import { parseInput } from '../core/schemas';
import { AwsError } from './aws-errors';

/** Who signed a request: the access key id and Region of its SigV4 credential scope. */
export interface Signer {
  readonly accessKeyId: string;
  readonly region: string;
}

/**
 * The signer of a request, read from its SigV4 `Authorization` header ("Authenticating requests: using the
 * Authorization header", https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html):
 * `AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/<service>/aws4_request, SignedHeaders=…, Signature=…`.
 * Local mode checks no signature: the key says who calls (local/sts.ts), the scope for which Region.
 */
export function signerOf(headers: Readonly<Record<string, string | string[] | undefined>>): Signer | undefined {
  const authorization = headers.authorization;
  if (typeof authorization !== 'string') return undefined;
  const scope = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\/[^/,\s]+\/aws4_request/.exec(authorization);
  return scope ? { accessKeyId: scope[1]!, region: scope[2]! } : undefined;
}

/** A Query operation: its parameters' shape (all strings, as a form carries them) and its result. */
export interface QueryOperation<T> {
  readonly request: z.ZodType<T>;
  handle(request: T, signer: Signer | undefined): Record<string, unknown>;
}

/** Any Query operation, whatever its request type: what the endpoint holds. */
export interface AnyQueryOperation {
  readonly request: z.ZodType<unknown>;
  handle(request: never, signer: Signer | undefined): Record<string, unknown>;
}

export function queryOperation<T>(
  request: z.ZodType<T>,
  handle: (request: T, signer: Signer | undefined) => Record<string, unknown>,
): QueryOperation<T> {
  return { request, handle };
}

/** The HTTP status of an error a Query service answers: a refusal of who calls is 403; the others, the caller's fault, 400. */
const STATUS: Readonly<Record<string, number>> = {
  AccessDenied: 403,
  InvalidClientTokenId: 403,
  MissingAuthenticationToken: 403,
};

/** Answers one form-encoded Query request; `xmlns` is the service's namespace. */
export function serveQuery(
  operations: Readonly<Record<string, AnyQueryOperation>>,
  xmlns: string,
  body: string,
  signer: Signer | undefined,
): { readonly statusCode: number; readonly body: string } {
  const requestId = randomUUID();
  const fail = (status: number, code: string, message: string) => ({
    statusCode: status,
    body:
      `<ErrorResponse xmlns="${xmlns}"><Error><Type>Sender</Type><Code>${escape(code)}</Code>` +
      `<Message>${escape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  });
  const { Action: action, Version: _version, ...parameters } = Object.fromEntries(new URLSearchParams(body));
  const operation = action === undefined ? undefined : operations[action];
  if (action === undefined || !operation)
    return fail(400, 'InvalidAction', `Could not find operation ${action ?? '(no Action)'} for version 2011-06-15`);
  try {
    const result = operation.handle(parseInput(operation.request, parameters, `${action} request`) as never, signer);
    return {
      statusCode: 200,
      body:
        `<${action}Response xmlns="${xmlns}"><${action}Result>${toXml(result)}</${action}Result>` +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
    };
  } catch (error) {
    if (error instanceof InvalidRequestError) return fail(400, 'ValidationError', error.message);
    if (error instanceof AwsError) return fail(STATUS[error.name] ?? 400, error.name, error.message);
    return fail(500, 'InternalFailure', `local mode failed to serve the request: ${(error as Error).message}`);
  }
}

/** A result's members as XML elements: nested objects nest, dates are ISO 8601 to the second, undefined is left out. */
function toXml(value: Record<string, unknown>): string {
  return Object.entries(value)
    .filter(([, member]) => member !== undefined)
    .map(([name, member]) => {
      const text =
        member instanceof Date
          ? member.toISOString().replace(/\.\d{3}Z$/, 'Z')
          : typeof member === 'object' && member !== null
            ? toXml(member as Record<string, unknown>)
            : escape(String(member));
      return `<${name}>${text}</${name}>`;
    })
    .join('');
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
