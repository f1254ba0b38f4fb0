/**
 * Local Lambda: functions, published versions, aliases with weighted routing, and invocations of a build's
 * artifact, publishing the metrics Lambda sends CloudWatch — what a canary release needs to run locally against the
 * same API (lambda-api.ts) and the same alarms (metrics.ts) as on AWS.
 *
 * The Lambda rules a deployment depends on are kept; a request that breaks one fails with Lambda's error name:
 * - "Lambda doesn't create a new version if the code in the unpublished version is the same as the previous
 *   published version" (Lambda developer guide, "Lambda function versions").
 * - A weighted alias: "You can point an alias to a maximum of two Lambda function versions. [...] Both versions must
 *   be published. The alias cannot point to `$LATEST`" ("Lambda function aliases", alias routing configuration);
 *   weights are "Minimum value of 0.0. Maximum value of 1.0" (API reference, AliasRoutingConfiguration); a stale
 *   RevisionId fails with PreconditionFailedException (API reference, UpdateAlias). An alias without routing may
 *   point to `$LATEST`, as the UpdateAlias FunctionVersion pattern `(\$LATEST|[0-9]+)` allows.
 * - Updates are asynchronous ("Lambda function states", https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html,
 *   "Function states during updates"): after UpdateFunctionCode or UpdateFunctionConfiguration, `LastUpdateStatus` is
 *   `InProgress` — "invocations run the function's previous code and configuration" — then `Successful`, or `Failed`
 *   ("Lambda aborted the update and the function's previous code and configuration remain available") with
 *   `LastUpdateStatusReason` and `LastUpdateStatusReasonCode`. While it is `InProgress`, UpdateFunctionCode,
 *   UpdateFunctionConfiguration and PublishVersion are refused with ResourceConflictException "The operation cannot
 *   be performed at this time. An update is in progress for resource: <function ARN>" (the message Lambda answers,
 *   e.g. aws/aws-cli#6585). How long an update takes is Lambda's; local mode takes `updateMs` (see the constructor).
 * - Metrics: `Invocations` is 1 per run of the code, `Errors` 1 or 0 per invocation, `Duration` the handler's time
 *   in ms, stamped with the time of invocation ("The timestamp on a metric reflects when the function was invoked"),
 *   under the dimension sets described in "Working with Lambda function metrics" (see `metricDimensions`).
 *
 * Each version runs in one warm child process (runner.cjs), started at its first invocation and kept for the next
 * ones; it runs one invocation at a time, as an execution environment does — where Lambda would start another
 * environment for a concurrent invocation, local mode queues it. A handler past its timeout, a process that exits,
 * new code on $LATEST or a long idle time end that environment; the next invocation starts a new one.
 *
 * Functions, versions and aliases live in memory, as long as local mode runs; code lives under `rootDir`:
 * `<name>/$LATEST/`, `<name>/versions/<n>/`, and each environment's output in `<name>/logs/<version>.log`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import {
  closeSync,
  cpSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_REGION } from '../constants';
import { killGroup } from '../build-runner/process-group';
import { serviceError, type AwsError } from '../aws-errors';
import type { LocalMetrics } from './metrics';

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

const LATEST = '$LATEST';
const DEFAULT_TIMEOUT_SECONDS = 3;
const MAX_TIMEOUT_SECONDS = 900;
const MEMORY_SIZE_MB = '128';
const FUNCTION_NAME = /^[a-zA-Z0-9-_]{1,64}$/;
const ALIAS_NAME = /^(?!\d+$)[a-zA-Z0-9-_]{1,128}$/;
const PUBLISHED_VERSION = /^[0-9]+$/;
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
/** Lambda, too, reclaims an environment nobody invokes, after a time it does not document. */
const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60 * 1000;
const DEFAULT_UPDATE_MS = 1500;
const RUNNER = join(__dirname, 'runner.cjs');

export function functionArn(name: string, qualifier?: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
}

/** Code and the configuration it runs with: $LATEST as it is now, or a published version, frozen. */
interface Snapshot {
  readonly version: string;
  readonly dir: string;
  readonly codeSha256: string;
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly environment: Readonly<Record<string, string>>;
}

interface AliasState {
  functionVersion: string;
  weights?: Readonly<Record<string, number>>;
  revisionId: string;
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

interface FunctionState {
  readonly name: string;
  handler: string;
  timeoutSeconds: number;
  environment: Readonly<Record<string, string>>;
  latest?: { readonly dir: string; readonly codeSha256: string };
  revisionId: string;
  readonly versions: Snapshot[];
  readonly aliases: Map<string, AliasState>;
  lastUpdate: LastUpdate;
  /** Settles when the update in progress ends. */
  updated: Promise<void>;
  /** Ends the update in progress early, as close() does. */
  finishUpdate?: () => void;
}

/** One version's environment and the invocations waiting for it. */
interface Slot {
  queue: Promise<unknown>;
  environment?: ExecutionEnvironment;
  /** Ends the environment when no invocation came for `idleTimeoutMs`. */
  idle?: NodeJS.Timeout;
}

export class LocalFunctions {
  private readonly functions = new Map<string, FunctionState>();
  /** By `<name>:<version>`. */
  private readonly slots = new Map<string, Slot>();
  /** Every environment started and not yet ended, for close(). */
  private readonly environments = new Set<ExecutionEnvironment>();
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly idleTimeoutMs: number;
  private readonly updateMs: number;
  private closed = false;

  /**
   * @param options.rootDir where code is kept (see the module comment)
   * @param options.metrics where invocation metrics are published
   * @param options.now the clock metrics are stamped with @default the system clock
   * @param options.random picks an alias's version: the additional one when `random() < weight` @default Math.random
   * @param options.idleTimeoutMs how long a warm environment waits for its next invocation before it ends, so that
   *   the versions a deployment left behind do not keep a process each @default 10 minutes
   * @param options.updateMs how long an update stays `InProgress` (real time, whatever `now` says); 0 ends it at
   *   once @default 1500 ms — Lambda documents no duration; a code update of a small zip takes about a second or two
   * @param options.updateOutcome how each update ends @default every update succeeds
   */
  constructor(
    private readonly options: {
      rootDir: string;
      metrics: LocalMetrics;
      now?: () => Date;
      random?: () => number;
      idleTimeoutMs?: number;
      updateMs?: number;
      updateOutcome?: UpdateOutcome;
    },
  ) {
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.updateMs = options.updateMs ?? DEFAULT_UPDATE_MS;
  }

  /** Creates a function without code (UpdateFunctionCode gives it some); removes what a previous run left under its name. */
  createFunction(spec: FunctionSpec): void {
    if (!FUNCTION_NAME.test(spec.name)) {
      throw invalid(`Function name must be 1 to 64 letters, digits, hyphens or underscores: ${spec.name}`);
    }
    checkHandler(spec.handler);
    const timeoutSeconds = spec.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    checkTimeout(timeoutSeconds);
    checkEnvironment(spec.environment ?? {});
    if (this.functions.has(spec.name)) {
      throw serviceError('ResourceConflictException', `Function already exist: ${spec.name}`);
    }
    rmSync(this.functionDir(spec.name), { recursive: true, force: true });
    this.functions.set(spec.name, {
      name: spec.name,
      handler: spec.handler,
      timeoutSeconds,
      environment: { ...spec.environment },
      revisionId: randomUUID(),
      versions: [],
      aliases: new Map(),
      lastUpdate: { status: 'Successful' },
      updated: Promise.resolve(),
    });
  }

  /**
   * Starts replacing $LATEST's code with a copy of `codeDir` (a build's artifact directory): the copy is made now,
   * and becomes $LATEST when the update ends `Successful` (see the module comment). CodeSha256 is the base64 SHA-256
   * over the directory's files (paths and contents, in path order), not over a zip as on Lambda: the same files give
   * the same hash whenever and wherever they were built. No invocation or publication ever sees a half-copied
   * $LATEST.
   */
  updateFunctionCode(name: string, codeDir: string): { codeSha256: string; revisionId: string } {
    const fn = this.function(name);
    this.refuseWhileUpdating(fn);
    if (!statSync(codeDir, { throwIfNoEntry: false })?.isDirectory()) {
      throw invalid(`Local mode takes a build's artifact directory as code: ${codeDir} is not a directory`);
    }
    const staging = join(this.functionDir(name), `.staging-${randomUUID()}`);
    let codeSha256: string;
    try {
      cpSync(codeDir, staging, { recursive: true, dereference: true });
      codeSha256 = hashTree(staging);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      throw error;
    }
    fn.revisionId = randomUUID();
    this.startUpdate(fn, 'code', (succeeded) => {
      if (!succeeded) return rmSync(staging, { recursive: true, force: true });
      // Renamed into place: a failed copy never left $LATEST half-written.
      const latestDir = join(this.functionDir(name), LATEST);
      rmSync(latestDir, { recursive: true, force: true });
      renameSync(staging, latestDir);
      fn.latest = { dir: latestDir, codeSha256 };
      // New code, new environments: the warm one finishes what it has queued and ends.
      this.retire(name, LATEST);
    });
    return { codeSha256, revisionId: fn.revisionId };
  }

  /**
   * Starts changing $LATEST's configuration; a field left out keeps its value. Applied when the update ends
   * `Successful`, as code is.
   */
  updateFunctionConfiguration(name: string, update: FunctionConfigurationUpdate): FunctionConfiguration {
    const fn = this.function(name);
    this.refuseWhileUpdating(fn);
    if (update.handler !== undefined) checkHandler(update.handler);
    if (update.timeoutSeconds !== undefined) checkTimeout(update.timeoutSeconds);
    if (update.environment !== undefined) checkEnvironment(update.environment);
    fn.revisionId = randomUUID();
    this.startUpdate(fn, 'configuration', (succeeded) => {
      if (!succeeded) return;
      fn.handler = update.handler ?? fn.handler;
      fn.timeoutSeconds = update.timeoutSeconds ?? fn.timeoutSeconds;
      fn.environment = update.environment ? { ...update.environment } : fn.environment;
      this.retire(name, LATEST);
    });
    return this.getFunctionConfiguration(name);
  }

  /** The function's configuration: $LATEST's, with its `State` and `LastUpdateStatus`. */
  getFunctionConfiguration(name: string): FunctionConfiguration {
    const fn = this.function(name);
    return {
      functionName: name,
      functionArn: functionArn(name),
      handler: fn.handler,
      timeoutSeconds: fn.timeoutSeconds,
      environment: { ...fn.environment },
      ...(fn.latest ? { codeSha256: fn.latest.codeSha256 } : {}),
      revisionId: fn.revisionId,
      state: 'Active',
      lastUpdate: fn.lastUpdate,
    };
  }

  /** Resolves when the function's update in progress, if any, has ended (either way). */
  updated(name: string): Promise<void> {
    return this.function(name).updated;
  }

  /** Publishes $LATEST as the next version, or answers the last version when its code is the same. */
  publishVersion(name: string): { version: string; codeSha256: string } {
    const fn = this.function(name);
    this.refuseWhileUpdating(fn);
    const latest = this.latestSnapshot(fn);
    const last = fn.versions.at(-1);
    if (last?.codeSha256 === latest.codeSha256) return { version: last.version, codeSha256: last.codeSha256 };
    const version = String(fn.versions.length + 1);
    const dir = join(this.functionDir(name), 'versions', version);
    cpSync(latest.dir, dir, { recursive: true });
    fn.versions.push({ ...latest, version, dir });
    return { version, codeSha256: latest.codeSha256 };
  }

  createAlias(name: string, alias: string, functionVersion: string): AliasConfiguration {
    const fn = this.function(name);
    if (!ALIAS_NAME.test(alias)) {
      throw invalid(`Alias name must be 1 to 128 letters, digits, hyphens or underscores, not only digits: ${alias}`);
    }
    if (fn.aliases.has(alias)) {
      throw serviceError('ResourceConflictException', `Alias already exists: ${functionArn(name, alias)}`);
    }
    this.checkVersion(fn, functionVersion);
    const state: AliasState = { functionVersion, revisionId: randomUUID() };
    fn.aliases.set(alias, state);
    return aliasConfiguration(name, alias, state);
  }

  getAlias(name: string, alias: string): AliasConfiguration {
    return aliasConfiguration(name, alias, this.alias(this.function(name), alias));
  }

  /**
   * Moves the alias. Without `routingConfig` its routing is kept; an empty `additionalVersionWeights` clears it.
   * With `revisionId`, refuses unless the alias is still at that revision.
   */
  updateAlias(
    name: string,
    alias: string,
    update: { functionVersion?: string; routingConfig?: RoutingConfig; revisionId?: string },
  ): AliasConfiguration {
    const fn = this.function(name);
    const state = this.alias(fn, alias);
    if (update.revisionId !== undefined && update.revisionId !== state.revisionId) {
      throw serviceError(
        'PreconditionFailedException',
        'The Revision Id provided does not match the latest Revision Id. Call the GetAlias API to retrieve the latest Revision Id',
      );
    }
    const functionVersion = update.functionVersion ?? state.functionVersion;
    this.checkVersion(fn, functionVersion);
    const weights = this.checkRouting(
      fn,
      functionVersion,
      update.routingConfig?.additionalVersionWeights ?? state.weights ?? {},
    );
    state.functionVersion = functionVersion;
    state.weights = weights;
    state.revisionId = randomUUID();
    return aliasConfiguration(name, alias, state);
  }

  /**
   * Invokes synchronously (RequestResponse). `qualifier`: an alias, a version, `$LATEST`, or none for `$LATEST`.
   * A function error is a result (`functionError`), not a rejection; an unknown function, version or alias rejects.
   */
  async invoke(name: string, qualifier: string | undefined, payload: unknown): Promise<InvocationResult> {
    if (this.closed) throw new Error('the local Lambda runtime is closed');
    const fn = this.function(name);
    const aliasName =
      qualifier === undefined || qualifier === LATEST || PUBLISHED_VERSION.test(qualifier) ? undefined : qualifier;
    const version = aliasName === undefined ? (qualifier ?? LATEST) : this.route(this.alias(fn, aliasName));
    const snapshot = version === LATEST ? this.latestSnapshot(fn) : this.publishedVersion(fn, version);
    const event = JSON.stringify(payload) ?? 'null';
    const invokedAt = this.now().getTime();
    const outcome = await this.runIn(fn.name, snapshot, {
      id: randomUUID(),
      event,
      invokedFunctionArn: functionArn(name, qualifier),
    });
    for (const dimensions of metricDimensions(name, qualifier, aliasName !== undefined, version)) {
      const put = (metricName: string, value: number) =>
        this.options.metrics.put({ namespace: 'AWS/Lambda', metricName, dimensions, value, timestamp: invokedAt });
      put('Invocations', 1);
      put('Errors', outcome.failed ? 1 : 0);
      put('Duration', outcome.durationMs);
    }
    return {
      statusCode: 200,
      executedVersion: version,
      payload: outcome.payload,
      ...(outcome.failed ? { functionError: 'Unhandled' as const } : {}),
    };
  }

  /** Ends every environment, waiting for each process to exit; invocations still running end with an exit error. */
  async close(): Promise<void> {
    this.closed = true;
    for (const fn of this.functions.values()) fn.finishUpdate?.();
    await Promise.all([...this.environments].map((environment) => environment.stop()));
  }

  /** The one rule every change obeys while an update is in progress (see the module comment). */
  private refuseWhileUpdating(fn: FunctionState): void {
    if (fn.lastUpdate.status !== 'InProgress') return;
    throw serviceError(
      'ResourceConflictException',
      `The operation cannot be performed at this time. An update is in progress for resource: ${functionArn(fn.name)}`,
    );
  }

  /** `InProgress` for `updateMs`, then `apply(succeeded)` and `Successful`, or `Failed` as `updateOutcome` says. */
  private startUpdate(fn: FunctionState, update: 'code' | 'configuration', apply: (succeeded: boolean) => void): void {
    const finish = () => {
      fn.finishUpdate = undefined;
      let failure = this.options.updateOutcome?.(fn.name, update);
      try {
        apply(failure === undefined);
      } catch (error) {
        failure = {
          reasonCode: 'InternalError',
          reason: `local mode could not apply the update: ${(error as Error).message}`,
        };
      }
      fn.lastUpdate = failure ? { status: 'Failed', ...failure } : { status: 'Successful' };
      ended();
    };
    let ended!: () => void;
    fn.updated = new Promise<void>((resolve) => (ended = resolve));
    fn.lastUpdate = { status: 'InProgress' };
    if (this.updateMs === 0) return finish();
    const timer = setTimeout(finish, this.updateMs).unref();
    fn.finishUpdate = () => {
      clearTimeout(timer);
      finish();
    };
  }

  private function(name: string): FunctionState {
    const fn = this.functions.get(name);
    if (!fn) throw serviceError('ResourceNotFoundException', `Function not found: ${functionArn(name)}`);
    return fn;
  }

  private alias(fn: FunctionState, alias: string): AliasState {
    const state = fn.aliases.get(alias);
    if (!state) throw serviceError('ResourceNotFoundException', `Alias not found: ${functionArn(fn.name, alias)}`);
    return state;
  }

  private publishedVersion(fn: FunctionState, version: string): Snapshot {
    const snapshot = fn.versions[Number(version) - 1];
    if (snapshot?.version !== version)
      throw serviceError('ResourceNotFoundException', `Function not found: ${functionArn(fn.name, version)}`);
    return snapshot;
  }

  private latestSnapshot(fn: FunctionState): Snapshot {
    if (!fn.latest) throw invalid(`Function ${fn.name} has no code yet: UpdateFunctionCode gives it some`);
    return {
      version: LATEST,
      ...fn.latest,
      handler: fn.handler,
      timeoutSeconds: fn.timeoutSeconds,
      environment: fn.environment,
    };
  }

  /** An alias's version: `$LATEST` or a published one. */
  private checkVersion(fn: FunctionState, version: string): void {
    if (version === LATEST) return;
    if (!PUBLISHED_VERSION.test(version))
      throw invalid(`Function version must be $LATEST or a version number: ${version}`);
    this.publishedVersion(fn, version);
  }

  /** The alias's routing as Lambda allows it; undefined when it routes everything to its version. */
  private checkRouting(
    fn: FunctionState,
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
    this.publishedVersion(fn, version);
    return { [version]: weight };
  }

  /** The alias's additional version with its weight's probability, else its version. */
  private route(alias: AliasState): string {
    const [additional] = Object.entries(alias.weights ?? {});
    return additional && this.random() < additional[1] ? additional[0] : alias.functionVersion;
  }

  private runIn(name: string, snapshot: Snapshot, request: RunRequest): Promise<Outcome> {
    const key = `${name}:${snapshot.version}`;
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = { queue: Promise.resolve() }));
    const current = slot;
    const run = current.queue.then(() => {
      clearTimeout(current.idle);
      if (this.closed) throw new Error('the local Lambda runtime is closed');
      if (!current.environment?.alive) {
        const environment = new ExecutionEnvironment(name, snapshot, join(this.functionDir(name), 'logs'));
        this.environments.add(environment);
        void environment.ended.then(() => this.environments.delete(environment));
        current.environment = environment;
      }
      return current.environment.run(request);
    });
    current.queue = run
      .catch(() => undefined)
      .then(() => {
        current.idle = setTimeout(() => void current.environment?.stop(), this.idleTimeoutMs).unref();
      });
    return run;
  }

  /** Forgets a version's environment: it ends once the invocations queued for it are done. */
  private retire(name: string, version: string): void {
    const key = `${name}:${version}`;
    const slot = this.slots.get(key);
    if (!slot) return;
    this.slots.delete(key);
    void slot.queue.then(() => {
      clearTimeout(slot.idle);
      return slot.environment?.stop();
    });
  }

  private functionDir(name: string): string {
    return join(this.options.rootDir, name);
  }
}

/**
 * The dimension sets Lambda publishes an invocation's metrics under ("Working with Lambda function metrics"):
 * `FunctionName` — "aggregate metrics for all versions and aliases of a function"; `Resource` — "metrics for a
 * version or alias of a function"; `ExecutedVersion` — "metrics for a combination of alias and version. Use the
 * `ExecutedVersion` dimension to compare error rates for two versions of a function that are both targets of a
 * weighted alias" (CloudWatch user guide: "This only applies to alias invocations").
 */
function metricDimensions(
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

function aliasConfiguration(name: string, alias: string, state: AliasState): AliasConfiguration {
  return {
    aliasArn: functionArn(name, alias),
    name: alias,
    functionVersion: state.functionVersion,
    ...(state.weights ? { routingConfig: { additionalVersionWeights: { ...state.weights } } } : {}),
    revisionId: state.revisionId,
  };
}

function invalid(message: string): AwsError<'InvalidParameterValueException'> {
  return serviceError('InvalidParameterValueException', message);
}

function checkHandler(handler: string): void {
  if (!/^\S+\.[^\s.]+$/.test(handler)) {
    throw invalid(`Handler must be <module>.<export>, e.g. index.handler: ${handler}`);
  }
}

function checkTimeout(timeoutSeconds: number): void {
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > MAX_TIMEOUT_SECONDS) {
    throw invalid(`Timeout must be a whole number of seconds from 1 to ${MAX_TIMEOUT_SECONDS}: ${timeoutSeconds}`);
  }
}

function checkEnvironment(environment: Readonly<Record<string, string>>): void {
  const reserved = Object.keys(environment).filter((key) => RESERVED_ENVIRONMENT.includes(key));
  if (reserved.length) {
    throw invalid(`Lambda was unable to configure your environment variables because they are reserved: ${reserved}`);
  }
}

/** Base64 SHA-256 over every file's relative path and content, in path order. */
function hashTree(dir: string): string {
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

/** What runner.cjs receives for one invocation. */
interface RunRequest {
  readonly id: string;
  /** The event, as JSON text. */
  readonly event: string;
  readonly invokedFunctionArn: string;
}

/** What runner.cjs answers. */
interface RunnerReply {
  readonly id: string;
  readonly failed: boolean;
  /** The result, or the error's `{ errorType, errorMessage, trace }`, as JSON text. */
  readonly payload: string;
  readonly durationMs: number;
}

interface Outcome {
  readonly failed: boolean;
  readonly payload: unknown;
  readonly durationMs: number;
}

/**
 * One warm environment: a `node` process running runner.cjs over one snapshot's code, in a process group of its own
 * so that a kill also ends what the handler started. Its environment variables are Lambda's, not local mode's.
 */
class ExecutionEnvironment {
  /** Settles when the process has exited. */
  readonly ended: Promise<void>;
  private readonly child: ChildProcess;
  private readonly timeoutMs: number;
  private exited = false;
  private stopping = false;

  constructor(
    functionName: string,
    private readonly snapshot: Snapshot,
    logDir: string,
  ) {
    this.timeoutMs = snapshot.timeoutSeconds * 1000;
    const log = openLog(logDir, snapshot.version);
    try {
      this.child = fork(RUNNER, [snapshot.dir, snapshot.handler], {
        cwd: snapshot.dir,
        env: {
          PATH: process.env.PATH,
          TZ: ':UTC',
          ...snapshot.environment,
          _HANDLER: snapshot.handler,
          AWS_REGION: LOCAL_REGION,
          AWS_DEFAULT_REGION: LOCAL_REGION,
          AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
          AWS_LAMBDA_FUNCTION_NAME: functionName,
          AWS_LAMBDA_FUNCTION_VERSION: snapshot.version,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: MEMORY_SIZE_MB,
          AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
          AWS_LAMBDA_LOG_STREAM_NAME: log.name,
          LAMBDA_TASK_ROOT: snapshot.dir,
        },
        // Not the parent's flags (a TypeScript loader, jest's): the function runs on plain node.
        execArgv: [],
        stdio: ['ignore', log.fd, log.fd, 'ipc'],
        detached: true,
      });
    } finally {
      closeSync(log.fd);
    }
    this.ended = new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      // A process that could not be started never exits.
      this.child.once('error', () => this.child.pid === undefined && resolve());
    });
    void this.ended.then(() => (this.exited = true));
  }

  get alive(): boolean {
    return !this.stopping && !this.exited && this.child.exitCode === null && this.child.signalCode === null;
  }

  run(request: RunRequest): Promise<Outcome> {
    const started = performance.now();
    return new Promise<Outcome>((resolve) => {
      const finish = (outcome: Outcome) => {
        clearTimeout(timer);
        this.child.off('message', onReply);
        this.child.off('exit', onExit);
        resolve(outcome);
      };
      const onReply = (reply: RunnerReply) => {
        if (reply.id !== request.id) return;
        finish({ failed: reply.failed, payload: JSON.parse(reply.payload), durationMs: reply.durationMs });
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        finish({
          failed: true,
          payload: {
            errorType: 'Runtime.ExitError',
            errorMessage: `RequestId: ${request.id} Error: Runtime exited with error: ${code === null ? `signal: ${signal}` : `exit status ${code}`}`,
          },
          durationMs: performance.now() - started,
        });
      // Past its timeout the environment is killed, as Lambda's is; a reply arriving meanwhile is too late.
      const timer = setTimeout(() => {
        this.child.off('message', onReply);
        this.child.off('exit', onExit);
        void this.stop().then(() =>
          resolve({
            failed: true,
            payload: {
              errorType: 'Sandbox.Timedout',
              errorMessage: `Task timed out after ${this.snapshot.timeoutSeconds.toFixed(2)} seconds`,
            },
            durationMs: this.timeoutMs,
          }),
        );
      }, this.timeoutMs);
      this.child.on('message', onReply);
      this.child.once('exit', onExit);
      if (!this.alive) return onExit(this.child.exitCode, this.child.signalCode);
      this.child.send({ ...request, deadline: Date.now() + this.timeoutMs }, (error) => {
        // The channel closed under the send: the process is going; its exit answers the invocation.
        if (error) killGroup(this.child);
      });
    });
  }

  async stop(): Promise<void> {
    if (this.alive) killGroup(this.child);
    this.stopping = true;
    await this.ended;
  }
}

/** The environment's stdout and stderr: appended to `<logDir>/<version>.log`, its log stream. */
function openLog(logDir: string, version: string): { name: string; fd: number } {
  const name = `${version}.log`;
  mkdirSync(logDir, { recursive: true });
  return { name, fd: openSync(join(logDir, name), 'a') };
}
