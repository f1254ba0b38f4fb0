/**
 * The platform's functions in local mode, wired from their one declaration (core/platform-functions.ts)
 * and nothing else: each is built from its handler file's `handlerOn` on the local platform, registered
 * under its local ARN (for the Task adapters and local Lambda's Invoke), and invoked as its `invokedBy`
 * says — a Task through the ASL's substitution, a rule on the local bus it names, a schedule on a timer, a
 * function URL or HTTP API route on the local endpoint. Adding a
 * function to the declaration serves it here with no change to this module.
 *
 * Rules and schedules invoke a function as Lambda's asynchronous invocation does, through `invokeAsync`.
 */
import { STSClient } from '@aws-sdk/client-sts';
import { appendFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  APPROVAL_LINK_KEY_SECRET_NAME,
  CATALOG_PATH,
  GITHUB_WEBHOOK_SECRET_NAME,
  SLACK_SIGNING_SECRET_NAME,
  SOURCE_BUS_NAME,
} from '../core/platform';
import { PLATFORM_FUNCTIONS, type PlatformFunctionName, type PlatformInvocation } from '../core/platform-functions';
import type { Clock } from '../core/ports';
import { StsDeployRoles } from '../lambdas/adapters/deploy-roles';
import { ChannelSenders } from '../lambdas/adapters/notification-senders';
import { SecretReader } from '../lambdas/adapters/secrets';
import { platformClients, type HandlerPlatform, type LogLine } from '../lambdas/environment';
import type { LocalFunction } from './adapters';
import { decisionRoutes, LOCAL_IDENTITY_HEADER, localUserArn, SLACK_RESPONSE_ROUTE } from './approvals';
import { functionUrlEvent, type FunctionUrlRoute } from './aws-endpoint';
import {
  LOCAL_CREDENTIALS,
  LOCAL_DEPLOY_FUNCTION_CREDENTIALS,
  LOCAL_REGION,
  LOCAL_TABLE_NAME,
  localArnOf,
} from './constants';
import type { LocalEventBus } from './event-bus';
import { LocalSenders, localSecret, type LocalOutbox } from './outbox';
import type { TimeScale } from './time-scale';

/** The project's root, which the declaration's entries are relative to. */
const ROOT = resolve(__dirname, '..');

/** A platform function's ARN in local mode, by its local name. */
export const localFunctionArn = (localName: string) => localArnOf('lambda', 'function', localName);

/** What a handler file exports (lambdas/environment.ts): the factory both runtimes call, and AWS's handler. */
interface HandlerModule {
  readonly handlerOn: (platform: HandlerPlatform, log: LogLine) => LocalFunction;
  readonly handler: unknown;
}

/** The handler module of a declared entry, loaded from the project's root (tsx and jest both load .ts so). */
export function loadHandlerModule(entry: string): HandlerModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the entry is data, read from the declaration
  const loaded = require(join(ROOT, entry)) as Partial<HandlerModule>;
  if (typeof loaded.handlerOn !== 'function' || typeof loaded.handler !== 'function') {
    throw new Error(`${entry} must export handlerOn(platform, log) and handler (lambdas/environment.ts)`);
  }
  return loaded as HandlerModule;
}

const NAMES = Object.keys(PLATFORM_FUNCTIONS) as PlatformFunctionName[];

/** Every declared invocation of one kind, with the function it invokes. */
function invocationsOf<By extends PlatformInvocation['by']>(by: By) {
  return NAMES.flatMap((name) =>
    (PLATFORM_FUNCTIONS[name].invokedBy as readonly PlatformInvocation[])
      .filter((invocation): invocation is Extract<PlatformInvocation, { by: By }> => invocation.by === by)
      .map((invocation) => ({ name, invocation })),
  );
}

/** Where a function's URL is served on the local endpoint: its declared `localRoute`. */
export function localRouteOf(name: PlatformFunctionName): string {
  const [url] = invocationsOf('functionUrl').filter((declared) => declared.name === name);
  if (!url) throw new Error(`platform function ${name} has no function URL`);
  return url.invocation.localRoute;
}

/**
 * The routes the platform's functions are reached by on the local endpoint: each function URL at its
 * `localRoute`, the approvals HTTP API's routes (local/approvals.ts stands in for its IAM authorizer).
 * Made before the handlers (the endpoint's URL is part of the platform): `handlerOf` finds them when a
 * request comes.
 */
export function platformFunctionRoutes(
  handlerOf: (name: PlatformFunctionName) => LocalFunction,
): Record<string, FunctionUrlRoute> {
  const routes: Record<string, FunctionUrlRoute> = {};
  for (const { name, invocation } of invocationsOf('functionUrl')) {
    routes[invocation.localRoute] = async (request) =>
      (await handlerOf(name)(functionUrlEvent(request))) as Awaited<ReturnType<FunctionUrlRoute>>;
  }
  const apis = invocationsOf('httpApi');
  const [api, ...more] = apis.filter(({ invocation }) => !invocation.cliRoutes);
  if (more.length) throw new Error('local mode serves one function behind the approvals HTTP API');
  if (api)
    Object.assign(
      routes,
      decisionRoutes((event) => handlerOf(api.name)(event)),
    );
  Object.assign(routes, cliRoutes(apis, handlerOf));
  return routes;
}

/**
 * The declared CLI routes (`httpApi` with `cliRoutes`), as API Gateway routes them: a request whose method and
 * path match a route key (`{name}` one path segment) goes to its function, with the caller's IAM identity (the
 * git identity the CLI names, local/approvals.ts); another is answered 404 as the HTTP API answers a route it
 * does not have. Served under each route's fixed prefix.
 */
function cliRoutes(
  apis: readonly { name: PlatformFunctionName; invocation: Extract<PlatformInvocation, { by: 'httpApi' }> }[],
  handlerOf: (name: PlatformFunctionName) => LocalFunction,
): Record<string, FunctionUrlRoute> {
  const table = apis.flatMap(({ name, invocation }) =>
    (invocation.cliRoutes ?? []).map((key) => {
      const [method, path] = key.split(' ') as [string, string];
      const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      // Served under the path up to its first parameter (a key ending in `/` serves every path below it).
      const prefix = path.includes('{') ? path.slice(0, path.indexOf('{')) : path;
      return { name, method, pattern, prefix };
    }),
  );
  const serve: FunctionUrlRoute = async (request) => {
    const path = request.url.split('?')[0]!;
    const route = table.find((r) => r.method === request.method && r.pattern.test(path));
    if (!route)
      return { statusCode: 404, headers: { 'content-type': 'application/json' }, body: '{"message":"Not Found"}' };
    const identity = request.headers[LOCAL_IDENTITY_HEADER];
    const event = functionUrlEvent(request, identity ? { iam: { userArn: localUserArn(identity) } } : undefined);
    return (await handlerOf(route.name)(event)) as Awaited<ReturnType<FunctionUrlRoute>>;
  };
  return Object.fromEntries(table.map(({ prefix }) => [prefix, serve]));
}

/**
 * The local platform the handlers run on: clients pointed at the local endpoint (DynamoDB at dynalite),
 * and local mode's edges — the deploy roles assumed through the local endpoint's STS (local/iam.ts) by the
 * deploy function's key, notifications into the outbox, Slack response URLs on the local endpoint, the demo approver
 * when no person can be asked, waits shortened by the time scale.
 */
export function localPlatform(options: {
  readonly endpointUrl: string;
  readonly storeEndpoint: string;
  readonly stateDir: string;
  readonly outbox: LocalOutbox;
  readonly now: Clock;
  readonly timeScale: TimeScale;
  readonly demoApprover?: boolean;
  readonly smtpRelay?: string;
}): HandlerPlatform {
  const { endpointUrl, stateDir, now } = options;
  const aws = { endpoint: endpointUrl, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const clients = platformClients(aws, { ...aws, endpoint: options.storeEndpoint });
  // As on AWS: each release's target clients are its deploy role's, assumed through (local) STS with the deploy
  // function's own key, and talk to the target's account (local/accounts.ts scopes them by their key).
  const deployRoles = new StsDeployRoles(
    new STSClient({ ...aws, credentials: LOCAL_DEPLOY_FUNCTION_CREDENTIALS }),
    now,
    endpointUrl,
  );
  // Delivered into the outbox, unless the user gave local mode a channel's secret (see LocalSenders).
  const senders = new LocalSenders(
    options.outbox,
    new ChannelSenders({ secrets: new SecretReader(clients.secretsManager(), now), ses: clients.ses }),
    (secret) => localSecret(join(stateDir, 'secrets'), secret) !== undefined,
    options.smtpRelay,
  );
  return {
    clients,
    tableName: LOCAL_TABLE_NAME,
    catalogPath: CATALOG_PATH,
    sourceBusName: SOURCE_BUS_NAME,
    webhookSecretId: GITHUB_WEBHOOK_SECRET_NAME,
    approvalsUrl: endpointUrl,
    linkKeySecretId: APPROVAL_LINK_KEY_SECRET_NAME,
    slackSigningSecretId: SLACK_SIGNING_SECRET_NAME,
    slackResponseUrls: new RegExp(`^${endpointUrl.replace(/[.]/g, '\\.')}${SLACK_RESPONSE_ROUTE}`),
    deployFunctionArn: localFunctionArn(PLATFORM_FUNCTIONS.deploy.localName),
    demoApprover: options.demoApprover === true,
    edges: { deployRoles: () => deployRoles, notificationSender: () => senders },
    // No console locally: a message points at the state directory, and at the failing build's log file.
    runLink: () => `file://${stateDir}`,
    now,
    // The time scale shortens the waits a policy sets (a gate's time to expire), never the clock.
    waitLength: (ms) => options.timeScale.wait(ms),
  };
}

/**
 * The platform's rules on the local buses, each made from its declaration (a `rule` invocation: its bus,
 * pattern and input) with `invoke` as its target: the same rules whatever the pipelines, as on AWS, where a
 * push, a SourceChanged event or an alarm finds its pipeline in the catalog.
 */
export function addPlatformRules(
  buses: Readonly<Record<'default' | 'platform', LocalEventBus>>,
  invoke: (name: PlatformFunctionName, input: unknown) => Promise<unknown>,
): void {
  for (const { name, invocation } of invocationsOf('rule')) {
    buses[invocation.bus].addRule({
      name: invocation.id,
      ...invocation.trigger(localArnOf),
      target: (input) => invoke(name, input),
    });
  }
}

/** One asynchronous invocation of a platform function, as its observers see it begin. */
export interface AsyncInvocation {
  readonly name: PlatformFunctionName;
  readonly event: unknown;
  /** The function's answer after its retries, or its last error. */
  readonly result: Promise<unknown>;
}

export interface LocalPlatformFunctionsOptions {
  readonly platform: HandlerPlatform;
  /** The account's default bus and the platform's bus, by the declaration's names for them. */
  readonly buses: Readonly<Record<'default' | 'platform', LocalEventBus>>;
  /** Each function's log lines go to `<logDir>/<localName>.log`, as to its log group on AWS. */
  readonly logDir: string;
  readonly now: Clock;
  /** The Task adapters' functions by ARN: every declared function is registered there. */
  readonly taskFunctions: Map<string, LocalFunction>;
  /** Sees each asynchronous invocation as it begins (local mode's bookkeeping of run starts and notifications). */
  readonly onInvoked?: (invocation: AsyncInvocation) => void;
}

/**
 * Lambda retries a function error of an asynchronous invocation twice, "with a one-minute wait between
 * the first two attempts, and two minutes between the second and third attempts" ("How Lambda handles
 * errors and retries with asynchronous invocation",
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html). Local mode waits
 * seconds instead of minutes, so that a demo does not stall.
 */
const ASYNC_RETRY_WAITS_MS = [1000, 2000];

export class LocalPlatformFunctions {
  private readonly handlers = new Map<PlatformFunctionName, LocalFunction>();
  private readonly byLocalName = new Map<string, LocalFunction>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private closing = false;

  private constructor(private readonly options: LocalPlatformFunctionsOptions) {}

  /** Builds every declared function and adds its rules; its schedules start with `startSchedules`. */
  static async start(options: LocalPlatformFunctionsOptions): Promise<LocalPlatformFunctions> {
    await mkdir(options.logDir, { recursive: true });
    const functions = new LocalPlatformFunctions(options);
    for (const name of NAMES) functions.build(name);
    functions.addRules();
    return functions;
  }

  /** A function's handler, invoked in process (synchronously, as a Task or a caller's Invoke does). */
  handler(name: PlatformFunctionName): LocalFunction {
    const handler = this.handlers.get(name);
    if (!handler) throw new Error(`no local platform function ${name}`);
    return handler;
  }

  /** A platform function by the name local Lambda's Invoke gives (its local name), if it is one. */
  named(localName: string): LocalFunction | undefined {
    return this.byLocalName.get(localName);
  }

  /** The state machine definition's substitutions: each Task's function by its local ARN. */
  substitutions(): Record<string, string> {
    return Object.fromEntries(
      invocationsOf('task').map(({ name, invocation }) => [
        invocation.substitution,
        localFunctionArn(PLATFORM_FUNCTIONS[name].localName),
      ]),
    );
  }

  /**
   * Invokes a function asynchronously, as EventBridge and schedules do on AWS: a function error is
   * retried (ASYNC_RETRY_WAITS_MS), not while local mode stops. Observers see the invocation begin.
   */
  invokeAsync(name: PlatformFunctionName, event: unknown): Promise<unknown> {
    const handler = this.handler(name);
    const attempt = async () => {
      for (let retry = 0; ; retry++) {
        try {
          return await handler(event);
        } catch (error) {
          const wait = ASYNC_RETRY_WAITS_MS[retry];
          if (wait === undefined || this.closing) throw error;
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    };
    const result = attempt();
    this.options.onInvoked?.({ name, event, result });
    return result;
  }

  /** Runs each schedule every `locallyEverySeconds` (none when undefined), a round never overlapping the last. */
  startSchedules(): void {
    for (const { name, invocation } of invocationsOf('schedule')) {
      if (invocation.locallyEverySeconds === undefined) continue;
      const log = this.logTo(PLATFORM_FUNCTIONS[name].localName);
      let round: Promise<unknown> = Promise.resolve();
      const timer = setInterval(() => {
        round = round
          .then(() => this.invokeAsync(name, invocation.input))
          .catch((error: unknown) =>
            log({ message: 'schedule failed', schedule: invocation.id, cause: (error as Error).message }),
          );
        this.keep(round);
      }, invocation.locallyEverySeconds * 1000);
      timer.unref();
      this.timers.push(timer);
    }
  }

  /** Stops the schedules and the retries, and waits for a schedule's round in progress. */
  async close(): Promise<void> {
    this.closing = true;
    this.timers.forEach((timer) => clearInterval(timer));
    await Promise.allSettled([...this.running]);
  }

  private build(name: PlatformFunctionName): void {
    const { entry, localName } = PLATFORM_FUNCTIONS[name];
    const handler = loadHandlerModule(entry).handlerOn(this.options.platform, this.logTo(localName));
    this.handlers.set(name, handler);
    this.byLocalName.set(localName, handler);
    this.options.taskFunctions.set(localFunctionArn(localName), handler);
  }

  /** The platform's rules, each invoking its function asynchronously. */
  private addRules(): void {
    addPlatformRules(this.options.buses, (name, input) => this.invokeAsync(name, input));
  }

  private keep(work: Promise<unknown>): void {
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  private logTo(localName: string): LogLine {
    return (entry) =>
      appendFileSync(
        join(this.options.logDir, `${localName}.log`),
        `${JSON.stringify({ time: this.options.now(), ...entry })}\n`,
      );
  }
}
