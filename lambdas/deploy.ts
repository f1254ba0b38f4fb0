/**
 * A pipeline's release to Lambda: the state machine's deployment steps (start, release the new
 * version, shift traffic, check after each bake, promote, roll back), the push-driven rollback when one
 * of the deployment's alarms fires, and operators' controls. The protocol is core/deployment/protocol.ts's.
 */
import { trafficSteps } from '../core/deployment/config';
import { alarmOwner, isPipelineAlarm, watchedAlarms } from '../core/alarms/deployment-alarms';
import {
  abandonedBy,
  alarmFired,
  checkAfterBake,
  control,
  deployToStaging,
  extraAlarmsFired,
  finish,
  preTrafficCheck,
  promote,
  publishNewVersion,
  rollBack,
  rollBackAbandoned,
  shiftTraffic,
  startDeployment,
  type StepDeps,
} from '../core/deployment/protocol';
import {
  BuildArtifactMissingError,
  DeployTargetNotFoundError,
  PipelineTargetUnknownError,
  StagingTargetNotFoundError,
} from '../core/deployment/errors';
import { forwardedFromProduction, type ReleaseTarget } from '../core/deployment/targets';
import { RunNotFoundError } from '../core/errors';
import type { BuildInspector, Clock, DeploymentStore, PipelineCatalog, RunHistory, RunRepository } from '../core/ports';
import type { RunRecord } from '../core/records';
import { deployRequestSchema, parseInput } from '../core/schemas';
import { RunStore } from '../store/run-store';
import { announcingChanges } from '../core/deployment/announced-changes';
import { EventBridgeRunEventPublisher } from './adapters/bus-publishers';
import { CloudWatchAlarmReader } from './adapters/alarm-reader';
import { CodeBuildInspector } from './adapters/build-inspector';
import { LambdaDeployer } from './adapters/lambda-deployer';
import { SsmPipelineCatalog } from './adapters/pipeline-catalog';
import { awsPlatform, once, stdoutLog, type HandlerPlatform, type LogLine } from './environment';
import { runIdOfExecution } from '../core/runs/redrive';

/** What a request needs of its pipeline's target: built from that pipeline's clients. */
export type PipelineSteps = Pick<StepDeps, 'deployer' | 'alarms'>;

export interface DeployDeps {
  /** The deployment records, each change told as DeploymentChanged (core/deployment/announced-changes.ts). */
  readonly deployments: DeploymentStore;
  readonly runs: RunRepository & RunHistory;
  readonly catalog: PipelineCatalog;
  readonly builds: BuildInspector;
  readonly now: Clock;
  /**
   * The deployer and the alarm reader of one pipeline's target (staging or production), with the clients
   * of that target's deploy role, in its account and Region.
   */
  readonly forPipeline: (pipeline: string, target: ReleaseTarget, session?: string) => Promise<PipelineSteps>;
}

/**
 * The deploy handler's deps: a target's clients are its deploy role's (PlatformEdges), found where the
 * pipeline's catalog entry places the target (its account and Region, core/deployment/targets.ts).
 */
function deployDeps(platform: HandlerPlatform): DeployDeps {
  const store = new RunStore(platform.clients.dynamodb(), platform.tableName);
  const roles = platform.edges.deployRoles();
  const catalog = new SsmPipelineCatalog(platform.clients.ssm(), platform.catalogPath, platform.now);
  return {
    deployments: announcingChanges(
      store,
      new EventBridgeRunEventPublisher(platform.clients.eventbridge(), platform.sourceBusName),
    ),
    runs: store,
    catalog,
    builds: new CodeBuildInspector(platform.clients.codebuild(), platform.clients.logs()),
    now: platform.now,
    forPipeline: async (pipeline, target, session) => {
      const deploy = (await catalog.lookup(pipeline))?.deploy;
      if (!deploy) throw new PipelineTargetUnknownError(pipeline);
      const { lambda, cloudwatch, artifacts } = await roles.clientsFor({ pipeline, deploy, target }, session);
      return { deployer: new LambdaDeployer(lambda, { artifacts }), alarms: new CloudWatchAlarmReader(cloudwatch) };
    },
  };
}

export function createHandler(deps: DeployDeps, log: LogLine) {
  /** The run's record and the steps' deps on its pipeline's production target, or its staging target. */
  const forRun = async (runId: string, target: ReleaseTarget = 'production') => {
    const run = await deps.runs.getRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    const steps = {
      deployments: deps.deployments,
      now: deps.now,
      ...(await deps.forPipeline(run.pipeline, target, runId)),
    };
    return { run, steps };
  };
  return async (event: unknown) => {
    const request = parseInput(deployRequestSchema, event, 'deploy request');
    switch (request.kind) {
      case 'start': {
        const { run, steps: stepDeps } = await forRun(request.runId);
        const deploy = (await deps.catalog.lookup(run.pipeline))?.deploy;
        if (!deploy) throw new DeployTargetNotFoundError(request.runId);
        const steps = trafficSteps(deploy.strategy);
        const deployment = await startDeployment(
          {
            runId: run.runId,
            pipeline: run.pipeline,
            function: deploy.function,
            alias: deploy.alias,
            steps,
            alarms: watchedAlarms(run.pipeline, deploy),
            whenAlarmsFire: deploy.whenAlarmsFire,
            maxPauseHours: deploy.maxPauseHours,
          },
          stepDeps,
        );
        log({
          message: 'deployment started',
          runId: run.runId,
          status: deployment.status,
          from: deployment.fromVersion,
        });
        return {
          status: deployment.status,
          outcome: deployment.outcome ?? '',
          steps: steps.map((step, index) => ({ runId: run.runId, index, bakeSeconds: step.bakeSeconds })),
          finalBakeSeconds: deploy.strategy.type === 'allAtOnce' ? deploy.strategy.bakeSeconds : 0,
          preTraffic: deploy.preTraffic !== undefined,
        };
      }
      case 'release': {
        const { run, steps } = await forRun(request.runId);
        const build = await deps.builds.describeBuild(request.buildId);
        if (!build.artifact) throw new BuildArtifactMissingError(request.buildId);
        const deployment = await publishNewVersion(request.runId, build.artifact, steps);
        const preTraffic = (await deps.catalog.lookup(run.pipeline))?.deploy?.preTraffic;
        if (preTraffic) await preTrafficCheck(request.runId, preTraffic.event, steps);
        return { toVersion: deployment.toVersion };
      }
      case 'staging': {
        const { run, steps } = await forRun(request.runId, 'staging');
        const staging = (await deps.catalog.lookup(run.pipeline))?.deploy?.staging;
        if (!staging) throw new StagingTargetNotFoundError(run.pipeline);
        const build = await deps.builds.describeBuild(request.buildId);
        if (!build.artifact) throw new BuildArtifactMissingError(request.buildId);
        const version = await deployToStaging(staging, build.artifact, steps.deployer);
        log({ message: 'staged', runId: run.runId, target: `${staging.function}:${staging.alias}`, version });
        return { version };
      }
      case 'shift':
        await shiftTraffic(request.runId, request.step, (await forRun(request.runId)).steps);
        return {};
      case 'check':
        return checkAfterBake(request.runId, (await forRun(request.runId)).steps);
      case 'promote':
        await promote(request.runId, (await forRun(request.runId)).steps);
        return {};
      case 'finish': {
        const deployment = await finish(request.runId, (await forRun(request.runId)).steps);
        log({ message: 'deployment finished', runId: request.runId, version: deployment.toVersion });
        return { status: deployment.status };
      }
      case 'rollback': {
        const deployment = await rollBack(
          request.runId,
          request.error ? `${request.error.Error}: ${errorMessageOf(request.error.Cause)}` : 'the run failed',
          (await forRun(request.runId)).steps,
        );
        return { status: deployment.status, outcome: deployment.outcome };
      }
      case 'alarm': {
        if (request.state !== 'ALARM') return {};
        // The rule hands over every alarm named with stepline's prefix: the name says whose it is, and the
        // pipeline's catalog entry confirms that the pipeline deploys and has that alarm.
        const owner = alarmOwner(request.alarmName);
        const deploy = owner && (await deps.catalog.lookup(owner.pipeline))?.deploy;
        if (!owner || !deploy || !isPipelineAlarm(request.alarmName, owner.pipeline, deploy)) {
          log({ message: "alarm of no deploying pipeline's: nothing to roll back", alarm: request.alarmName });
          return { rolledBack: [] };
        }
        if (!forwardedFromProduction(deploy, request.forwardedFrom)) {
          log({
            message: "alarm forwarded from another account than the pipeline's production: nothing to roll back",
            alarm: request.alarmName,
            pipeline: owner.pipeline,
            account: request.forwardedFrom,
          });
          return { rolledBack: [] };
        }
        const alarm = {
          name: request.alarmName,
          state: 'ALARM',
          reason: request.reason,
          at: request.timestamp,
        } as const;
        const rolledBack: string[] = [];
        // The pipeline runs one deployment at a time (its lane): the active run's is the one to stop,
        // wherever it falls among every pipeline's active runs — so every page is read.
        for (const run of await activeRunsOf(owner.pipeline, deps.runs)) {
          const steps: StepDeps = {
            deployments: deps.deployments,
            now: deps.now,
            ...(await deps.forPipeline(owner.pipeline, 'production', run.runId)),
          };
          const result =
            owner.suffix === 'extra-alarms'
              ? await extraAlarmsFired(run.runId, deploy.extraAlarms, steps)
              : await alarmFired(run.runId, alarm, steps);
          if (result?.status === 'ROLLED_BACK' || result?.status === 'ROLLING_BACK') rolledBack.push(run.runId);
        }
        log({ message: 'alarm fired', alarm: request.alarmName, pipeline: owner.pipeline, rolledBack });
        return { rolledBack };
      }
      case 'executionEnded': {
        // Every pipeline execution's end: one that left its release under way leaves it to us. A repeated
        // delivery finds the deployment ended and does nothing (EventBridge delivers at least once).
        // The event names the execution: a redrive's (`<run>-redrive-<n>`) belongs to its run.
        const runId = runIdOfExecution(request.runId);
        const deployment = await deps.deployments.getDeployment(runId);
        const reason = abandonedBy(request.status, deployment);
        if (!deployment || !reason) {
          log({
            message: 'execution ended; no release to end',
            runId,
            execution: request.status,
            deployment: deployment?.status ?? 'none',
          });
          return {};
        }
        const steps = {
          deployments: deps.deployments,
          now: deps.now,
          ...(await deps.forPipeline(deployment.pipeline, 'production', runId)),
        };
        const ended = await rollBackAbandoned(runId, reason, steps);
        log({
          message: 'abandoned release ended',
          runId,
          execution: request.status,
          status: ended?.status,
        });
        return { status: ended?.status, outcome: ended?.outcome ?? '' };
      }
      case 'control': {
        const deployment = await control(
          request.runId,
          request.action,
          request.by,
          request.reason,
          (await forRun(request.runId)).steps,
        );
        return { status: deployment.status, outcome: deployment.outcome ?? '' };
      }
    }
  };
}

/**
 * A Task error's cause as a person reads it: a function's error reaches Step Functions as Lambda's JSON
 * (`errorType`, `errorMessage`, `trace`), of which the message says why.
 */
function errorMessageOf(cause: string | undefined): string {
  try {
    const parsed = JSON.parse(cause ?? '') as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not Lambda's JSON: the cause as it is.
  }
  return cause ?? '';
}

/** A pipeline's QUEUED and RUNNING runs, read through every page of the active index. */
async function activeRunsOf(pipeline: string, runs: RunHistory): Promise<RunRecord[]> {
  const found: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await runs.listActiveRuns({ limit: 50, cursor });
    found.push(...page.items.filter((run) => run.pipeline === pipeline));
    cursor = page.cursor;
  } while (cursor);
  return found;
}

export function handlerOn(platform: HandlerPlatform, log: LogLine) {
  return createHandler(deployDeps(platform), log);
}

const awsHandler = once(() => handlerOn(awsPlatform(), stdoutLog));

export const handler = (event: unknown) => awsHandler()(event);
