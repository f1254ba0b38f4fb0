/**
 * Releasing a new version of a Lambda function through its alias, step by step, and undoing it.
 *
 * The one rule that matters: **no interleaving leaves weight on a version that is being rolled back.**
 * Traffic is moved by two writers that never lock each other:
 * - a step (`shiftTraffic`, `promote`): reads the deployment IN_PROGRESS, updates the alias, then reads
 *   the deployment again — if it is no longer IN_PROGRESS, a rollback began meanwhile, and the step puts
 *   the alias back on the old version itself;
 * - a rollback (`rollBack`): moves the deployment to ROLLING_BACK with a conditional write, then puts
 *   the alias on the old version.
 * If the step's alias update comes after the rollback's, the step's second read comes after the
 * rollback's write and sees it; if it comes before, the rollback's update overwrites it. Either way the
 * alias ends on the old version with no extra weight.
 */
import type { TrafficStep } from './deploy-config';
import { SteplineError } from './errors';
import type { Clock } from './ports';

export type DeploymentStatus = 'IN_PROGRESS' | 'PAUSED' | 'ROLLING_BACK' | 'ROLLED_BACK' | 'SUCCEEDED' | 'REFUSED';

/** An alarm as the deployment saw it, and when. */
export interface AlarmSeen {
  readonly name: string;
  readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  readonly reason?: string;
  readonly at: string;
}

/** Someone stepped in: promote, pause, resume or abort, with who and why. */
export interface Intervention {
  readonly action: 'promote' | 'pause' | 'resume' | 'abort';
  readonly by: string;
  readonly reason: string;
  readonly at: string;
}

export interface DeploymentRecord {
  readonly runId: string;
  readonly pipeline: string;
  readonly function: string;
  readonly alias: string;
  /** The version the alias pointed to before: what a rollback restores. */
  readonly fromVersion: string;
  readonly toVersion?: string;
  readonly steps: readonly TrafficStep[];
  /** The step whose weight is on the alias (-1 before any traffic moved). */
  readonly step: number;
  readonly status: DeploymentStatus;
  readonly alarms: readonly string[];
  /** Alarms already in ALARM at the start, when the policy let the deployment through as a hotfix. */
  readonly hotfix?: { readonly firing: readonly string[] };
  readonly alarmsSeen: readonly AlarmSeen[];
  readonly interventions: readonly Intervention[];
  readonly startedAt: string;
  readonly endedAt?: string;
  /** Why it ended as it did: promoted, the alarm that rolled it back and its reason, the refusal. */
  readonly outcome?: string;
}

/** The alias and its function as the deployment moves them (Lambda on AWS, local mode's runtime locally). */
export interface FunctionDeployer {
  aliasVersions(fn: string, alias: string): Promise<{ primary: string; weights: Readonly<Record<string, number>> }>;
  /** Points the alias at `primary`, with `weights` on other versions (empty: all traffic on primary). */
  routeAlias(fn: string, alias: string, primary: string, weights: Readonly<Record<string, number>>): Promise<void>;
}

/** Deployments in the run store, one per run; every status change a conditional write. */
export interface DeploymentStore {
  getDeployment(runId: string): Promise<DeploymentRecord | undefined>;
  /** Moves the deployment from one of `from` to `to`; undefined when it was in none of them. */
  moveDeployment(
    runId: string,
    from: readonly DeploymentStatus[],
    to: DeploymentStatus,
    fields?: Partial<DeploymentRecord>,
  ): Promise<DeploymentRecord | undefined>;
  /** Records that a step's weight is on the alias (only while IN_PROGRESS or PAUSED). */
  recordStep(runId: string, step: number): Promise<void>;
}

export interface DeploymentDeps {
  readonly deployments: DeploymentStore;
  readonly deployer: FunctionDeployer;
  readonly now: Clock;
}

/** The deployment stopped moving traffic: rolled back, refused, or already done. */
export class DeploymentHaltedError extends SteplineError {
  constructor(
    readonly deployment: DeploymentRecord,
    options?: ErrorOptions,
  ) {
    super(
      `deployment of ${deployment.function}:${deployment.alias} is ${deployment.status}${deployment.outcome ? `: ${deployment.outcome}` : ''}`,
      options,
    );
  }
}

const MOVING: readonly DeploymentStatus[] = ['IN_PROGRESS', 'PAUSED'];

/** Puts step `step`'s weight on the new version; throws DeploymentHaltedError once a rollback began. */
export async function shiftTraffic(runId: string, step: number, deps: DeploymentDeps): Promise<DeploymentRecord> {
  const deployment = await moving(runId, deps);
  const target = deployment.steps[step];
  if (!target || !deployment.toVersion) throw new Error(`deployment ${runId} has no step ${step} or no new version`);
  await deps.deployer.routeAlias(deployment.function, deployment.alias, deployment.fromVersion, {
    [deployment.toVersion]: target.weight,
  });
  await afterAliasMove(runId, deps);
  await deps.deployments.recordStep(runId, step);
  return (await deps.deployments.getDeployment(runId))!;
}

/** The final step: the new version takes all traffic and the alias's routing is cleared. */
export async function promote(runId: string, deps: DeploymentDeps): Promise<DeploymentRecord> {
  const deployment = await moving(runId, deps);
  await deps.deployer.routeAlias(deployment.function, deployment.alias, deployment.toVersion!, {});
  await afterAliasMove(runId, deps);
  const done = await deps.deployments.moveDeployment(runId, MOVING, 'SUCCEEDED', {
    endedAt: deps.now().toISOString(),
    outcome: `version ${deployment.toVersion} takes all traffic of ${deployment.function}:${deployment.alias}`,
  });
  // A rollback that began between the re-read and this write has put the old version back itself.
  if (!done) throw new DeploymentHaltedError((await deps.deployments.getDeployment(runId))!);
  return done;
}

/**
 * Rolls back: the old version takes all traffic again, no extra weight. Done once, however many
 * alarms, operators and failed steps ask for it at once; a later ask finds it done.
 */
export async function rollBack(runId: string, reason: string, deps: DeploymentDeps): Promise<DeploymentRecord> {
  const started = await deps.deployments.moveDeployment(runId, MOVING, 'ROLLING_BACK', { outcome: reason });
  if (!started) {
    const current = (await deps.deployments.getDeployment(runId))!;
    // Someone else is rolling it back (or did): their rollback restores the alias.
    return current;
  }
  await deps.deployer.routeAlias(started.function, started.alias, started.fromVersion, {});
  return (await deps.deployments.moveDeployment(runId, ['ROLLING_BACK'], 'ROLLED_BACK', {
    endedAt: deps.now().toISOString(),
  }))!;
}

async function moving(runId: string, deps: DeploymentDeps): Promise<DeploymentRecord> {
  const deployment = await deps.deployments.getDeployment(runId);
  if (!deployment) throw new Error(`run ${runId} has no deployment`);
  if (!MOVING.includes(deployment.status)) throw new DeploymentHaltedError(deployment);
  return deployment;
}

/**
 * The second read of a step: a rollback that began while the alias moved finds its own update
 * overwritten by ours, so we restore the old version ourselves and stop.
 */
async function afterAliasMove(runId: string, deps: DeploymentDeps): Promise<void> {
  const after = (await deps.deployments.getDeployment(runId))!;
  if (MOVING.includes(after.status)) return;
  if (after.status === 'ROLLING_BACK' || after.status === 'ROLLED_BACK')
    await deps.deployer.routeAlias(after.function, after.alias, after.fromVersion, {});
  throw new DeploymentHaltedError(after);
}
