/**
 * Local mode: the platform on one machine. The same ASL, executed locally; the same handlers, with
 * SDK clients pointed at local endpoints; dynalite for DynamoDB; bare git repositories for CodeCommit;
 * the build runner for CodeBuild. Only these edges differ from AWS.
 *
 * This module starts the local services (services.ts), wires the platform's handlers onto them, and
 * stops them. Each service stands in for one AWS service in a module of its own (see the endpoint's
 * operation table, aws-operations.ts); deliveries of pushes are kept in deliveries.ts, what a stop or a
 * kill left behind is recorded by recovery.ts, deploy targets and their traffic are in deploy-targets.ts.
 */
import './polyfills';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { catalogEntry, stateMachineName, type PipelineConfig } from '../core/config/stepline-config';
import { catalogParameterName, PLATFORM_PARAMETERS } from '../core/platform';
import type { Clock } from '../core/ports';
import { ACTIVE_RUN_STATUSES, type RunEvent, type RunRecord, type SourceChanged } from '../core/records';
import { targetEnvironment, type ReleaseTarget } from '../core/deployment/targets';
import type { StartRunResult } from '../core/runs/start-run';
import { recordProgressDeps } from '../lambdas/record-progress';
import { PIPELINE_DEFINITION_FILE, renderDefinition } from '../statemachines';
import type { RunStore } from '../store/run-store';
import type { LocalAlarms } from './alarms';
import type { LocalEndpoint } from './aws-endpoint';
import type { RecoveryReport } from './build-runner';
import { GIT_PUSH_ROUTE, LocalDeliveries } from './deliveries';
import type { LocalAccount, LocalAccounts } from './accounts';
import { LOCAL_ENVIRONMENT, LOCAL_TABLE_NAME } from './constants';
import { sendTraffic, standUpTargets } from './deploy-targets';
import type { LocalEventBus } from './event-bus';
import type { LocalFunctions } from './functions/local-lambda';
import type { LocalIam } from './iam';
import { localRepositoryName, type LocalGitSource } from './git-source';
import { LocalOutbox } from './outbox';
import { LocalPlatformFunctions, localPlatform, type AsyncInvocation } from './platform-functions';
import { interruptedRunsOf, moveLanesOn, recordInterruptedRuns } from './recovery';
import { startServices, type LocalRuntimeOptions, type LocalServices } from './services';
import { executionStatusChange, type Execution } from './executions';
import type { LocalStepFunctions } from './step-functions';
import type { StoreServer } from './store-server';
import type { TimeScale } from './time-scale';

// What cli/, bench/ and test/ import from local mode, wherever it lives now.
export { codeCommitEvent, repositoryArn } from './codecommit';
export { GITHUB_WEBHOOK_ROUTE, type DeliveryProblem } from './deliveries';
export { localRepositoryName } from './git-source';
export type { LocalRuntimeOptions } from './services';

/**
 * Where a running local mode says where its endpoint and its store listen (`url`, `storeEndpoint`, `pid`): what the
 * CLI's commands reach it by.
 */
export const ENDPOINT_FILE = 'endpoint.json';

export class LocalRuntime {
  /** Deliveries of source events and the runs they started (local/deliveries.ts). */
  private readonly deliveries: LocalDeliveries;

  /** Where local mode delivers notifications (`<stateDir>/outbox`). */
  readonly outbox: LocalOutbox;
  /** The notifier's invocations, by run. */
  private readonly notifying = new Map<string, Promise<unknown>[]>();
  /** The execution status changes delivered, by execution. */
  private readonly endings = new Map<string, Promise<unknown>>();
  private closing = false;
  /** Stops the traffic sent through deploy targets' aliases. */
  private stopTraffic: () => void = () => undefined;
  /** The platform's functions, wired from their declaration (set once the runtime exists). */
  private platformFunctions?: LocalPlatformFunctions;

  readonly store: RunStore;
  readonly stepFunctions: LocalStepFunctions;
  /** The platform account's Lambda: the deploy targets placed there, their versions and aliases. */
  readonly lambdas: LocalFunctions;
  /** The platform account's CloudWatch alarms over its Lambda's metrics. */
  readonly alarms: LocalAlarms;
  /** Every account local mode stands in for: the platform's and each deploy target's elsewhere (local/accounts.ts). */
  readonly accounts: LocalAccounts;
  /** Local IAM: the deploy roles and their trust policies (local/iam.ts). */
  readonly iam: LocalIam;
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
  /** Runs that waited in a lane over the last stop and took it at this start: running now. */
  lanesMovedOn: readonly string[] = [];
  /** What a previous local session that was killed left running, and was ended. */
  readonly recovery: RecoveryReport | undefined;
  private readonly storeServer: StoreServer;
  private readonly now: Clock;
  /** The config's pipelines: where each one's deploy targets are. */
  private readonly pipelines: readonly PipelineConfig[];
  private readonly unlock: () => void;

  private constructor(parts: LocalServices, options: LocalRuntimeOptions) {
    this.outbox = new LocalOutbox(join(parts.stateDir, 'outbox'));
    this.deliveries = new LocalDeliveries({
      pipelines: options.config.pipelines,
      bus: parts.bus,
      git: parts.git,
      webhookSecret: parts.webhookSecret,
      endpointUrl: parts.endpoint.url,
      stateDir: parts.stateDir,
      now: parts.now,
      onRunStarted: options.onRunStarted,
      onDeliveryProblem: options.onDeliveryProblem,
    });
    ({
      store: this.store,
      stepFunctions: this.stepFunctions,
      lambdas: this.lambdas,
      alarms: this.alarms,
      accounts: this.accounts,
      iam: this.iam,
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
      pipelines: this.pipelines,
    } = parts);
  }

  static async start(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    const services = await startServices(options);
    const { storeServer, stateDir, now, timeScale, git, pipelines } = services;
    const { stepFunctions, functions, bus, sourceBus, accounts, iam, parameters, endpoint, late } = services;
    const runtime = new LocalRuntime(services, options);
    late.receive = (push) => runtime.deliveries.receivePush(push);
    writeFileSync(
      join(stateDir, ENDPOINT_FILE),
      JSON.stringify({ url: endpoint.url, storeEndpoint: storeServer.endpoint, pid: process.pid }),
    );
    late.ended = (execution) => runtime.executionEnded(execution);

    const platform = localPlatform({
      endpointUrl: endpoint.url,
      storeEndpoint: storeServer.endpoint,
      ...{ stateDir, now, timeScale, outbox: runtime.outbox },
      demoApprover: options.demoApprover,
      smtpRelay: options.smtpRelay,
    });
    // Every platform function, from its declaration: Tasks, rules, routes and schedules.
    const platformFunctions = await LocalPlatformFunctions.start({
      platform,
      buses: { default: bus, platform: sourceBus },
      logDir: join(stateDir, 'functions'),
      now,
      taskFunctions: functions,
      onInvoked: (invocation) => runtime.invoked(invocation),
    });
    late.platformFunctions = runtime.platformFunctions = platformFunctions;
    for (const pipeline of pipelines) {
      const entry = catalogEntry(
        pipeline,
        stepFunctions.createStateMachine(
          stateMachineName(pipeline.name),
          renderDefinition(PIPELINE_DEFINITION_FILE, platformFunctions.substitutions()),
        ),
      );
      parameters.put(catalogParameterName(pipeline.name), JSON.stringify(entry));
    }
    // As the platform stack publishes it: where the CLI's `--aws` reads find the run table.
    parameters.put(PLATFORM_PARAMETERS.runTableName, LOCAL_TABLE_NAME);
    platformFunctions.startSchedules();
    // Executions a stop left waiting at their release gate wait there again (a redrive).
    runtime.resumedExecutions = stepFunctions.resumeSuspended().map((e) => e.name);
    const placeholderDir = join(stateDir, 'lambda-placeholder');
    await standUpTargets(pipelines, { accounts, iam, platformBus: sourceBus, placeholderDir });
    if (pipelines.some((p) => p.deploy)) {
      // CloudWatch evaluates every minute ("Alarm evaluation", CloudWatch User Guide), in every account.
      for (const account of accounts.all()) account.alarms.start(options.alarmIntervalMs ?? timeScale.wait(60_000));
      if (options.trafficPerSecond) runtime.stopTraffic = sendTraffic(accounts, pipelines, options.trafficPerSecond);
    }
    for (const pipeline of pipelines) {
      const repository = localRepositoryName(pipeline);
      await git.ensureRepository(repository, `${endpoint.url}${GIT_PUSH_ROUTE}`);
      if (pipeline.localRepository) await git.connect(repository, resolve(pipeline.localRepository));
    }
    // What the last local mode left active is recorded as ended, now that its end can be announced.
    await runtime.recordInterrupted(runtime.interruptedRuns);
    // The lanes they held move on, so the runs that waited in them start (never at a stop: local/recovery.ts).
    runtime.lanesMovedOn = await moveLanesOn(pipelines, recordProgressDeps(platform));
    return runtime;
  }

  /** Records runs whose executions a stop or a kill ended (local/recovery.ts); resolves once their ends are announced. */
  private async recordInterrupted(runIds: readonly string[]): Promise<void> {
    await recordInterruptedRuns(runIds, {
      store: this.store,
      now: this.now,
      endpointUrl: this.endpoint.url,
      pipelines: this.pipelines,
    });
    await Promise.all(runIds.map((runId) => this.notificationsOf(runId)));
  }

  /**
   * An asynchronous invocation of a platform function has begun (local/platform-functions.ts): a run
   * start is kept by its commit (local/deliveries.ts), a notification by its run, so that callers can
   * wait for them.
   */
  private invoked({ name, event, result }: AsyncInvocation): void {
    if (name === 'startRun') this.deliveries.started(event as SourceChanged, result as Promise<StartRunResult>);
    if (name === 'notify') {
      const { runId } = event as RunEvent;
      this.notifying.set(runId, [...(this.notifying.get(runId) ?? []), result.catch(() => undefined)]);
    }
  }

  /** The account a pipeline's production (or staging) target is stood up in (local/accounts.ts). */
  targetAccount(pipeline: string, target: ReleaseTarget = 'production'): LocalAccount {
    const deploy = this.pipelines.find(({ name }) => name === pipeline)?.deploy;
    if (!deploy) throw new Error(`pipeline ${pipeline} has no deploy target`);
    return this.accounts.get(targetEnvironment(deploy, target, LOCAL_ENVIRONMENT));
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
    if (!moved) this.deliveries.redeliver(repository, branch, commitId);
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
  runsStartedFor(commitId: string): Promise<StartRunResult[]> {
    return this.deliveries.runsStartedFor(commitId);
  }

  /**
   * Puts an event on the local default bus, as EventBridge would deliver it to the rules' targets; resolves
   * with the runs it started, one per pipeline following the pushed repository.
   */
  putEvent(event: unknown): Promise<StartRunResult[]> {
    return this.deliveries.putEvent(event);
  }

  /**
   * Delivers a GitHub webhook delivery to the local receiver, as GitHub would POST it to the
   * platform's function URL; resolves with the receiver's answer.
   */
  deliverWebhook(delivery: { headers: Record<string, string>; body: Buffer }) {
    return this.deliveries.deliverWebhook(delivery);
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
    const ended = this.bus.put(executionStatusChange(execution));
    const handled = Promise.allSettled(ended.map((d) => d.result));
    this.endings.set(execution.executionArn, handled);
  }

  /** One round of the gates' sweep now (expiries, held gates whose window opened, heartbeats), as the schedule runs it. */
  sweepApprovals(): Promise<unknown> {
    return this.platformFunctions!.handler('approvalDecisions')({ kind: 'sweep' });
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
   * and clean up, records the runs they belonged to FAILED (runs waiting in a lane keep their place,
   * and start after the next start), then closes the endpoints.
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.platformFunctions?.close();
    this.stopTraffic();
    for (const account of this.accounts.all()) account.alarms.stop();
    await this.stepFunctions.stopAll();
    await Promise.all(this.accounts.all().map((account) => account.lambdas.close()));
    await this.recordInterrupted(await interruptedRunsOf(this.store, this.stepFunctions));
    rmSync(join(this.stateDir, ENDPOINT_FILE), { force: true });
    await this.endpoint.close();
    await this.storeServer.close();
    this.unlock();
  }
}
