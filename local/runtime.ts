/**
 * Local mode: the platform on one machine. The same ASL, executed locally; the same handlers, with
 * SDK clients pointed at local endpoints; dynalite for DynamoDB; bare git repositories for CodeCommit;
 * the build runner for CodeBuild. Only these edges differ from AWS.
 */
import './polyfills';
import * as z from 'zod';
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  catalogEntry,
  isCodeCommitPipeline,
  sourceOf,
  stageSpecs,
  stateMachineName,
  type PipelineConfig,
  type SteplineConfig,
} from '../core/config';
import { TASK_RESOURCES } from '../core/asl';
import {
  APPROVAL_LINK_KEY_SECRET_NAME,
  CATALOG_PATH,
  GITHUB_WEBHOOK_SECRET_NAME,
  SLACK_SIGNING_SECRET_NAME,
  SOURCE_BUS_NAME,
  catalogParameterName,
  pushRuleName,
  runRuleName,
} from '../core/platform';
import type { Clock } from '../core/ports';
import { ACTIVE_RUN_STATUSES, type RunEvent, type RunRecord, type SourceChanged } from '../core/records';
import { alarmRuleTrigger, deploymentAlarms } from '../core/deploy-alarms';
import { ControlRefusedError } from '../core/deployment';
import { runEventTrigger, sourceChangedTrigger } from '../core/source-events';
import type { StartRunResult } from '../core/start-run';
import {
  CODECOMMIT_DETAIL_TYPE,
  EXECUTION_STATUS_DETAIL_TYPE,
  codeCommitTrigger,
  executionEndedTrigger,
} from '../core/triggers';
import { platformClients, type HandlerPlatform, type LogLine } from '../lambdas/environment';
import { approvalDecisionsDeps, createHandler as createApprovalDecisions } from '../lambdas/approval-decisions';
import { approvalGateDeps, createHandler as createApprovalGate } from '../lambdas/approval-gate';
import { createHandler as createDeploy, deployDeps } from '../lambdas/deploy';
import { createHandler as createGitHubWebhook, githubWebhookDeps } from '../lambdas/github-webhook';
import { createHandler as createPublishSourceChange, publishSourceChangeDeps } from '../lambdas/publish-source-change';
import { createHandler as createNotify, notifyDeps } from '../lambdas/notify';
import { createHandler as createRecordProgress, recordProgressDeps } from '../lambdas/record-progress';
import { createHandler as createStartRun, startRunDeps } from '../lambdas/start-run';
import { PIPELINE_DEFINITION_FILE, renderDefinition } from '../statemachines';
import { RunStore } from '../store/run-store';
import {
  codeBuildSyncAdapter,
  lambdaInvokeAdapter,
  lambdaInvokeWaitForTaskTokenAdapter,
  type LocalFunction,
} from './adapters';
import { decisionRoutes, scheduleSweep, SLACK_RESPONSE_ROUTE, slackResponseRoute } from './approvals';
import { DESCRIBE_ALARMS_TARGET, describeAlarmsOperation, LocalAlarms } from './alarms';
import { lambdaApiRoute } from './functions/lambda-api';
import { LocalMetrics } from './functions/metrics';
import { LocalFunctions } from './functions/runtime';
import {
  functionUrlEvent,
  operation,
  startLocalEndpoint,
  type FunctionUrlRoute,
  type LocalEndpoint,
} from './aws-endpoint';
import { LocalBuildRunner } from './build-runner';
import type { RecoveryReport } from './build-runner';
import { LocalCodeBuild, type BuildRunner } from './codebuild';
import { LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_REGION, LOCAL_TABLE_NAME } from './constants';
import { serviceError } from './aws-errors';
import { busEvent, LocalEventBus, type BusEvent } from './event-bus';
import { LocalGitSource, type RefUpdate } from './git-source';
import { localGeneratedSecret, pushDelivery } from './github-delivery';
import { ChannelSenders } from '../lambdas/adapters/notification-senders';
import { SecretReader } from '../lambdas/adapters/secrets';
import { LocalOutbox, LocalSenders, localSecret } from './outbox';
import { lockStateDir } from './state-lock';
import { LocalStepFunctions, type Execution } from './step-functions';
import { startStoreServer, type StoreServer } from './store-server';
import { TimeScale } from './time-scale';

export interface LocalRuntimeOptions {
  readonly config: SteplineConfig;
  /** Where local state lives: repositories, builds, logs, the store's files. */
  readonly stateDir: string;
  /** Keep the run store on disk under stateDir (else in memory). @default false */
  readonly persistStore?: boolean;
  /** @default a LocalBuildRunner under stateDir */
  readonly runner?: BuildRunner;
  /** Let builds use the AWS credentials of this shell (LocalBuildRunnerOptions). @default false */
  readonly passAwsCredentials?: boolean;
  /** The local build quota (LocalBuildRunnerOptions). @default the number of CPU cores */
  readonly maxConcurrentBuilds?: number;
  /** How often local alarms are evaluated (real time). @default a minute, shortened by the time scale */
  readonly alarmIntervalMs?: number;
  /**
   * How many times shorter the platform's waits are than it sets them: bakes, alarm periods and gate
   * deadlines (the demo bakes 5 minutes in 5 s at 60). The clock is not scaled: every timestamp and
   * duration local mode records is real (local/time-scale.ts). @default 1
   */
  readonly timeScale?: number;
  /** Invocations per second sent through each deploy target's alias (what a bake judges). @default 0 */
  readonly trafficPerSecond?: number;
  /** Retry intervals in ms by state name (tests use 0 to skip real back-off sleeps). */
  readonly retryIntervalOverrides?: Record<string, number>;
  readonly onBuildLog?: (project: string, line: string) => void;
  /** Send notification emails through this SMTP relay (`smtp://host:port`) instead of the outbox. */
  readonly smtpRelay?: string;
  /** Called for each run a delivered event starts (not for duplicates). */
  readonly onRunStarted?: (run: StartRunResult) => void;
  /**
   * No person can be asked (no terminal): the gate's decision endpoint lets local mode's demo
   * approver decide, recorded as the demo's. @default false
   */
  readonly demoApprover?: boolean;
  /** Called for each event that starts no run, with the reason (also written to `<stateDir>/event-bus.log`). */
  readonly onDeliveryProblem?: (problem: DeliveryProblem) => void;
  /** The platform's clock. @default the real clock */
  readonly now?: Clock;
}

const GIT_PUSH_ROUTE = '/_local/git-push';
/** Where a running local mode says where its endpoint listens (the CLI's approvals commands read it). */
export const ENDPOINT_FILE = 'endpoint.json';
/** Where local mode's GitHub webhook receiver listens, as the platform's function URL does on AWS. */
export const GITHUB_WEBHOOK_ROUTE = '/github/webhook';

/** An event that started no run, and why. */
export interface DeliveryProblem {
  /** `<repository> <ref> at <commit12>`. */
  readonly event: string;
  /** The CodeCommit event id or GitHub delivery id. */
  readonly deliveryId: string;
  readonly reason: string;
}

export const functionArn = (name: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}`;
export const repositoryArn = (name: string) => `arn:aws:codecommit:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`;

/**
 * The local repository that stands in for a pipeline's source: its CodeCommit repository's name, or
 * `github.<owner>.<repo>` for a GitHub one (a push to it is delivered as GitHub would deliver it).
 */
export function localRepositoryName(pipeline: PipelineConfig): string {
  const { source } = pipeline;
  return source.type === 'codecommit' ? source.repository : `github.${source.owner}.${source.repo}`;
}

export class LocalRuntime {
  /** Deliveries of source events (CodeCommit events, GitHub webhooks) by the commit they name. */
  private readonly deliveries = new Map<string, Promise<unknown>[]>();
  /** Run starts by the commit their SourceChanged event names. */
  private readonly starts = new Map<
    string,
    { readonly pipeline: string; readonly deliveryId: string; readonly result: Promise<StartRunResult> }[]
  >();

  /** Where local mode delivers notifications (`<stateDir>/outbox`). */
  readonly outbox: LocalOutbox;
  /** The notifier's invocations, by run. */
  private readonly notifying = new Map<string, Promise<unknown>[]>();
  /** The execution status changes delivered, by execution. */
  private readonly endings = new Map<string, Promise<unknown>>();
  private closing = false;
  /** Stops the traffic sent through deploy targets' aliases. */
  private stopTraffic: () => void = () => undefined;
  /** Stops the gates' sweep timer. */
  private stopSweep: () => Promise<void> = async () => undefined;
  /** The decision endpoint's handler (also the sweep's target). */
  private decisions: (event: unknown) => Promise<unknown> = async () => undefined;

  readonly store: RunStore;
  readonly stepFunctions: LocalStepFunctions;
  /** Local Lambda: the pipelines' deploy targets, their versions and aliases. */
  readonly lambdas: LocalFunctions;
  /** Local CloudWatch alarms over the local Lambda's metrics. */
  readonly alarms: LocalAlarms;
  /** How much shorter than on AWS the platform's waits are here. */
  readonly timeScale: TimeScale;
  /** The default bus: CodeCommit's events. */
  readonly bus: LocalEventBus;
  /** The platform's bus: SourceChanged events. */
  readonly sourceBus: LocalEventBus;
  /** The secret local webhook deliveries are signed with (`<stateDir>/github-webhook-secret`). */
  readonly webhookSecret: string;
  readonly git: LocalGitSource;
  readonly endpoint: LocalEndpoint;
  readonly stateDir: string;
  /** Runs a previous local session left active (it was killed); recorded FAILED on start. */
  readonly interruptedRuns: readonly string[];
  /** Runs a previous local session left waiting at their release gate: waiting there again. */
  resumedExecutions: readonly string[] = [];
  /** What a previous local session that was killed left running, and was ended. */
  readonly recovery: RecoveryReport | undefined;
  private readonly storeServer: StoreServer;
  private readonly now: Clock;
  private readonly unlock: () => void;

  private constructor(
    parts: Pick<
      LocalRuntime,
      | 'store'
      | 'stepFunctions'
      | 'lambdas'
      | 'alarms'
      | 'timeScale'
      | 'bus'
      | 'sourceBus'
      | 'webhookSecret'
      | 'git'
      | 'endpoint'
      | 'stateDir'
      | 'interruptedRuns'
      | 'recovery'
    > & { storeServer: StoreServer; now: Clock; unlock: () => void },
    private readonly options: LocalRuntimeOptions,
  ) {
    this.outbox = new LocalOutbox(join(parts.stateDir, 'outbox'));
    ({
      store: this.store,
      stepFunctions: this.stepFunctions,
      lambdas: this.lambdas,
      alarms: this.alarms,
      timeScale: this.timeScale,
      bus: this.bus,
      sourceBus: this.sourceBus,
      webhookSecret: this.webhookSecret,
      git: this.git,
      endpoint: this.endpoint,
      stateDir: this.stateDir,
      interruptedRuns: this.interruptedRuns,
      recovery: this.recovery,
      storeServer: this.storeServer,
      now: this.now,
      unlock: this.unlock,
    } = parts);
  }

  static async start(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    const stateDir = resolve(options.stateDir);
    await mkdir(stateDir, { recursive: true });
    const unlock = lockStateDir(stateDir);
    const timeScale = options.timeScale === undefined ? TimeScale.REAL : new TimeScale(options.timeScale);
    const now = options.now ?? (() => new Date());
    const storeServer = await startStoreServer({
      tableName: LOCAL_TABLE_NAME,
      path: options.persistStore ? join(stateDir, 'store') : undefined,
    });
    const store = new RunStore(storeServer.client, LOCAL_TABLE_NAME);
    const git = new LocalGitSource(stateDir);
    const pipelines = options.config.pipelines;

    const runner =
      options.runner ??
      new LocalBuildRunner({
        rootDir: join(stateDir, 'codebuild'),
        region: LOCAL_REGION,
        passAwsCredentials: options.passAwsCredentials,
        maxConcurrentBuilds: options.maxConcurrentBuilds,
      });
    // Before any build runs: end what a local mode that was killed left running.
    const recovery = await runner.recover?.();
    const codebuild = new LocalCodeBuild(
      runner,
      pipelines.flatMap((p) => localProjects(p, git)),
      options.onBuildLog,
    );
    const functions = new Map<string, LocalFunction>();
    const stepFunctions = new LocalStepFunctions(
      {
        [TASK_RESOURCES.lambdaInvoke]: lambdaInvokeAdapter(functions),
        [TASK_RESOURCES.lambdaInvokeWaitForTaskToken]: lambdaInvokeWaitForTaskTokenAdapter(functions),
        [TASK_RESOURCES.codeBuildSync]: codeBuildSyncAdapter(codebuild),
      },
      {
        retryIntervalOverrides: options.retryIntervalOverrides,
        // Kept with the store: a persisted store's runs keep their executions.
        executionsDir: options.persistStore ? join(stateDir, 'executions') : undefined,
        // As Step Functions does: each execution's end becomes an event on the default bus.
        onExecutionEnded: (execution) => late.ended?.(execution),
        timeScale,
      },
    );
    const bus = new LocalEventBus();
    const sourceBus = new LocalEventBus();
    const metrics = new LocalMetrics({ now: () => now().getTime() });
    const lambdas = new LocalFunctions({ rootDir: join(stateDir, 'lambda'), metrics, now });
    // As CloudWatch does: an alarm's state change is an event on the default bus.
    const alarms = new LocalAlarms({ metrics, now, timeScale, onStateChange: (event) => void bus.put(event) });
    // Runs active when the last local mode ended are FAILED, but for those waiting at a release gate:
    // their executions resume there (below).
    const interruptedRuns = await failInterruptedRuns(store, now, new Set(stepFunctions.suspendedExecutions()));
    const webhookSecret = localGeneratedSecret(join(stateDir, 'github-webhook-secret'));
    const localSecrets: Record<string, string> = {
      [GITHUB_WEBHOOK_SECRET_NAME]: webhookSecret,
      [APPROVAL_LINK_KEY_SECRET_NAME]: localGeneratedSecret(join(stateDir, 'approval-link-key')),
      [SLACK_SIGNING_SECRET_NAME]: localGeneratedSecret(join(stateDir, 'slack-signing-secret')),
    };
    // Parameter Store: where the pipelines' catalog entries are published, as their stacks do on AWS.
    const parameters = new Map<string, string>();
    // The edges reach the runtime, made below, through these.
    const late: {
      receive?: (push: GitPush) => { events: number };
      webhook?: FunctionUrlRoute;
      decisions?: (event: unknown) => Promise<unknown>;
      ended?: (execution: Execution) => void;
    } = {};
    const endpoint = await startLocalEndpoint(
      awsOperations(
        stepFunctions,
        codebuild,
        git,
        parameters,
        { [SOURCE_BUS_NAME]: sourceBus },
        localSecrets,
        join(stateDir, 'secrets'),
        alarms,
      ),
      { [GIT_PUSH_ROUTE]: operation(gitPushSchema, (push) => late.receive!(push)) },
      {
        [GITHUB_WEBHOOK_ROUTE]: (request) => late.webhook!(request),
        ...decisionRoutes((event) => late.decisions!(event)),
        ...slackResponseRoute(join(stateDir, 'outbox')),
        ...lambdaApiRoute(lambdas),
      },
    );
    const runtime = new LocalRuntime(
      {
        ...{ store, stepFunctions, lambdas, alarms, timeScale, bus, sourceBus, webhookSecret, git, endpoint },
        storeServer,
        ...{ stateDir, interruptedRuns, recovery, now, unlock },
      },
      options,
    );
    late.receive = (push) => runtime.receivePush(push);
    writeFileSync(join(stateDir, ENDPOINT_FILE), JSON.stringify({ url: endpoint.url, pid: process.pid }));
    late.ended = (execution) => runtime.executionEnded(execution);

    const aws = { endpoint: endpoint.url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const platform: HandlerPlatform = {
      clients: platformClients(aws, { ...aws, endpoint: storeServer.endpoint }),
      tableName: LOCAL_TABLE_NAME,
      catalogPath: CATALOG_PATH,
      sourceBusName: SOURCE_BUS_NAME,
      webhookSecretId: GITHUB_WEBHOOK_SECRET_NAME,
      approvalsUrl: endpoint.url,
      linkKeySecretId: APPROVAL_LINK_KEY_SECRET_NAME,
      slackSigningSecretId: SLACK_SIGNING_SECRET_NAME,
      // No console locally: a message points at the state directory, and at the failing build's log file.
      runLink: () => `file://${stateDir}`,
      now,
      // The time scale shortens the waits a policy sets (a gate's time to expire), never the clock.
      waitLength: (ms) => timeScale.wait(ms),
    };
    const recordProgress = functionArn('stepline-record-progress');
    const recorder = createRecordProgress(recordProgressDeps(platform));
    functions.set(recordProgress, recorder);
    const approvalGate = functionArn('stepline-approval-gate');
    const deployFunction = functionArn('stepline-deploy');
    bus.addRule({
      name: 'stepline-execution-ended',
      ...executionEndedTrigger(`arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:stepline-`),
      target: (input) => recorder(input),
    });
    for (const pipeline of pipelines) {
      const entry = catalogEntry(
        pipeline,
        stepFunctions.createStateMachine(
          stateMachineName(pipeline.name),
          renderDefinition(PIPELINE_DEFINITION_FILE, {
            RecordProgressFunctionArn: recordProgress,
            ApprovalGateFunctionArn: approvalGate,
            DeployFunctionArn: deployFunction,
          }),
        ),
      );
      parameters.set(catalogParameterName(pipeline.name), JSON.stringify(entry));
    }
    const functionLogs = join(stateDir, 'functions');
    await mkdir(functionLogs, { recursive: true });
    const logTo =
      (name: string): LogLine =>
      (entry) =>
        appendFileSync(join(functionLogs, `${name}.log`), `${JSON.stringify({ time: now(), ...entry })}\n`);
    const startRun = createStartRun(startRunDeps(platform), logTo('start-run'));
    const publishSourceChange = createPublishSourceChange(
      publishSourceChangeDeps(platform),
      logTo('publish-source-change'),
    );
    const githubWebhook = createGitHubWebhook(githubWebhookDeps(platform), logTo('github-webhook'));
    // Locally there are no roles to assume: the deploy handler uses local mode's own clients.
    const deploy = createDeploy(
      deployDeps(platform, () => ({ lambda: platform.clients.lambda(), cloudwatch: platform.clients.cloudwatch() })),
      logTo('deploy'),
    );
    functions.set(deployFunction, deploy);
    functions.set(approvalGate, createApprovalGate(approvalGateDeps(platform), logTo('approval-gate')));
    const decisions = createApprovalDecisions(
      approvalDecisionsDeps(platform, {
        demoApprover: options.demoApprover,
        // Locally the deploy handler is at hand: a refusal is its ControlRefusedError.
        controlDeployment: (control) =>
          deploy({ kind: 'control', ...control }).then(
            (answer) => answer as { status: string; outcome: string },
            (error: unknown) => {
              if (error instanceof ControlRefusedError) return { refused: error.message };
              throw error;
            },
          ),
        slackResponseUrl: new RegExp(`^${endpoint.url.replace(/[.]/g, '\\.')}${SLACK_RESPONSE_ROUTE}`),
      }),
      logTo('approval-decisions'),
    );
    late.decisions = decisions;
    runtime.decisions = decisions;
    runtime.stopSweep = scheduleSweep(decisions, (error) =>
      logTo('approval-decisions')({ message: 'sweep failed', cause: error.message }),
    );
    // Delivered into the outbox, unless the user gave local mode a channel's secret (see LocalSenders).
    const notifier = createNotify(
      notifyDeps(
        platform,
        new LocalSenders(
          runtime.outbox,
          new ChannelSenders({
            secrets: new SecretReader(platform.clients.secretsManager(), now),
            ses: platform.clients.ses,
          }),
          (secret) => localSecret(join(stateDir, 'secrets'), secret) !== undefined,
          options.smtpRelay,
        ),
      ),
      logTo('notify'),
    );
    sourceBus.addRule({
      name: 'stepline-run-events',
      ...runEventTrigger(),
      target: (input) => runtime.notifyOf(input as RunEvent, notifier),
    });
    late.webhook = (request) =>
      githubWebhook(functionUrlEvent(request)).then((r) => r as Awaited<ReturnType<FunctionUrlRoute>>);
    // Executions a stop left waiting at their release gate wait there again (a redrive).
    runtime.resumedExecutions = stepFunctions.resumeSuspended().map((e) => e.name);
    for (const pipeline of pipelines) {
      if (!pipeline.deploy) continue;
      await standUpTarget(
        lambdas,
        pipeline.deploy.function,
        pipeline.deploy.alias,
        join(stateDir, 'lambda-placeholder'),
      );
      const staging = pipeline.deploy.staging;
      if (staging) await standUpTarget(lambdas, staging.function, staging.alias, join(stateDir, 'lambda-placeholder'));
      alarms.define(deploymentAlarms(pipeline.name, pipeline.deploy));
      bus.addRule({
        name: `stepline-${pipeline.name}-alarms`,
        ...alarmRuleTrigger(pipeline.name, pipeline.deploy),
        target: (input) => deploy(input),
      });
    }
    if (pipelines.some((p) => p.deploy)) {
      // CloudWatch evaluates every minute ("Alarm evaluation", CloudWatch User Guide).
      alarms.start(options.alarmIntervalMs ?? timeScale.wait(60_000));
      if (options.trafficPerSecond) runtime.stopTraffic = sendTraffic(lambdas, pipelines, options.trafficPerSecond);
    }
    for (const pipeline of pipelines) {
      const repository = localRepositoryName(pipeline);
      await git.ensureRepository(repository, `${endpoint.url}${GIT_PUSH_ROUTE}`);
      if (pipeline.localRepository) await git.connect(repository, resolve(pipeline.localRepository));
      sourceBus.addRule({
        name: runRuleName(pipeline.name),
        ...sourceChangedTrigger(pipeline.name),
        target: (input) => runtime.start(input as SourceChanged, startRun),
      });
      if (!isCodeCommitPipeline(pipeline)) continue;
      bus.addRule({
        name: pushRuleName(pipeline.name),
        ...codeCommitTrigger(pipeline, repositoryArn(repository)),
        // As EventBridge invokes the publisher; resolves with the run its event started.
        target: async (input) => {
          await publishSourceChange(input);
          const { commitId, pipeline: name, trigger } = input as SourceChanged;
          return runtime.startedBy(commitId, name, trigger.deliveryId);
        },
      });
    }
    return runtime;
  }

  /**
   * The notifier, as the run-event rule invokes it. Like Lambda's asynchronous invocation it is
   * retried on failure (twice, here after 1 and 2 seconds instead of minutes); every invocation is
   * kept so that a caller can wait for a run's notifications.
   */
  private notifyOf(event: RunEvent, notifier: (event: unknown) => Promise<unknown>): Promise<unknown> {
    const attempt = async () => {
      for (let retry = 0; ; retry++) {
        try {
          return await notifier(event);
        } catch (error) {
          if (retry >= 2 || this.closing) throw error;
          await new Promise((resolve) => setTimeout(resolve, 1000 * (retry + 1)));
        }
      }
    };
    const done = attempt();
    this.notifying.set(event.runId, [...(this.notifying.get(event.runId) ?? []), done.catch(() => undefined)]);
    return done;
  }

  /** Resolves when every notification of a run so far has been delivered or given up. */
  async notificationsOf(runId: string): Promise<void> {
    let seen = 0;
    // A delivery may announce more (RunEnded after RunStarted): wait until no new one appears.
    while ((this.notifying.get(runId)?.length ?? 0) > seen) {
      const pending = this.notifying.get(runId)!;
      seen = pending.length;
      await Promise.all(pending);
    }
  }

  /** The run starter, as the platform bus's run rule invokes it; each start is kept by its commit. */
  private start(input: SourceChanged, startRun: (event: unknown) => Promise<StartRunResult>): Promise<StartRunResult> {
    const result = startRun(input);
    const commitId = String(input?.commitId);
    const start = { pipeline: input?.pipeline, deliveryId: input?.trigger?.deliveryId, result };
    this.starts.set(commitId, [...(this.starts.get(commitId) ?? []), start]);
    result.then(
      (run) => {
        if (run.refused && !run.duplicate)
          this.reportProblem(describe(input), `${run.refused.error}: ${run.refused.cause}`);
        if (!run.duplicate) this.options.onRunStarted?.(run);
      },
      (error: unknown) =>
        this.reportProblem(describe(input), `the run starter failed: ${String((error as Error)?.message ?? error)}`),
    );
    return result;
  }

  /**
   * The start of the run that one delivery of a commit asked of a pipeline: the latest for that
   * delivery, so a repeated delivery is answered with its own (duplicate) start.
   */
  private startedBy(commitId: string, pipeline: string, deliveryId: string): Promise<StartRunResult> {
    const start = this.starts.get(commitId)?.findLast((s) => s.pipeline === pipeline && s.deliveryId === deliveryId);
    if (!start) throw new Error(`no run start for ${pipeline} at ${commitId} (delivery ${deliveryId})`);
    return start.result;
  }

  /**
   * Runs the HEAD of a pipeline's `localRepository` (connected at start): pushes it, or, when the
   * branch has that commit already, delivers a new event for it (a deliberate re-run, as pushing the
   * same commit again would be on CodeCommit with a new event). Resolves with the commit id.
   */
  async pushRepository(pipeline: PipelineConfig): Promise<string> {
    if (!pipeline.localRepository) throw new Error(`pipeline ${pipeline.name} has no localRepository`);
    const { branch } = pipeline.source;
    const repository = localRepositoryName(pipeline);
    const { commitId, moved } = await this.git.pushHead(repository, resolve(pipeline.localRepository), branch);
    if (!moved)
      this.deliver({ repository, oldCommitId: commitId, commitId, ref: `refs/heads/${branch}` }, randomUUID());
    return commitId;
  }

  /** Commits a pipeline's seed directory to its repository and pushes it; resolves with the commit id. */
  async pushSeed(pipeline: PipelineConfig, seedDir: string, message: string): Promise<string> {
    return this.git.commitAndPush(localRepositoryName(pipeline), pipeline.source.branch, seedDir, message);
  }

  /**
   * The runs started by deliveries of this commit (resolves once every delivery has been taken and
   * every run rule's target has answered).
   */
  async runsStartedFor(commitId: string): Promise<StartRunResult[]> {
    await Promise.allSettled(this.deliveries.get(commitId) ?? []);
    return Promise.all((this.starts.get(commitId) ?? []).map((start) => start.result));
  }

  /** Puts an event on the local default bus, as EventBridge would deliver it to the rules' targets. */
  putEvent(event: unknown): Promise<StartRunResult>[] {
    const deliveries = this.bus.put(event).map((d) => d.result as Promise<StartRunResult>);
    const valid = event as BusEvent;
    this.track(valid.detail.commitId, deliveries);
    // Every event leaves a trace: one that starts no run is reported with the reason.
    if (deliveries.length === 0)
      this.reportProblem(describe(valid), 'no pipeline follows this push (no rule matches it)');
    deliveries.forEach((d) =>
      // Also reported to whoever awaits it; it must not crash the runtime.
      d.catch((error: unknown) =>
        this.reportProblem(
          describe(valid),
          `the push was not delivered: ${String((error as Error)?.message ?? error)}`,
        ),
      ),
    );
    return deliveries;
  }

  /**
   * Delivers a GitHub webhook delivery to the local receiver, as GitHub would POST it to the
   * platform's function URL; resolves with the receiver's answer.
   */
  async deliverWebhook(delivery: { headers: Record<string, string>; body: Buffer }) {
    const response = await fetch(`${this.endpoint.url}${GITHUB_WEBHOOK_ROUTE}`, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  private track(commitId: unknown, deliveries: Promise<unknown>[]): void {
    const key = String(commitId);
    this.deliveries.set(key, [...(this.deliveries.get(key) ?? []), ...deliveries]);
  }

  /** One ref update of a local repository, delivered as its source would: a CodeCommit event or a GitHub push. */
  private deliver(update: RefUpdate, deliveryId: string): void {
    const github = this.options.config.pipelines.find(
      (p) => p.source.type === 'github' && localRepositoryName(p) === update.repository,
    );
    if (!github) {
      this.putEvent(codeCommitEvent(update, new Date(), deliveryId));
      return;
    }
    const delivered = pushDelivery(
      this.git,
      sourceOf(github).repository,
      update,
      this.webhookSecret,
      deliveryId,
      process.env.USER ?? 'local',
    )
      .then((delivery) => this.deliverWebhook(delivery))
      .then((answer) => {
        if (answer.status >= 300)
          throw new Error(`the webhook answered ${answer.status}: ${String(answer.body.message)}`);
        if (!answer.body.pipelines)
          this.reportProblem({ event: `${update.repository} ${update.ref}`, deliveryId }, String(answer.body.message));
      })
      .catch((error: unknown) =>
        this.reportProblem(
          { event: `${update.repository} ${update.ref} at ${update.commitId.slice(0, 12)}`, deliveryId },
          `the push was not delivered: ${String((error as Error)?.message ?? error)}`,
        ),
      );
    this.track(update.commitId, [delivered]);
  }

  /** Writes why an event started no run to `<stateDir>/event-bus.log`, and tells onDeliveryProblem. */
  private reportProblem(event: Omit<DeliveryProblem, 'reason'>, reason: string): void {
    const problem: DeliveryProblem = { ...event, reason };
    appendFileSync(join(this.stateDir, 'event-bus.log'), `${JSON.stringify({ time: this.now(), ...problem })}\n`);
    this.options.onDeliveryProblem?.(problem);
  }

  /**
   * Waits until a run has ended and returns it as recorded: a run waiting for its turn is waited for
   * until its execution starts and ends.
   */
  async waitForRun(runId: string): Promise<RunRecord> {
    for (;;) {
      const run = await this.store.getRun(runId);
      if (!run) throw new Error(`run ${runId} does not exist`);
      const execution = this.stepFunctions.listExecutions().find((e) => e.name === runId);
      if (execution) {
        await execution.done;
        await this.settled(execution.executionArn);
        return (await this.store.getRun(runId))!;
      }
      if (!ACTIVE_RUN_STATUSES.includes(run.status)) return run;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** An execution's end, put on the default bus as Step Functions' status change event. */
  private executionEnded(execution: Execution): void {
    // Stopping: the executions are aborted and their runs recorded by close(); nothing moves on.
    if (this.closing) return;
    const ended = this.bus.put(
      busEvent({
        source: 'aws.states',
        detailType: EXECUTION_STATUS_DETAIL_TYPE,
        resources: [execution.executionArn],
        detail: {
          executionArn: execution.executionArn,
          stateMachineArn: execution.stateMachineArn,
          name: execution.name,
          status: execution.status,
          startDate: execution.startDate.getTime(),
          stopDate: execution.stopDate?.getTime(),
        },
      }),
    );
    const handled = Promise.allSettled(ended.map((d) => d.result));
    this.endings.set(execution.executionArn, handled);
  }

  /** One round of the gates' sweep now (expiries, held gates whose window opened, heartbeats), as the schedule runs it. */
  sweepApprovals(): Promise<unknown> {
    return this.decisions({ kind: 'sweep' });
  }

  /** Resolves when the recorder has taken an ended execution's status change (the lane has moved on). */
  private async settled(executionArn: string): Promise<void> {
    await this.endings.get(executionArn);
  }

  get storeEndpoint(): string {
    return this.storeServer.endpoint;
  }

  /**
   * Stops local mode: aborts the running executions and waits (bounded) for their builds to stop
   * and clean up, records the runs they belonged to FAILED, then closes the endpoints.
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.stopSweep();
    this.stopTraffic();
    this.alarms.stop();
    await this.stepFunctions.stopAll();
    await this.lambdas.close();
    await failInterruptedRuns(this.store, this.now, new Set(this.stepFunctions.suspendedExecutions()));
    rmSync(join(this.stateDir, ENDPOINT_FILE), { force: true });
    await this.endpoint.close();
    await this.storeServer.close();
    this.unlock();
  }

  /**
   * A git hook's notification: one event per updated ref. The event ids derive from the hook's
   * delivery id, so a replayed notification carries the same ids and starts nothing twice.
   */
  private receivePush(push: GitPush): { events: number } {
    const updates = LocalGitSource.refUpdates(push.repository, push.lines);
    updates.forEach((update) => this.deliver(update, eventIdOf(push.delivery, update)));
    return { events: updates.length };
  }
}

const gitPushSchema = z.strictObject({
  repository: z.string().regex(/^[\w.-]{1,100}$/, 'repository must be a repository name'),
  lines: z.string().max(64 * 1024),
  /** Made once per hook run: a replay of the same request carries the same one. */
  delivery: z.uuid(),
});
type GitPush = z.infer<typeof gitPushSchema>;

/** What a delivery problem names: the repository, ref and commit of a CodeCommit event or a SourceChanged one. */
function describe(event: BusEvent | SourceChanged): Omit<DeliveryProblem, 'reason'> {
  if ('detail' in event) {
    const { repositoryName, referenceFullName, commitId } = event.detail as Record<string, string | undefined>;
    return {
      event: `${repositoryName ?? event.source} ${referenceFullName ?? event['detail-type']} at ${String(commitId ?? '').slice(0, 12)}`,
      deliveryId: event.id,
    };
  }
  const ref = `refs/${event.referenceType === 'tag' ? 'tags' : 'heads'}/${event.branch}`;
  return {
    event: `${event.repository} ${ref} at ${String(event.commitId).slice(0, 12)}`,
    deliveryId: event.trigger?.deliveryId,
  };
}

/** A UUID-shaped event id, the same for the same delivery and ref. */
function eventIdOf(delivery: string, update: RefUpdate): string {
  const hex = createHash('sha256').update(`${delivery}\n${update.ref}\n${update.commitId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A run that was active when local mode stopped has no execution any more (aborted on a stop, lost
 * with the process on a kill). Recording it FAILED keeps the store truthful (and its active index
 * empty): at a stop, and at the next start for a local mode that could not stop.
 */
async function failInterruptedRuns(store: RunStore, now: Clock, resumable: ReadonlySet<string>): Promise<string[]> {
  const failure = {
    error: 'LocalModeStopped',
    cause: 'local mode stopped while this run was in progress; local executions do not survive a restart',
  };
  const interrupted: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listActiveRuns({ cursor });
    for (const run of page.items) {
      if (run.executionName && resumable.has(run.executionName)) continue;
      for (const stage of await store.listStages(run.runId)) {
        if (stage.status === 'IN_PROGRESS') {
          await store.transitionStage(run.runId, stage.name, 'FAILED', { endedAt: now().toISOString(), failure });
        }
      }
      await store.transitionRun(run.runId, 'FAILED', { endedAt: now().toISOString(), failure });
      interrupted.push(run.runId);
    }
    cursor = page.cursor;
  } while (cursor);
  return interrupted;
}

function localProjects(pipeline: PipelineConfig, git: LocalGitSource) {
  const repositoryPath = git.repositoryPath(localRepositoryName(pipeline));
  return stageSpecs(pipeline).map((stage) => ({
    name: stage.project,
    buildspecPath: stage.buildspec,
    repositoryPath,
    timeoutMinutes: stage.timeoutMinutes,
  }));
}

/** The event CodeCommit puts on EventBridge for a ref update. */
export function codeCommitEvent(update: RefUpdate, time = new Date(), id: string = randomUUID()): BusEvent {
  const [, kind, ...name] = update.ref.split('/');
  const event = LocalGitSource.refEvent(update);
  return busEvent({
    source: 'aws.codecommit',
    detailType: CODECOMMIT_DETAIL_TYPE,
    id,
    time,
    resources: [repositoryArn(update.repository)],
    detail: {
      callerUserArn: `arn:aws:iam::${LOCAL_ACCOUNT}:user/${process.env.USER ?? 'local'}`,
      commitId: event === 'referenceDeleted' ? update.oldCommitId : update.commitId,
      ...(event === 'referenceUpdated' ? { oldCommitId: update.oldCommitId } : {}),
      event,
      referenceFullName: update.ref,
      referenceName: name.join('/'),
      referenceType: kind === 'tags' ? 'tag' : 'branch',
      repositoryId: update.repository,
      repositoryName: update.repository,
    },
  });
}

const name = z.string().min(1).max(2048);

function awsOperations(
  sfn: LocalStepFunctions,
  codebuild: LocalCodeBuild,
  git: LocalGitSource,
  parameters: ReadonlyMap<string, string>,
  buses: Readonly<Record<string, LocalEventBus>>,
  generatedSecrets: Readonly<Record<string, string>>,
  secretsDir: string,
  alarms: LocalAlarms,
) {
  return {
    [DESCRIBE_ALARMS_TARGET]: describeAlarmsOperation(alarms),
    'AWSEvents.PutEvents': operation(
      z.object({
        Entries: z
          .array(
            z.object({
              EventBusName: name,
              Source: name,
              DetailType: name,
              Detail: z.string().max(256 * 1024),
              Resources: z.array(name).optional(),
              Time: z.number().optional(),
            }),
          )
          .min(1)
          .max(10),
      }),
      (r) => ({
        FailedEntryCount: 0,
        Entries: r.Entries.map((entry) => {
          const bus = buses[entry.EventBusName.split('/').pop()!];
          if (!bus) {
            throw serviceError('ResourceNotFoundException', `Event bus ${entry.EventBusName} does not exist.`);
          }
          const event = busEvent({
            source: entry.Source,
            detailType: entry.DetailType,
            time: entry.Time ? new Date(entry.Time * 1000) : undefined,
            resources: entry.Resources,
            detail: JSON.parse(entry.Detail) as Record<string, unknown>,
          });
          bus.put(event);
          return { EventId: event.id };
        }),
      }),
    ),
    // The webhook secret local mode made, and the notification secrets a user put under
    // <stateDir>/secrets/ (a Slack webhook URL, a GitHub token) to deliver for real from local mode.
    'secretsmanager.GetSecretValue': operation(z.object({ SecretId: name }), (r) => {
      const value = generatedSecrets[r.SecretId] ?? localSecret(secretsDir, r.SecretId);
      if (value === undefined) {
        throw serviceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      }
      return { Name: r.SecretId, SecretString: value, VersionId: 'local' };
    }),
    'AWSStepFunctions.SendTaskSuccess': operation(
      z.object({ taskToken: z.string().min(1).max(2048), output: z.string().max(256 * 1024) }),
      (r) => (sfn.sendTaskSuccess(r.taskToken, r.output), {}),
    ),
    'AWSStepFunctions.SendTaskFailure': operation(
      z.object({
        taskToken: z.string().min(1).max(2048),
        error: z.string().max(256).optional(),
        cause: z.string().max(32_768).optional(),
      }),
      (r) => (sfn.sendTaskFailure(r.taskToken, r.error ?? '', r.cause ?? ''), {}),
    ),
    'AWSStepFunctions.SendTaskHeartbeat': operation(
      z.object({ taskToken: z.string().min(1).max(2048) }),
      (r) => (sfn.sendTaskHeartbeat(r.taskToken), {}),
    ),
    'AmazonSSM.GetParametersByPath': operation(
      z.object({
        Path: name,
        MaxResults: z.number().int().min(1).max(10).optional(),
        NextToken: z.string().optional(),
      }),
      (r) => {
        const below = [...parameters.keys()]
          .filter((key) => key.startsWith(`${r.Path}/`) && !key.slice(r.Path.length + 1).includes('/'))
          .sort();
        const start = Number(r.NextToken ?? 0);
        const page = below.slice(start, start + (r.MaxResults ?? 10));
        const next = start + page.length;
        return {
          Parameters: page.map((key) => ({ Name: key, Type: 'String', Value: parameters.get(key), Version: 1 })),
          NextToken: next < below.length ? String(next) : undefined,
        };
      },
    ),
    'AWSStepFunctions.StartExecution': operation(
      z.object({ stateMachineArn: name, name: name.optional(), input: z.string().optional() }),
      (r) => {
        const execution = sfn.startExecution(r.stateMachineArn, r.name ?? randomUUID(), r.input ?? '{}');
        return { executionArn: execution.executionArn, startDate: execution.startDate };
      },
    ),
    'AWSStepFunctions.DescribeExecution': operation(z.object({ executionArn: name }), (r) => {
      const { executionArn, stateMachineArn, name, status, startDate, stopDate, input, output, error, cause } =
        sfn.describeExecution(r.executionArn);
      return { executionArn, stateMachineArn, name, status, startDate, stopDate, input, output, error, cause };
    }),
    'AmazonSSM.GetParameter': operation(z.object({ Name: name }), (r) => {
      const value = parameters.get(r.Name);
      if (value === undefined) throw serviceError('ParameterNotFound', `Parameter ${r.Name} not found.`);
      return { Parameter: { Name: r.Name, Type: 'String', Value: value, Version: 1 } };
    }),
    'CodeBuild_20161006.BatchGetBuilds': operation(z.object({ ids: z.array(name).min(1).max(100) }), (r) =>
      codebuild.batchGetBuilds(r.ids),
    ),
    'CodeBuild_20161006.BatchGetReports': operation(z.object({ reportArns: z.array(name).min(1).max(100) }), (r) =>
      codebuild.batchGetReports(r.reportArns),
    ),
    'CodeBuild_20161006.DescribeTestCases': operation(
      z.object({
        reportArn: name,
        filter: z
          .object({ status: z.enum(['SUCCEEDED', 'FAILED', 'ERROR', 'SKIPPED', 'UNKNOWN']).optional() })
          .optional(),
        maxResults: z.number().int().min(1).max(100).optional(),
        nextToken: z.string().optional(),
      }),
      (r) => codebuild.describeTestCases(r),
    ),
    'Logs_20140328.GetLogEvents': operation(
      z.object({
        logGroupName: name.optional(),
        logStreamName: name,
        limit: z.number().int().min(1).max(10_000).optional(),
        startFromHead: z.boolean().optional(),
      }),
      async (r) => {
        const events = await codebuild.getLogEvents(r);
        if (!events) {
          throw serviceError('ResourceNotFoundException', 'The specified log stream does not exist.');
        }
        return events;
      },
    ),
    'CodeCommit_20150413.GetDifferences': operation(
      z.object({
        repositoryName: name,
        beforeCommitSpecifier: name.optional(),
        afterCommitSpecifier: name,
        NextToken: z.string().optional(),
      }),
      async (r) => {
        const differences = await git
          .differences(r.repositoryName, r.beforeCommitSpecifier, r.afterCommitSpecifier)
          .catch(() => {
            throw serviceError('CommitDoesNotExistException', `Commit ${r.afterCommitSpecifier} does not exist`);
          });
        const blob = (path?: string) => (path ? { path, mode: '100644', blobId: '' } : undefined);
        return {
          differences: differences.map((d) => ({
            changeType: d.changeType,
            beforeBlob: blob(d.beforePath),
            afterBlob: blob(d.afterPath),
          })),
        };
      },
    ),
    'CodeCommit_20150413.GetCommit': operation(z.object({ repositoryName: name, commitId: name }), async (r) => {
      try {
        const { author, message, parents } = await git.getCommit(r.repositoryName, r.commitId);
        return { commit: { commitId: r.commitId, message, author, committer: author, parents } };
      } catch {
        throw serviceError('CommitDoesNotExistException', `Commit ${r.commitId} does not exist`);
      }
    }),
  };
}

/**
 * A deploy target as the CDK app stands it up on AWS: the function, a first version that answers it
 * is not deployed yet, and the alias on that version; a deployment moves the alias from there.
 */
async function standUpTarget(
  lambdas: LocalFunctions,
  name: string,
  alias: string,
  placeholderDir: string,
): Promise<void> {
  await mkdir(placeholderDir, { recursive: true });
  writeFileSync(
    join(placeholderDir, 'index.js'),
    "exports.handler = async () => ({ statusCode: 503, body: 'not deployed yet' });\n",
  );
  lambdas.createFunction({ name, handler: 'index.handler' });
  lambdas.updateFunctionCode(name, placeholderDir);
  // As CloudFormation does before it publishes: the update has ended.
  await lambdas.updated(name);
  lambdas.createAlias(name, alias, lambdas.publishVersion(name).version);
}

/**
 * Traffic through each deploy target's alias, as its callers would send it (the pre-traffic event is
 * the request): what a bake judges the new version by. Returns what stops it.
 */
function sendTraffic(lambdas: LocalFunctions, pipelines: readonly PipelineConfig[], perSecond: number): () => void {
  const targets = pipelines.flatMap((p) => (p.deploy ? [p.deploy] : []));
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped) return;
    for (const target of targets)
      void lambdas.invoke(target.function, target.alias, target.preTraffic?.event ?? {}).catch(() => undefined);
  }, 1000 / perSecond);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
