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
 * Each version runs in a warm process of its own (execution-environments.ts); what a function, version and alias
 * are, and the rules Lambda checks them by, are in function-config.ts.
 *
 * Functions, versions and aliases live in memory, as long as local mode runs; code lives under `rootDir`:
 * `<name>/$LATEST/`, `<name>/versions/<n>/`, and each environment's output in `<name>/logs/<version>.log`.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AccountRegion } from '../../core/deployment/targets';
import { serviceError } from '../aws-errors';
import { LOCAL_ENVIRONMENT } from '../constants';
import { WarmEnvironments } from './execution-environments';
import {
  ALIAS_NAME,
  checkEnvironment,
  checkHandler,
  checkTimeout,
  DEFAULT_TIMEOUT_SECONDS,
  FUNCTION_NAME,
  functionArn,
  checkRouting,
  hashTree,
  invalid,
  LATEST,
  metricDimensions,
  PUBLISHED_VERSION,
  type AliasConfiguration,
  type FunctionConfiguration,
  type FunctionConfigurationUpdate,
  type FunctionSpec,
  type InvocationResult,
  type LastUpdate,
  type RoutingConfig,
  type Snapshot,
  type UpdateOutcome,
} from './function-config';
import type { LocalMetrics } from './metrics';

export { functionArn, type FunctionConfiguration, type UpdateOutcome } from './function-config';

/** Lambda, too, reclaims an environment nobody invokes, after a time it does not document. */
const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60 * 1000;
const DEFAULT_UPDATE_MS = 1500;

interface AliasState {
  functionVersion: string;
  weights?: Readonly<Record<string, number>>;
  revisionId: string;
}

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

export class LocalFunctions {
  private readonly functions = new Map<string, FunctionState>();
  private readonly environments: WarmEnvironments;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly updateMs: number;
  /** The account and Region whose Lambda this is: its ARNs say so. */
  readonly environment: AccountRegion;
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
   * @param options.environment the account and Region the functions live in @default LOCAL_ENVIRONMENT
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
      environment?: AccountRegion;
    },
  ) {
    this.environment = options.environment ?? LOCAL_ENVIRONMENT;
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.updateMs = options.updateMs ?? DEFAULT_UPDATE_MS;
    this.environments = new WarmEnvironments(
      (name) => join(this.functionDir(name), 'logs'),
      options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      this.environment.region,
    );
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
      this.environments.retire(name, LATEST);
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
      this.environments.retire(name, LATEST);
    });
    return this.getFunctionConfiguration(name);
  }

  /** The function's configuration: $LATEST's, with its `State` and `LastUpdateStatus`. */
  getFunctionConfiguration(name: string): FunctionConfiguration {
    const fn = this.function(name);
    return {
      functionName: name,
      functionArn: this.functionArn(name),
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
      throw serviceError('ResourceConflictException', `Alias already exists: ${this.functionArn(name, alias)}`);
    }
    this.checkVersion(fn, functionVersion);
    const state: AliasState = { functionVersion, revisionId: randomUUID() };
    fn.aliases.set(alias, state);
    return aliasConfiguration(this.functionArn(name, alias), alias, state);
  }

  getAlias(name: string, alias: string): AliasConfiguration {
    return aliasConfiguration(this.functionArn(name, alias), alias, this.alias(this.function(name), alias));
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
    const weights = checkRouting(
      (version) => this.publishedVersion(fn, version),
      functionVersion,
      update.routingConfig?.additionalVersionWeights ?? state.weights ?? {},
    );
    state.functionVersion = functionVersion;
    state.weights = weights;
    state.revisionId = randomUUID();
    return aliasConfiguration(this.functionArn(name, alias), alias, state);
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
    const outcome = await this.environments.run(fn.name, snapshot, {
      id: randomUUID(),
      event,
      invokedFunctionArn: this.functionArn(name, qualifier),
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

  /** A function's ARN here (qualified with a version or alias when given). */
  functionArn(name: string, qualifier?: string): string {
    return functionArn(name, qualifier, this.environment);
  }

  /** Ends every environment, waiting for each process to exit; invocations still running end with an exit error. */
  async close(): Promise<void> {
    this.closed = true;
    for (const fn of this.functions.values()) fn.finishUpdate?.();
    await this.environments.close();
  }

  /** The one rule every change obeys while an update is in progress (see the module comment). */
  private refuseWhileUpdating(fn: FunctionState): void {
    if (fn.lastUpdate.status !== 'InProgress') return;
    throw serviceError(
      'ResourceConflictException',
      `The operation cannot be performed at this time. An update is in progress for resource: ${this.functionArn(fn.name)}`,
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
    if (!fn) throw serviceError('ResourceNotFoundException', `Function not found: ${this.functionArn(name)}`);
    return fn;
  }

  private alias(fn: FunctionState, alias: string): AliasState {
    const state = fn.aliases.get(alias);
    if (!state) throw serviceError('ResourceNotFoundException', `Alias not found: ${this.functionArn(fn.name, alias)}`);
    return state;
  }

  private publishedVersion(fn: FunctionState, version: string): Snapshot {
    const snapshot = fn.versions[Number(version) - 1];
    if (snapshot?.version !== version)
      throw serviceError('ResourceNotFoundException', `Function not found: ${this.functionArn(fn.name, version)}`);
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

  /** The alias's additional version with its weight's probability, else its version. */
  private route(alias: AliasState): string {
    const [additional] = Object.entries(alias.weights ?? {});
    return additional && this.random() < additional[1] ? additional[0] : alias.functionVersion;
  }

  private functionDir(name: string): string {
    return join(this.options.rootDir, name);
  }
}

function aliasConfiguration(aliasArn: string, alias: string, state: AliasState): AliasConfiguration {
  return {
    aliasArn,
    name: alias,
    functionVersion: state.functionVersion,
    ...(state.weights ? { routingConfig: { additionalVersionWeights: { ...state.weights } } } : {}),
    revisionId: state.revisionId,
  };
}
