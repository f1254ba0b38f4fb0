/**
 * A release a stop or a kill of local mode interrupted: the run's deployment record is ended as the
 * deployment protocol ends an abandoned one (core/deployment/protocol.ts, rollBackAbandoned), so that it
 * agrees with the traffic. Local Lambda lives in memory: at a restart each target is stood up again on
 * its placeholder version 1 (local/deploy-targets.ts), so whichever step the release had reached, all
 * traffic is on one version, and the record says which.
 */
import { STSClient } from '@aws-sdk/client-sts';
import type { PipelineConfig } from '../core/config/stepline-config';
import type { Clock } from '../core/ports';
import { rollBackAbandoned, UNDER_WAY } from '../core/deployment/protocol';
import type { DeploymentRecord } from '../core/records';
import { StsDeployRoles } from '../lambdas/adapters/deploy-roles';
import { LambdaDeployer } from '../lambdas/adapters/lambda-deployer';
import type { RunStore } from '../store/run-store';
import { LOCAL_DEPLOY_FUNCTION_CREDENTIALS, LOCAL_REGION } from './constants';

/** Why the release of a run local mode's stop interrupted was rolled back. */
export const RELEASE_INTERRUPTED = 'local mode stopped during the release';

/**
 * Ends the deployment of each interrupted run that is still under way (IN_PROGRESS, PAUSED,
 * ROLLING_BACK) as ROLLED_BACK, through local mode's endpoint as the deploy function reaches Lambda: with
 * the production target's deploy role, assumed by the deploy function's key, in the target's account;
 * resolves with the deployments it ended.
 */
export async function endInterruptedDeployments(
  runIds: readonly string[],
  deps: {
    readonly store: RunStore;
    readonly now: Clock;
    readonly endpointUrl: string;
    readonly pipelines: readonly PipelineConfig[];
  },
): Promise<DeploymentRecord[]> {
  const sts = new STSClient({
    endpoint: deps.endpointUrl,
    region: LOCAL_REGION,
    credentials: LOCAL_DEPLOY_FUNCTION_CREDENTIALS,
  });
  const roles = new StsDeployRoles(sts, deps.now, deps.endpointUrl);
  const ended: DeploymentRecord[] = [];
  try {
    for (const runId of runIds) {
      const before = await deps.store.getDeployment(runId);
      if (!before || !UNDER_WAY.includes(before.status)) continue;
      // A target local mode no longer stands up (its pipeline left the config, or its function is gone) has no
      // traffic to speak of: its record is left as it is rather than local mode refusing to start.
      const deploy = deps.pipelines.find(({ name }) => name === before.pipeline)?.deploy;
      if (!deploy) continue;
      const { lambda } = await roles.clientsFor({ pipeline: before.pipeline, deploy, target: 'production' }, runId);
      const protocol = { deployments: deps.store, deployer: new LambdaDeployer(lambda), now: deps.now };
      if (!(await serves(protocol.deployer, before))) continue;
      const after = await rollBackAbandoned(runId, RELEASE_INTERRUPTED, protocol);
      if (after) ended.push(after);
    }
  } finally {
    sts.destroy();
  }
  return ended;
}

/** Whether local Lambda serves the deployment's alias now. */
async function serves(deployer: LambdaDeployer, deployment: DeploymentRecord): Promise<boolean> {
  try {
    await deployer.aliasVersions(deployment.function, deployment.alias);
    return true;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return false;
    throw error;
  }
}
