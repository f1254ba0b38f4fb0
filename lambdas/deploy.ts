/**
 * A pipeline's release to Lambda: the state machine's deployment steps (start, release the new
 * version, shift traffic, check after each bake, promote, roll back), the push-driven rollback when one
 * of the deployment's alarms fires, and operators' controls. The protocol is core/deployment.ts's.
 */
import * as z from 'zod';
import { trafficSteps } from '../core/deploy-config';
import { watchedAlarms } from '../core/deploy-alarms';
import {
  alarmFired,
  checkAfterBake,
  control,
  finish,
  preTrafficCheck,
  promote,
  publishNewVersion,
  rollBack,
  shiftTraffic,
  startDeployment,
  type StepDeps,
} from '../core/deployment';
import type { BuildInspector, PipelineCatalog, RunHistory, RunRepository } from '../core/ports';
import { parseInput } from '../core/schemas';
import { RunStore } from '../store/run-store';
import { CloudWatchAlarmReader } from './adapters/alarm-reader';
import { CodeBuildInspector } from './adapters/build-inspector';
import { LambdaDeployer } from './adapters/lambda-deployer';
import { SsmPipelineCatalog } from './adapters/pipeline-catalog';
import { awsPlatform, once, stdoutLog, type HandlerPlatform, type LogLine } from './environment';

export interface DeployDeps extends StepDeps {
  readonly deployments: RunStore;
  readonly runs: RunRepository & RunHistory;
  readonly catalog: PipelineCatalog;
  readonly builds: BuildInspector;
}

export function deployDeps(platform: HandlerPlatform): DeployDeps {
  const store = new RunStore(platform.clients.dynamodb(), platform.tableName);
  return {
    deployments: store,
    runs: store,
    catalog: new SsmPipelineCatalog(platform.clients.ssm(), platform.catalogPath, platform.now),
    builds: new CodeBuildInspector(platform.clients.codebuild(), platform.clients.logs()),
    deployer: new LambdaDeployer(platform.clients.lambda()),
    alarms: new CloudWatchAlarmReader(platform.clients.cloudwatch()),
    now: platform.now,
  };
}

const id = z.string().min(1).max(1024);
const taskError = z.object({ Error: z.string(), Cause: z.string().optional() });
export const deployRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('start'), runId: id }),
  z.object({ kind: z.literal('release'), runId: id, buildId: id }),
  z.object({ kind: z.literal('shift'), runId: id, step: z.number().int().min(0) }),
  z.object({ kind: z.literal('check'), runId: id }),
  z.object({ kind: z.literal('promote'), runId: id }),
  z.object({ kind: z.literal('finish'), runId: id }),
  z.object({ kind: z.literal('rollback'), runId: id, error: taskError.optional() }),
  /** From the pipeline's alarm rule: CloudWatch Alarm State Change, as its input transformer shapes it. */
  z.object({
    kind: z.literal('alarm'),
    pipeline: id,
    alarmName: id,
    state: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
    reason: z.string().optional(),
    timestamp: z.string(),
  }),
  z.object({
    kind: z.literal('control'),
    runId: id,
    action: z.enum(['promote', 'pause', 'resume', 'abort']),
    by: id,
    reason: z.string().min(3, 'say why').max(1000),
  }),
]);

export function createHandler(deps: DeployDeps, log: LogLine = stdoutLog) {
  return async (event: unknown) => {
    const request = parseInput(deployRequestSchema, event, 'deploy request');
    switch (request.kind) {
      case 'start': {
        const run = await deps.runs.getRun(request.runId);
        const deploy = run && (await deps.catalog.lookup(run.pipeline))?.deploy;
        if (!run || !deploy) throw new Error(`run ${request.runId} has no deploy target`);
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
          },
          deps,
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
        const build = await deps.builds.describeBuild(request.buildId);
        if (!build.artifact) throw new Error(`build ${request.buildId} has no artifact to deploy`);
        const deployment = await publishNewVersion(request.runId, build.artifact, deps);
        const run = (await deps.runs.getRun(request.runId))!;
        const preTraffic = (await deps.catalog.lookup(run.pipeline))?.deploy?.preTraffic;
        if (preTraffic) await preTrafficCheck(request.runId, preTraffic.event, deps);
        return { toVersion: deployment.toVersion };
      }
      case 'shift':
        await shiftTraffic(request.runId, request.step, deps);
        return {};
      case 'check':
        return checkAfterBake(request.runId, deps);
      case 'promote':
        await promote(request.runId, deps);
        return {};
      case 'finish': {
        const deployment = await finish(request.runId, deps);
        log({ message: 'deployment finished', runId: request.runId, version: deployment.toVersion });
        return { status: deployment.status };
      }
      case 'rollback': {
        const deployment = await rollBack(
          request.runId,
          request.error ? `${request.error.Error}: ${request.error.Cause ?? ''}` : 'the run failed',
          deps,
        );
        return { status: deployment.status, outcome: deployment.outcome };
      }
      case 'alarm': {
        if (request.state !== 'ALARM') return {};
        const rolledBack: string[] = [];
        // The pipeline runs one deployment at a time (its lane): the active run's is the one to stop.
        const active = await deps.runs.listActiveRuns({ limit: 50 });
        for (const run of active.items.filter((r) => r.pipeline === request.pipeline)) {
          const result = await alarmFired(
            run.runId,
            { name: request.alarmName, state: 'ALARM', reason: request.reason, at: request.timestamp },
            deps,
          );
          if (result?.status === 'ROLLED_BACK' || result?.status === 'ROLLING_BACK') rolledBack.push(run.runId);
        }
        log({ message: 'alarm fired', alarm: request.alarmName, rolledBack });
        return { rolledBack };
      }
      case 'control': {
        const deployment = await control(request.runId, request.action, request.by, request.reason, deps);
        return { status: deployment.status, outcome: deployment.outcome ?? '' };
      }
    }
  };
}

const awsHandler = once(() => createHandler(deployDeps(awsPlatform())));

export const handler = (event: unknown) => awsHandler()(event);
