/**
 * What a local Lambda function, version and alias are, and the rules Lambda checks them by (names, handler,
 * timeout, reserved environment variables), the dimension sets of an invocation's metrics, and the code hash
 * a version is published by. The module comment of local-lambda.ts says where each rule comes from.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { serviceError, type AwsError } from '../aws-errors';
import type { AccountRegion } from '../../core/deployment/targets';
import { LOCAL_ENVIRONMENT } from '../constants';

export interface FunctionSpec {
  readonly name: string;
  /** `index.handler`: the module `index` (.js, .mjs or .cjs) in the code directory, its export `handler`. */
  readonly handler: string;
  /** 1 to 900. @default 3, as Lambda */
  readonly timeoutSeconds?: number;
  readonly environment?: Readonly<Record<string, string>>;
}

export interface RoutingConfig {
  /** `{ "<version>": weight }`, at most one version, weight 0.0 to 1.0; empty: all traffic on the alias's version. */
  readonly additionalVersionWeights: Readonly<Record<string, number>>;
}

export interface AliasConfiguration {
  readonly aliasArn: string;
  readonly name: string;
  readonly functionVersion: string;
  /** Present only while the alias routes to an additional version. */
  readonly routingConfig?: RoutingConfig;
  readonly revisionId: string;
}

/** A synchronous (RequestResponse) invocation's answer. */
export interface InvocationResult {
  readonly statusCode: number;
  readonly executedVersion: string;
  /** The handler's result, or for a function error `{ errorType, errorMessage, trace? }`. */
  readonly payload: unknown;
  readonly functionError?: 'Unhandled';
}

/** The configuration UpdateFunctionConfiguration changes: what a version freezes besides its code. */
export interface FunctionConfigurationUpdate {
  readonly handler?: string;
  readonly timeoutSeconds?: number;
  readonly environment?: Readonly<Record<string, string>>;
}

/** A function's `LastUpdateStatus`, and for a failed update Lambda's reason and reason code. */
export type LastUpdate =
  | { readonly status: 'InProgress' | 'Successful' }
  | { readonly status: 'Failed'; readonly reasonCode: string; readonly reason: string };

/** What local mode answers for a function's configuration (GetFunctionConfiguration). */
export interface FunctionConfiguration {
  readonly functionName: string;
  readonly functionArn: string;
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly codeSha256?: string;
  readonly revisionId: string;
  /** Local functions are created ready: `Active`. */
  readonly state: 'Active';
  readonly lastUpdate: LastUpdate;
}

/** How an update ends: undefined to succeed, or the reason Lambda would give for a failed one. */
export type UpdateOutcome = (
  name: string,
  update: 'code' | 'configuration',
) => { readonly reasonCode: string; readonly reason: string } | undefined;

export const LATEST = '$LATEST';
export const DEFAULT_TIMEOUT_SECONDS = 3;
const MAX_TIMEOUT_SECONDS = 900;
export const FUNCTION_NAME = /^[a-zA-Z0-9-_]{1,64}$/;
export const ALIAS_NAME = /^(?!\d+$)[a-zA-Z0-9-_]{1,128}$/;
export const PUBLISHED_VERSION = /^[0-9]+$/;
/** Variables the runtime sets itself; Lambda refuses them in a function's environment. */
const RESERVED_ENVIRONMENT = [
  '_HANDLER',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'LAMBDA_TASK_ROOT',
];

/** A function's ARN (with a version or alias: qualified) in the account and Region local Lambda stands in for. */
export function functionArn(
  name: string,
  qualifier?: string,
  { account, region }: AccountRegion = LOCAL_ENVIRONMENT,
): string {
  return `arn:aws:lambda:${region}:${account}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
}

/** Code and the configuration it runs with: $LATEST as it is now, or a published version, frozen. */
export interface Snapshot {
  readonly version: string;
  readonly dir: string;
  readonly codeSha256: string;
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * The dimension sets Lambda publishes an invocation's metrics under ("Working with Lambda function metrics"):
 * `FunctionName` — "aggregate metrics for all versions and aliases of a function"; `Resource` — "metrics for a
 * version or alias of a function"; `ExecutedVersion` — "metrics for a combination of alias and version. Use the
 * `ExecutedVersion` dimension to compare error rates for two versions of a function that are both targets of a
 * weighted alias" (CloudWatch user guide: "This only applies to alias invocations").
 */
export function metricDimensions(
  name: string,
  qualifier: string | undefined,
  throughAlias: boolean,
  executedVersion: string,
): Record<string, string>[] {
  const sets: Record<string, string>[] = [{ FunctionName: name }];
  if (qualifier === undefined) return sets;
  const resource = { FunctionName: name, Resource: `${name}:${qualifier}` };
  sets.push(resource);
  if (throughAlias) sets.push({ ...resource, ExecutedVersion: executedVersion });
  return sets;
}

export function invalid(message: string): AwsError<'InvalidParameterValueException'> {
  return serviceError('InvalidParameterValueException', message);
}

export function checkHandler(handler: string): void {
  if (!/^\S+\.[^\s.]+$/.test(handler)) {
    throw invalid(`Handler must be <module>.<export>, e.g. index.handler: ${handler}`);
  }
}

export function checkTimeout(timeoutSeconds: number): void {
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > MAX_TIMEOUT_SECONDS) {
    throw invalid(`Timeout must be a whole number of seconds from 1 to ${MAX_TIMEOUT_SECONDS}: ${timeoutSeconds}`);
  }
}

export function checkEnvironment(environment: Readonly<Record<string, string>>): void {
  const reserved = Object.keys(environment).filter((key) => RESERVED_ENVIRONMENT.includes(key));
  if (reserved.length) {
    throw invalid(`Lambda was unable to configure your environment variables because they are reserved: ${reserved}`);
  }
}

/** Base64 SHA-256 over every file's relative path and content, in path order. */
export function hashTree(dir: string): string {
  const hash = createHash('sha256');
  for (const path of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const file = join(dir, path);
    if (!statSync(file).isFile()) continue;
    const content = readFileSync(file);
    hash.update(`${path}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest('base64');
}

/**
 * An alias's routing as Lambda allows it (see local-lambda.ts); undefined when it routes everything to its version.
 * `mustBePublished` refuses a version the function has not published.
 */
export function checkRouting(
  mustBePublished: (version: string) => unknown,
  functionVersion: string,
  weights: Readonly<Record<string, number>>,
): Record<string, number> | undefined {
  const entries = Object.entries(weights);
  if (entries.length === 0) return undefined;
  if (entries.length > 1) {
    throw invalid(`An alias can route to at most one additional version; got ${entries.map(([v]) => v).join(', ')}`);
  }
  const [version, weight] = entries[0]!;
  if (!PUBLISHED_VERSION.test(version) || functionVersion === LATEST) {
    throw invalid('A weighted alias routes between published versions only: it cannot point to $LATEST');
  }
  if (typeof weight !== 'number' || !(weight >= 0 && weight <= 1)) {
    throw invalid(`The weight of version ${version} must be between 0.0 and 1.0: ${weight}`);
  }
  if (version === functionVersion) {
    throw invalid(`The additional version ${version} must differ from the alias's version ${functionVersion}`);
  }
  mustBePublished(version);
  return { [version]: weight };
}
