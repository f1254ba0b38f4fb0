/**
 * Lambda's API on the local endpoint, as `@aws-sdk/client-lambda` calls it (REST-JSON under `/2015-03-31/functions/`),
 * so that the deployer's Lambda adapter runs unchanged against the local runtime: UpdateFunctionCode,
 * UpdateFunctionConfiguration, GetFunction, GetFunctionConfiguration, PublishVersion, GetAlias, UpdateAlias and Invoke
 * (RequestResponse). Updates are asynchronous as on Lambda (local-lambda.ts): their answers, and GetFunction's and
 * GetFunctionConfiguration's, carry `State` and `LastUpdateStatus`.
 *
 * Errors travel as the REST-JSON protocol carries them — the status, the code in `x-amzn-errortype`, and
 * `{ "message" }` — so the SDK throws its own exception classes (`PreconditionFailedException`, ...). A request
 * field local mode does not serve is refused with InvalidParameterValueException naming it, never ignored.
 */
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import type { FunctionUrlRoute } from '../aws-endpoint';
import { InvalidRequestError } from '../../core/errors';
import { parseInput } from '../../core/schemas';
import { AwsError, serviceError, type LambdaErrorCode } from '../aws-errors';
import { invokeInProcess, type LocalFunction } from '../adapters';
import type { FunctionConfiguration, LocalFunctions } from './local-lambda';

/** Where Lambda's API is served on the local endpoint. */
export const LAMBDA_API_PREFIX = '/2015-03-31/functions/';
const PREFIX = LAMBDA_API_PREFIX;

const STATUS: Readonly<Record<LambdaErrorCode, number>> = {
  ResourceNotFoundException: 404,
  ResourceConflictException: 409,
  PreconditionFailedException: 412,
  InvalidParameterValueException: 400,
  InvalidRequestContentException: 400,
};

/**
 * A function as the API names it: `name`, `name:qualifier`, `<account>:function:name[:qualifier]` or
 * `arn:aws:lambda:<region>:<account>:function:name[:qualifier]`. A route serves one account's functions (the
 * caller's: local/accounts.ts), so an ARN's region and account only have to be well formed.
 */
const FUNCTION_NAME =
  /^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/;

const updateFunctionCodeRequest = z.object({
  S3Bucket: z.string().optional(),
  S3Key: z.string().optional(),
  ZipFile: z.string().optional(),
});
const updateFunctionConfigurationRequest = z.object({
  Handler: z.string().optional(),
  Timeout: z.number().optional(),
  Environment: z.object({ Variables: z.record(z.string(), z.string()).optional() }).optional(),
  RevisionId: z.string().optional(),
});
const updateAliasRequest = z.object({
  FunctionVersion: z.string().optional(),
  RoutingConfig: z.object({ AdditionalVersionWeights: z.record(z.string(), z.number()).optional() }).optional(),
  RevisionId: z.string().optional(),
});

type Answer = Awaited<ReturnType<FunctionUrlRoute>>;

/**
 * @param platformFunction the platform's functions, which run in local mode's own process: Invoke of one
 *   of them (by its local name) calls its handler, answered as any function's (invokeInProcess)
 */
export function lambdaApiRoute(
  functions: LocalFunctions,
  platformFunction: (name: string) => LocalFunction | undefined = () => undefined,
): Record<string, FunctionUrlRoute> {
  return {
    [PREFIX]: async (request) => {
      try {
        return await serve(functions, platformFunction, request);
      } catch (error) {
        if (error instanceof AwsError && isLambdaError(error.name))
          return failure(STATUS[error.name], error.name, error.message);
        if (error instanceof InvalidRequestError) return failure(400, 'InvalidParameterValueException', error.message);
        return failure(500, 'ServiceException', `local mode failed to serve the request: ${(error as Error).message}`);
      }
    },
  };
}

async function serve(
  functions: LocalFunctions,
  platformFunction: (name: string) => LocalFunction | undefined,
  request: Parameters<FunctionUrlRoute>[0],
): Promise<Answer> {
  const url = new URL(request.url, 'http://localhost');
  const [functionName = '', resource, aliasName, ...rest] = url.pathname
    .slice(PREFIX.length)
    .split('/')
    .map(decodeURIComponent);
  const operation = rest.length
    ? undefined
    : `${request.method} ${resource ?? ''}${aliasName === undefined ? '' : '/*'}`.trimEnd();
  switch (operation) {
    case 'GET': {
      refuseQualifier(url, 'GetFunction');
      // GetFunction's Code (a presigned URL to the deployment package) has no local counterpart: local code is a
      // directory, not a zip in S3.
      return json(200, {
        Configuration: configurationAnswer(functions.getFunctionConfiguration(unqualified(functionName))),
      });
    }
    case 'GET configuration':
      refuseQualifier(url, 'GetFunctionConfiguration');
      return json(200, configurationAnswer(functions.getFunctionConfiguration(unqualified(functionName))));
    case 'PUT configuration': {
      const body = parseBody(request.body, updateFunctionConfigurationRequest, 'UpdateFunctionConfiguration');
      const name = unqualified(functionName);
      refuseStaleRevision(functions, name, body.RevisionId);
      const configuration = functions.updateFunctionConfiguration(name, {
        handler: body.Handler,
        timeoutSeconds: body.Timeout,
        environment: body.Environment && (body.Environment.Variables ?? {}),
      });
      return json(200, configurationAnswer(configuration));
    }
    case 'PUT code': {
      const body = parseBody(request.body, updateFunctionCodeRequest, 'UpdateFunctionCode');
      const name = unqualified(functionName);
      const code = functions.updateFunctionCode(name, artifactDirectory(body));
      // The answer names the new code, whose update has only begun.
      return json(200, {
        ...configurationAnswer(functions.getFunctionConfiguration(name)),
        CodeSha256: code.codeSha256,
      });
    }
    case 'POST versions': {
      parseBody(request.body, z.object({}), 'PublishVersion');
      const name = unqualified(functionName);
      const published = functions.publishVersion(name);
      return json(201, {
        FunctionName: name,
        FunctionArn: functions.functionArn(name, published.version),
        Version: published.version,
        CodeSha256: published.codeSha256,
        State: 'Active',
      });
    }
    case 'GET aliases/*':
      return json(200, aliasAnswer(functions.getAlias(unqualified(functionName), aliasName!)));
    case 'PUT aliases/*': {
      const body = parseBody(request.body, updateAliasRequest, 'UpdateAlias');
      const alias = functions.updateAlias(unqualified(functionName), aliasName!, {
        functionVersion: body.FunctionVersion,
        routingConfig: body.RoutingConfig && {
          additionalVersionWeights: body.RoutingConfig.AdditionalVersionWeights ?? {},
        },
        revisionId: body.RevisionId,
      });
      return json(200, aliasAnswer(alias));
    }
    case 'POST invocations':
      return invoke(functions, platformFunction, functionName, url.searchParams.get('Qualifier') ?? undefined, request);
    default:
      return failure(
        404,
        'UnknownOperationException',
        `${request.method} ${url.pathname} is not served by local mode's Lambda API ` +
          '(UpdateFunctionCode, UpdateFunctionConfiguration, GetFunction, GetFunctionConfiguration, PublishVersion, ' +
          'GetAlias, UpdateAlias, Invoke)',
      );
  }
}

async function invoke(
  functions: LocalFunctions,
  platformFunction: (name: string) => LocalFunction | undefined,
  functionName: string,
  queryQualifier: string | undefined,
  request: Parameters<FunctionUrlRoute>[0],
): Promise<Answer> {
  const invocationType = request.headers['x-amz-invocation-type'] ?? 'RequestResponse';
  if (invocationType !== 'RequestResponse') {
    throw invalid(`Local mode serves RequestResponse invocations only, not ${invocationType}`);
  }
  if ((request.headers['x-amz-log-type'] ?? 'None') !== 'None') throw invalid('Local mode does not serve LogType Tail');
  if (request.headers['x-amz-client-context'] !== undefined) throw invalid('Local mode does not serve ClientContext');
  const { name, qualifier: nameQualifier } = parseFunctionName(functionName);
  if (nameQualifier !== undefined && queryQualifier !== undefined && nameQualifier !== queryQualifier) {
    throw invalid('The derived qualifier from the function name does not match the specified qualifier.');
  }
  const qualifier = nameQualifier ?? queryQualifier;
  const inProcess = platformFunction(name);
  if (inProcess && qualifier !== undefined && qualifier !== '$LATEST') {
    throw serviceError('ResourceNotFoundException', `Function not found: ${functions.functionArn(name, qualifier)}`);
  }
  const result = inProcess
    ? await invokeInProcess(inProcess, parseJson(request.body))
    : await functions.invoke(name, qualifier, parseJson(request.body));
  return {
    statusCode: result.statusCode,
    headers: {
      'content-type': 'application/json',
      'x-amz-executed-version': result.executedVersion,
      ...(result.functionError ? { 'x-amz-function-error': result.functionError } : {}),
    },
    body: JSON.stringify(result.payload),
  };
}

/**
 * The code of an UpdateFunctionCode. Local mode's build artifacts are directories, not uploaded zips: S3Key names the
 * artifact directory as a `file://` URL or an absolute path, and S3Bucket (which the SDK requires with it) is not used.
 */
function artifactDirectory(body: z.infer<typeof updateFunctionCodeRequest>): string {
  if (body.ZipFile !== undefined) {
    throw invalid(
      "Local mode takes a build's artifact directory, not a zip file: give S3Key as a file:// URL or an absolute path",
    );
  }
  const key = body.S3Key;
  if (key?.startsWith('file://')) return fileURLToPath(key);
  if (key !== undefined && isAbsolute(key)) return key;
  throw invalid(
    `S3Key must be a file:// URL or an absolute path of a build's artifact directory in local mode: ${key}`,
  );
}

function parseBody<T>(
  body: Buffer,
  schema: z.ZodType<T> & { readonly shape: Readonly<Record<string, unknown>> },
  operation: string,
): T {
  const json = parseJson(body);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw serviceError('InvalidRequestContentException', `The ${operation} request body must be a JSON object`);
  }
  const unserved = Object.keys(json).filter((field) => !(field in schema.shape));
  if (unserved.length) throw invalid(`Local mode does not serve ${unserved.join(', ')} in ${operation}`);
  return parseInput(schema, json, `${operation} request`);
}

/** An empty body is `{}`, as Lambda takes an Invoke without a payload. */
function parseJson(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw serviceError(
      'InvalidRequestContentException',
      `Could not parse request body into json: ${(error as Error).message}`,
    );
  }
}

function parseFunctionName(functionName: string): { name: string; qualifier?: string } {
  const match = FUNCTION_NAME.exec(functionName);
  if (!match) throw invalid(`Not a function name or ARN: ${functionName}`);
  return { name: match[1]!, ...(match[2] === undefined ? {} : { qualifier: match[2] }) };
}

/** The operations on a function itself (its code, its versions, its aliases) take no qualifier. */
function unqualified(functionName: string): string {
  const { name, qualifier } = parseFunctionName(functionName);
  if (qualifier !== undefined) throw invalid(`A qualified function name is not accepted here: ${functionName}`);
  return name;
}

/** A function's configuration as Lambda's FunctionConfiguration shape names it. */
function configurationAnswer(configuration: FunctionConfiguration): Record<string, unknown> {
  const { lastUpdate } = configuration;
  return {
    FunctionName: configuration.functionName,
    FunctionArn: configuration.functionArn,
    Handler: configuration.handler,
    Timeout: configuration.timeoutSeconds,
    Environment: { Variables: configuration.environment },
    Version: '$LATEST',
    ...(configuration.codeSha256 ? { CodeSha256: configuration.codeSha256 } : {}),
    RevisionId: configuration.revisionId,
    State: configuration.state,
    LastUpdateStatus: lastUpdate.status,
    ...(lastUpdate.status === 'Failed'
      ? { LastUpdateStatusReason: lastUpdate.reason, LastUpdateStatusReasonCode: lastUpdate.reasonCode }
      : {}),
  };
}

/** A function's own configuration is served; a published version's (Qualifier) is not. */
function refuseQualifier(url: URL, operation: string): void {
  if (url.searchParams.has('Qualifier')) throw invalid(`Local mode does not serve Qualifier in ${operation}`);
}

/** UpdateFunctionConfiguration's RevisionId: "Update the function only if the revision ID matches" (API reference). */
function refuseStaleRevision(functions: LocalFunctions, name: string, revisionId: string | undefined): void {
  if (revisionId !== undefined && revisionId !== functions.getFunctionConfiguration(name).revisionId) {
    throw serviceError(
      'PreconditionFailedException',
      'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
    );
  }
}

function aliasAnswer(alias: ReturnType<LocalFunctions['getAlias']>): Record<string, unknown> {
  return {
    AliasArn: alias.aliasArn,
    Name: alias.name,
    FunctionVersion: alias.functionVersion,
    Description: '',
    ...(alias.routingConfig
      ? { RoutingConfig: { AdditionalVersionWeights: alias.routingConfig.additionalVersionWeights } }
      : {}),
    RevisionId: alias.revisionId,
  };
}

function invalid(message: string): AwsError<'InvalidParameterValueException'> {
  return serviceError('InvalidParameterValueException', message);
}

function isLambdaError(name: string): name is LambdaErrorCode {
  return Object.hasOwn(STATUS, name);
}

function json(statusCode: number, body: unknown): Answer {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function failure(statusCode: number, code: string, message: string): Answer {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': code },
    body: JSON.stringify({ message }),
  };
}
