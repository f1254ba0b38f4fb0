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
import { DEFAULT_MAX_PAUSE_HOURS, MAX_HOLD_SECONDS, MIN_HOLD_SECONDS, type TrafficStep } from './config';
import {
  ControlRefusedError,
  DeploymentHaltedError,
  DeploymentNotFoundError,
  DeploymentStepNotFoundError,
  StagingFailedError,
} from './errors';
import type { Clock, DeploymentStore } from '../ports';
import type { AlarmSeen, DeploymentRecord, DeploymentStatus, ExecutionEndStatus, Intervention } from '../records';

/** The alias and its function as the deployment moves them (Lambda on AWS, local mode's runtime locally). */
export interface FunctionDeployer {
  /**
   * Makes the build's artifact the function's code ($LATEST), and resolves once Lambda has applied it
   * (`LastUpdateStatus` Successful): until then Lambda refuses to publish. Rejects with
   * FunctionUpdateFailedError when Lambda ends the update Failed, FunctionUpdateTimedOutError when it
   * does not end in time.
   */
  updateCode(fn: string, artifact: string): Promise<void>;
  /** Publishes $LATEST as a version; resolves with its number. */
  publishVersion(fn: string): Promise<string>;
  /** Invokes a version with an event; resolves with its function error, if any. */
  invoke(fn: string, qualifier: string, event: unknown): Promise<{ error?: string }>;
  aliasVersions(fn: string, alias: string): Promise<{ primary: string; weights: Readonly<Record<string, number>> }>;
  /** Points the alias at `primary`, with `weights` on other versions (empty: all traffic on primary). */
  routeAlias(fn: string, alias: string, primary: string, weights: Readonly<Record<string, number>>): Promise<void>;
}

export interface DeploymentDeps {
  readonly deployments: DeploymentStore;
  readonly deployer: FunctionDeployer;
  readonly now: Clock;
}

const MOVING: readonly DeploymentStatus[] = ['IN_PROGRESS', 'PAUSED'];

/** Puts step `step`'s weight on the new version; throws DeploymentHaltedError once a rollback began. */
export async function shiftTraffic(runId: string, step: number, deps: DeploymentDeps): Promise<DeploymentRecord> {
  const deployment = await moving(runId, deps);
  // Promoted already (an operator's "promote now"): the remaining steps move nothing.
  if (deployment.step >= deployment.steps.length) return deployment;
  const target = deployment.steps[step];
  if (!target || !deployment.toVersion) throw new DeploymentStepNotFoundError(runId, step);
  await deps.deployer.routeAlias(deployment.function, deployment.alias, deployment.fromVersion, {
    [deployment.toVersion]: target.weight,
  });
  await afterAliasMove(runId, deps);
  await deps.deployments.recordStep(runId, step, { step, weight: target.weight, at: deps.now().toISOString() });
  return (await deps.deployments.getDeployment(runId))!;
}

/**
 * The final step: the new version takes all traffic and the alias's routing is cleared. The deployment
 * stays IN_PROGRESS until `finish` — so blue/green (all at once) can bake on the switched alias and an
 * alarm still rolls it back in one step.
 */
export async function promote(runId: string, deps: DeploymentDeps): Promise<DeploymentRecord> {
  const deployment = await moving(runId, deps);
  await deps.deployer.routeAlias(deployment.function, deployment.alias, deployment.toVersion!, {});
  await afterAliasMove(runId, deps);
  const last = deployment.steps.length;
  await deps.deployments.recordStep(runId, last, { step: last, weight: 1, at: deps.now().toISOString() });
  return (await deps.deployments.getDeployment(runId))!;
}

/** After the last bake and its check: the deployment is done, the new version serves alone. */
export async function finish(runId: string, deps: StepDeps): Promise<DeploymentRecord> {
  await checkAfterBake(runId, deps);
  const deployment = await moving(runId, deps);
  const done = await deps.deployments.moveDeployment(runId, MOVING, 'SUCCEEDED', {
    endedAt: deps.now().toISOString(),
    outcome: `version ${deployment.toVersion} takes all traffic of ${deployment.function}:${deployment.alias}`,
  });
  // A rollback that began between the read and this write has put the old version back itself.
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
  const ended = await deps.deployments.moveDeployment(runId, ['ROLLING_BACK'], 'ROLLED_BACK', {
    endedAt: deps.now().toISOString(),
  });
  // Ended meanwhile by the end of its execution (rollBackAbandoned), which moved the alias back too.
  return ended ?? (await deps.deployments.getDeployment(runId))!;
}

/**
 * A deployment whose execution ended without ending it (local mode stopped or was killed mid-release; on
 * AWS an execution stopped, timed out or failed outside the deployment steps' Catch, `abandonedBy`):
 * rolled back as `rollBack` does — ROLLING_BACK first with a conditional write, so a step still in flight
 * puts the old version back itself, then the alias off the new version — and ended ROLLED_BACK with an
 * outcome saying why and which version takes all traffic now. A rollback the execution had begun is
 * finished, its reason kept (and this one added once). The alias is moved only while it serves the new
 * version: one stood up again since (local mode's restart) serves neither, and no longer knows the old
 * version. An ended deployment is returned as it is.
 */
export async function rollBackAbandoned(
  runId: string,
  reason: string,
  deps: DeploymentDeps,
): Promise<DeploymentRecord | undefined> {
  const deployment = await deps.deployments.getDeployment(runId);
  if (!deployment) return undefined;
  // A rollback begun for another reason keeps it; one begun for this reason (a repeated delivery of the same
  // end, whose first attempt died mid-rollback) says it once.
  const begun = deployment.status === 'ROLLING_BACK' ? deployment.outcome : undefined;
  const why = begun ? (begun === reason || begun.endsWith(`; ${reason}`) ? begun : `${begun}; ${reason}`) : reason;
  const started = await deps.deployments.moveDeployment(runId, [...MOVING, 'ROLLING_BACK'], 'ROLLING_BACK', {
    outcome: why,
  });
  if (!started) return deps.deployments.getDeployment(runId);
  const { function: fn, alias, fromVersion, toVersion } = started;
  const { primary, weights } = await deps.deployer.aliasVersions(fn, alias);
  const servesNew = toVersion !== undefined && (primary === toVersion || toVersion in weights);
  if (servesNew) await deps.deployer.routeAlias(fn, alias, fromVersion, {});
  const split = Object.entries(weights).filter(() => !servesNew);
  const traffic = split.length
    ? `traffic of ${fn}:${alias} is on version ${primary}, and ${split.map(([v, w]) => `${Math.round(w * 100)}% on version ${v}`).join(', ')}`
    : `all traffic of ${fn}:${alias} is on version ${servesNew ? fromVersion : primary}`;
  const ended = await deps.deployments.moveDeployment(runId, ['ROLLING_BACK'], 'ROLLED_BACK', {
    endedAt: deps.now().toISOString(),
    outcome: `${why}; ${traffic}`,
  });
  return ended ?? deps.deployments.getDeployment(runId);
}

/** A deployment not yet ended: moving traffic, paused, or rolling back. */
export const UNDER_WAY: readonly DeploymentStatus[] = [...MOVING, 'ROLLING_BACK'];

/** Why a release is rolled back when its execution ended this way before the release did. */
const ABANDONED_BY: Readonly<Record<Exclude<ExecutionEndStatus, 'SUCCEEDED'>, string>> = {
  ABORTED: 'the execution was aborted during the release (stopped in the console or by StopExecution)',
  TIMED_OUT: 'the execution timed out during the release',
  FAILED: 'the execution failed during the release without rolling it back',
};

/**
 * Whether a run's execution, ending in `status`, abandoned the run's deployment, and why: it did when it
 * ended in any way but SUCCEEDED while the deployment was under way — stopped in the console, timed out,
 * or failed outside the deployment steps' own Catch (which rolls back, and leaves the deployment ended).
 * `undefined` when there is nothing to end. The reason is what `rollBackAbandoned` records.
 */
export function abandonedBy(status: ExecutionEndStatus, deployment: DeploymentRecord | undefined): string | undefined {
  if (status === 'SUCCEEDED' || !deployment || !UNDER_WAY.includes(deployment.status)) return undefined;
  return ABANDONED_BY[status];
}

async function moving(runId: string, deps: DeploymentDeps): Promise<DeploymentRecord> {
  const deployment = await deps.deployments.getDeployment(runId);
  if (!deployment) throw new DeploymentNotFoundError(runId);
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

/** The deployment's alarms as CloudWatch reports them (DescribeAlarms on AWS, local mode's evaluator locally). */
export interface AlarmReader {
  states(names: readonly string[]): Promise<AlarmSeen[]>;
}

export interface StartDeploymentRequest {
  readonly runId: string;
  readonly pipeline: string;
  readonly function: string;
  readonly alias: string;
  readonly steps: readonly TrafficStep[];
  readonly alarms: readonly string[];
  readonly whenAlarmsFire: 'refuse' | 'hotfix';
  /** deploy.maxPauseHours: how long a pause may hold the deployment. */
  readonly maxPauseHours: number;
}

export interface StartDeps extends DeploymentDeps {
  readonly alarms: AlarmReader;
}

/**
 * Opens a deployment: the version the alias serves now (what a rollback restores), and the alarms'
 * states before anything moves. An alarm already in ALARM refuses the deployment, or lets it through as
 * a recorded hotfix — never a blind deploy, never a silent block.
 */
export async function startDeployment(request: StartDeploymentRequest, deps: StartDeps): Promise<DeploymentRecord> {
  const existing = await deps.deployments.getDeployment(request.runId);
  if (existing) return existing;
  const { primary, weights } = await deps.deployer.aliasVersions(request.function, request.alias);
  const seen = await deps.alarms.states(request.alarms);
  const firing = seen.filter((alarm) => alarm.state === 'ALARM');
  const now = deps.now().toISOString();
  const base = {
    runId: request.runId,
    pipeline: request.pipeline,
    function: request.function,
    alias: request.alias,
    fromVersion: primary,
    steps: request.steps,
    step: -1,
    alarms: request.alarms,
    alarmsSeen: seen,
    interventions: [],
    maxPauseHours: request.maxPauseHours,
    startedAt: now,
  };
  const leftover = Object.keys(weights);
  if (leftover.length) {
    return deps.deployments.createDeployment({
      ...base,
      status: 'REFUSED',
      endedAt: now,
      outcome: `${request.function}:${request.alias} still routes traffic to version ${leftover.join(', ')}: another deployment has not finished`,
    });
  }
  if (firing.length && request.whenAlarmsFire === 'refuse') {
    return deps.deployments.createDeployment({
      ...base,
      status: 'REFUSED',
      endedAt: now,
      outcome: `refused: alarm ${firing.map((a) => `${a.name} is in ALARM (${a.reason ?? 'no reason given'})`).join('; ')}; the pipeline's policy (whenAlarmsFire: refuse) does not deploy into a firing alarm`,
    });
  }
  return deps.deployments.createDeployment({
    ...base,
    status: 'IN_PROGRESS',
    ...(firing.length ? { hotfix: { firing: firing.map((a) => a.name) } } : {}),
  });
}

/**
 * An operator's control, recorded with who, when and why: pause (traffic stays where it is; an alarm
 * still rolls back), resume, abort (roll back now), promote (the new version takes all traffic now).
 */
export async function control(
  runId: string,
  action: Intervention['action'],
  by: string,
  reason: string,
  deps: DeploymentDeps,
): Promise<DeploymentRecord> {
  const deployment = await deps.deployments.getDeployment(runId);
  if (!deployment) throw new DeploymentNotFoundError(runId);
  const refused = async (): Promise<never> => {
    throw new ControlRefusedError(action, (await deps.deployments.getDeployment(runId))!);
  };
  let result: DeploymentRecord | undefined;
  switch (action) {
    case 'pause':
      result =
        (await deps.deployments.moveDeployment(runId, ['IN_PROGRESS'], 'PAUSED', {
          pausedAt: deps.now().toISOString(),
        })) ?? (await refused());
      break;
    case 'resume':
      result = (await deps.deployments.moveDeployment(runId, ['PAUSED'], 'IN_PROGRESS')) ?? (await refused());
      break;
    case 'abort':
      // A rollback left half done (its writer died between its two writes, and no execution's end came to
      // finish it) is finished: the operator's way out of a split alias.
      if (deployment.status === 'ROLLING_BACK') {
        result = (await rollBackAbandoned(runId, `aborted by ${by}: ${reason}`, deps)) ?? (await refused());
        break;
      }
      if (!MOVING.includes(deployment.status)) await refused();
      result = await rollBack(runId, `aborted by ${by}: ${reason}`, deps);
      break;
    case 'promote':
      if (!MOVING.includes(deployment.status) || !deployment.toVersion) await refused();
      result = await promote(runId, deps);
      break;
  }
  await deps.deployments.recordIntervention(runId, { action, by, reason, at: deps.now().toISOString() });
  return (await deps.deployments.getDeployment(runId)) ?? result!;
}

export interface StepDeps extends DeploymentDeps {
  readonly alarms: AlarmReader;
}

/** Makes the build's artifact the function's code and publishes it: the version the steps move traffic to. */
export async function publishNewVersion(
  runId: string,
  artifact: string,
  deps: DeploymentDeps,
): Promise<DeploymentRecord> {
  const deployment = await moving(runId, deps);
  if (deployment.toVersion) return deployment;
  await deps.deployer.updateCode(deployment.function, artifact);
  const version = await deps.deployer.publishVersion(deployment.function);
  if (version === deployment.fromVersion)
    throw new DeploymentHaltedError({
      ...deployment,
      outcome: `the build's code is already version ${version}, the one the alias serves`,
    });
  return (await deps.deployments.moveDeployment(runId, MOVING, deployment.status, { toVersion: version }))!;
}

/** The pre-traffic check: the new version, invoked with the test event, must succeed. */
export async function preTrafficCheck(runId: string, event: unknown, deps: DeploymentDeps): Promise<void> {
  const deployment = await moving(runId, deps);
  const { error } = await deps.deployer.invoke(deployment.function, deployment.toVersion!, event);
  if (error) {
    await rollBack(runId, `the pre-traffic check of version ${deployment.toVersion} failed: ${error}`, deps);
    throw new DeploymentHaltedError((await deps.deployments.getDeployment(runId))!);
  }
}

/** What a check tells the state machine: whether to hold the step, and for how long before checking again. */
export interface CheckResult {
  readonly paused: boolean;
  /** The hold's Wait (SecondsPath): grows with the pause, so a long pause costs few history events. */
  readonly holdSeconds: number;
}

/**
 * After a bake, and at every check while paused: an alarm in ALARM rolls back (its name and reason the
 * outcome) — but for a hotfix, the alarms that fired before it began roll back only when they got
 * worse. A pause that has held longer than the deployment's maximum rolls back too, through the same
 * rollBack as an alarm or an abort. Resolves with whether the deployment is paused (the state machine
 * then holds the step) and how long to hold: as long as the pause has lasted, from 10 s to 5 min — so
 * the hold doubles loop by loop, and a pause costs at most the events counted at MAX_PAUSE_HOURS.
 */
export async function checkAfterBake(runId: string, deps: StepDeps): Promise<CheckResult> {
  const deployment = await moving(runId, deps);
  const seen = await deps.alarms.states(deployment.alarms);
  const firing = seen.filter((alarm) => alarm.state === 'ALARM' && !hotfixHolds(deployment, alarm));
  if (firing.length) {
    const alarm = firing[0]!;
    await rollBack(runId, `alarm ${alarm.name} is in ALARM: ${alarm.reason ?? 'no reason given'}`, deps);
    throw new DeploymentHaltedError((await deps.deployments.getDeployment(runId))!);
  }
  if (deployment.status !== 'PAUSED') return { paused: false, holdSeconds: MIN_HOLD_SECONDS };
  // A deployment paused before pausedAt was recorded: its last pause intervention, else its start.
  const pausedSince =
    deployment.pausedAt ??
    deployment.interventions.findLast((intervention) => intervention.action === 'pause')?.at ??
    deployment.startedAt;
  const pausedSeconds = Math.max(0, (deps.now().getTime() - Date.parse(pausedSince)) / 1000);
  const maxPauseHours = deployment.maxPauseHours ?? DEFAULT_MAX_PAUSE_HOURS;
  if (pausedSeconds >= maxPauseHours * 3600) {
    await rollBack(
      runId,
      `paused since ${pausedSince}, longer than the pipeline's maximum pause of ${maxPauseHours} h (deploy.maxPauseHours): rolled back so traffic is not left split`,
      deps,
    );
    throw new DeploymentHaltedError((await deps.deployments.getDeployment(runId))!);
  }
  return {
    paused: true,
    holdSeconds: Math.min(MAX_HOLD_SECONDS, Math.max(MIN_HOLD_SECONDS, Math.floor(pausedSeconds))),
  };
}

/** A hotfix's own alarm still firing is allowed while it is no worse than when the hotfix began. */
function hotfixHolds(deployment: DeploymentRecord, alarm: AlarmSeen): boolean {
  if (!deployment.hotfix?.firing.includes(alarm.name)) return false;
  const before = deployment.alarmsSeen.find((a) => a.name === alarm.name)?.value;
  return before !== undefined && alarm.value !== undefined && alarm.value <= before;
}

/**
 * The push-driven path: one of the deployment's alarms went into ALARM (EventBridge's CloudWatch Alarm
 * State Change) — the deployment rolls back now, whatever step, bake or pause it is in. A hotfix's own
 * alarm that keeps firing is judged after the bake instead.
 */
export async function alarmFired(
  runId: string,
  alarm: AlarmSeen,
  deps: DeploymentDeps,
): Promise<DeploymentRecord | undefined> {
  const deployment = await deps.deployments.getDeployment(runId);
  if (!deployment || !MOVING.includes(deployment.status) || !deployment.alarms.includes(alarm.name)) return deployment;
  if (deployment.hotfix?.firing.includes(alarm.name)) return deployment;
  return rollBack(runId, `alarm ${alarm.name} is in ALARM: ${alarm.reason ?? 'no reason given'}`, deps);
}

/**
 * The push-driven path for the composite alarm that stands for the pipeline's extra alarms
 * (core/alarms/deployment-alarms.ts extraAlarmsComposite): the deployment watches the user's alarms
 * themselves, so their states are read now and each one in ALARM is handled as if its own event had come
 * (`alarmFired`): the outcome names the user's alarm, and a hotfix's own alarm keeps its allowance. A
 * child already back to OK rolls nothing back; the check after the bake still reads every alarm.
 */
export async function extraAlarmsFired(
  runId: string,
  extraAlarms: readonly string[],
  deps: StepDeps,
): Promise<DeploymentRecord | undefined> {
  const deployment = await deps.deployments.getDeployment(runId);
  if (!deployment || !MOVING.includes(deployment.status)) return deployment;
  let latest: DeploymentRecord | undefined = deployment;
  for (const alarm of (await deps.alarms.states(extraAlarms)).filter((seen) => seen.state === 'ALARM')) {
    latest = await alarmFired(runId, alarm, deps);
  }
  return latest;
}

/**
 * Staging (before the gate): the build's artifact becomes a new version of the staging function, its
 * alias moves to it all at once, and the smoke event must succeed through the alias.
 */
export async function deployToStaging(
  staging: { function: string; alias: string; smokeEvent: unknown },
  artifact: string,
  deployer: FunctionDeployer,
): Promise<string> {
  await deployer.updateCode(staging.function, artifact);
  const version = await deployer.publishVersion(staging.function);
  await deployer.routeAlias(staging.function, staging.alias, version, {});
  const { error } = await deployer.invoke(staging.function, staging.alias, staging.smokeEvent);
  if (error)
    throw new StagingFailedError(
      `the smoke check of ${staging.function}:${staging.alias} (version ${version}) failed: ${error}`,
    );
  return version;
}
