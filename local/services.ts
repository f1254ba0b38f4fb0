/**
 * The local services local mode stands in for AWS with, started in the order they need each other:
 * the state directory's lock, the endpoint's port, the run store (dynalite), the build runner (after ending what a killed
 * local mode left running), local CodeBuild, Step Functions with one adapter per Task resource, the two
 * buses, the accounts (the platform's and each deploy target's: Lambda and its metrics, the alarms, a
 * default bus) with local IAM, the generated secrets, Parameter Store, and the one endpoint that serves
 * their APIs. The platform's handlers are wired onto them by local/runtime.ts.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TASK_RESOURCES } from '../core/asl/states';
import { ConfigError } from '../core/config/errors';
import { targetEnvironment, targetPlacementProblems, targetStacks } from '../core/deployment/targets';
import { stageSpecs, type PipelineConfig, type SteplineConfig } from '../core/config/stepline-config';
import {
  APPROVAL_LINK_KEY_SECRET_NAME,
  GITHUB_WEBHOOK_SECRET_NAME,
  SLACK_SIGNING_SECRET_NAME,
  SOURCE_BUS_NAME,
} from '../core/platform';
import type { Clock } from '../core/ports';
import type { StartRunResult } from '../core/runs/start-run';
import { RunStore } from '../store/run-store';
import {
  codeBuildSyncAdapter,
  lambdaInvokeAdapter,
  lambdaInvokeWaitForTaskTokenAdapter,
  type LocalFunction,
} from './adapters';
import { LocalAccounts, localAccount } from './accounts';
import { slackResponseRoute } from './approvals';
import { operation, reserveLocalEndpoint, startLocalEndpoint } from './aws-endpoint';
import { awsOperations } from './aws-operations';
import { LocalBuildRunner } from './build-runner';
import { LocalCodeBuild, projectCacheOf, type BuildRunner } from './codebuild';
import { LOCAL_ENVIRONMENT, LOCAL_REGION, LOCAL_TABLE_NAME } from './constants';
import { GIT_PUSH_ROUTE, gitPushSchema, type DeliveryProblem, type GitPush } from './deliveries';
import { LocalEventBus } from './event-bus';
import { LocalGitSource, localRepositoryName } from './git-source';
import { localGeneratedSecret } from './github-delivery';
import { localIam, STS_XMLNS, stsOperations } from './iam';
import { LocalParameterStore } from './parameter-store';
import { platformFunctionRoutes, type LocalPlatformFunctions } from './platform-functions';
import { interruptedRunsOf } from './recovery';
import { lockStateDir } from './state-lock';
import { LocalStepFunctions, type Execution } from './step-functions';
import { startStoreServer } from './store-server';
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
  /**
   * Honour the buildspecs' `cache` sections, kept in `<stateDir>/cache/<project>` (LocalBuildRunnerOptions
   * `cache`); false is `stepline start --no-cache`. @default true
   */
  readonly buildCache?: boolean;
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
  /**
   * The loopback port of the endpoint (local/aws-endpoint.ts), which the links and the webhook URL name.
   * `stepline start` passes DEFAULT_LOCAL_PORT (local/local-address.ts) unless told another.
   * @default 0: any free port (tests, benchmarks: no address kept across restarts)
   */
  readonly port?: number;
}

/** What the services call into that is made after them (the runtime, the handlers): set once they exist. */
export interface LateBound {
  receive?: (push: GitPush) => { events: number };
  /** The platform's functions (local/platform-functions.ts), behind their routes and local Lambda's Invoke. */
  platformFunctions?: LocalPlatformFunctions;
  ended?: (execution: Execution) => void;
}

export type LocalServices = Awaited<ReturnType<typeof startServices>>;

/**
 * Local mode stands in for one Region. A release into another Region uploads the artifact's bytes on AWS
 * (lambdas/adapters/lambda-deployer.ts), read from S3, which local mode does not serve: its artifacts are
 * directories local Lambda takes by location. So such a target is refused here, naming its field.
 */
function targetsInOtherRegions(pipelines: readonly PipelineConfig[]): string[] {
  return pipelines.flatMap(({ name, deploy }) =>
    deploy
      ? (['production', 'staging'] as const)
          .filter((target) => target === 'production' || deploy.staging)
          .map((target) => ({ target, region: targetEnvironment(deploy, target, LOCAL_ENVIRONMENT).region }))
          .filter(({ region }) => region !== LOCAL_ENVIRONMENT.region)
          .map(
            ({ target, region }) =>
              `pipeline "${name}": ${target === 'staging' ? 'deploy.staging' : 'deploy'}.region ${region}: local mode stands in for one Region (${LOCAL_ENVIRONMENT.region}), and a release into another Region is made on AWS only; leave region out to run this pipeline locally`,
          )
      : [],
  );
}

export async function startServices(options: LocalRuntimeOptions) {
  // Before anything starts: a config placing a deploy target where no release can reach it, named by its field.
  const misplaced = [
    ...targetPlacementProblems(options.config.pipelines, LOCAL_ENVIRONMENT),
    ...targetsInOtherRegions(options.config.pipelines),
  ];
  if (misplaced.length) throw new ConfigError(misplaced);
  const stateDir = resolve(options.stateDir);
  await mkdir(stateDir, { recursive: true });
  const unlock = lockStateDir(stateDir);
  // The port before anything else: a port another program holds fails the start with nothing begun.
  const reservedEndpoint = await reserveLocalEndpoint(options.port).catch((error: unknown) => {
    unlock();
    throw error;
  });
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
      cacheDir: join(stateDir, 'cache'),
      cache: options.buildCache,
    });
  // Before any build runs: end what a local mode that was killed left running.
  const recovery = await runner.recover?.();
  const codebuild = new LocalCodeBuild(
    runner,
    pipelines.flatMap((p) => localProjects(p, git)),
    options.onBuildLog,
    join(stateDir, 'codebuild'),
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
  // The platform's account (its default bus: CodeCommit's, Step Functions' and its alarms' events), the account
  // of each deploy target the config places elsewhere (local/accounts.ts), and who calls in which (local/iam.ts).
  const iam = localIam(now);
  const platformAccount = localAccount(LOCAL_ENVIRONMENT, { lambdaDir: join(stateDir, 'lambda'), now, timeScale });
  const accounts = new LocalAccounts(platformAccount, iam);
  for (const target of targetStacks(pipelines, LOCAL_ENVIRONMENT)) {
    const lambdaDir = join(stateDir, 'accounts', `${target.account}-${target.region}`, 'lambda');
    accounts.add(localAccount({ account: target.account, region: target.region }, { lambdaDir, now, timeScale }));
  }
  const { bus, lambdas, alarms } = platformAccount;
  const sourceBus = new LocalEventBus();
  // Runs active when the last local mode ended, but for those waiting at a release gate (their executions
  // resume there) or in their lane (they keep their place): listed before the endpoint can start a run,
  // recorded once the handlers are wired.
  const interruptedRuns = await interruptedRunsOf(store, stepFunctions);
  const webhookSecret = localGeneratedSecret(join(stateDir, 'github-webhook-secret'));
  const localSecrets: Record<string, string> = {
    [GITHUB_WEBHOOK_SECRET_NAME]: webhookSecret,
    [APPROVAL_LINK_KEY_SECRET_NAME]: localGeneratedSecret(join(stateDir, 'approval-link-key')),
    [SLACK_SIGNING_SECRET_NAME]: localGeneratedSecret(join(stateDir, 'slack-signing-secret')),
  };
  // Parameter Store: where the pipelines' catalog entries are published, as their stacks do on AWS.
  const parameters = new LocalParameterStore();
  // The edges reach the runtime, made below, through these.
  const late: LateBound = {};
  const endpoint = await startLocalEndpoint(
    awsOperations({
      stepFunctions,
      codebuild,
      git,
      parameters,
      buses: { [SOURCE_BUS_NAME]: sourceBus },
      generatedSecrets: localSecrets,
      secretsDir: join(stateDir, 'secrets'),
      accounts,
    }),
    { [GIT_PUSH_ROUTE]: operation(gitPushSchema, (push) => late.receive!(push)) },
    {
      ...platformFunctionRoutes((name) => late.platformFunctions!.handler(name)),
      ...slackResponseRoute(join(stateDir, 'outbox')),
      ...accounts.lambdaApiRoute((name) => late.platformFunctions?.named(name)),
    },
    reservedEndpoint,
    { xmlns: STS_XMLNS, operations: stsOperations(iam) },
  );
  return {
    ...{ store, storeServer, stateDir, now, unlock, timeScale, git, pipelines, recovery, interruptedRuns },
    ...{ stepFunctions, functions, bus, sourceBus, lambdas, alarms, webhookSecret, parameters, endpoint, late },
    ...{ accounts, iam },
  };
}

function localProjects(pipeline: PipelineConfig, git: LocalGitSource) {
  const repositoryPath = git.repositoryPath(localRepositoryName(pipeline));
  return stageSpecs(pipeline).map((stage) => ({
    name: stage.project,
    buildspecPath: stage.buildspec,
    repositoryPath,
    timeoutMinutes: stage.timeoutMinutes,
    cache: projectCacheOf(stage.cache),
  }));
}
