/**
 * Local mode's deploy targets: each pipeline's target functions stood up as the CDK app stands them up
 * on AWS, and traffic through their aliases, as their callers would send it (what a bake judges).
 */
import { writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { deploymentAlarms, extraAlarmsComposite } from '../core/alarms/deployment-alarms';
import type { PipelineConfig } from '../core/config/stepline-config';
import {
  ALARM_FORWARDING_RULE_NAME,
  alarmForwardingPattern,
  deployRoleArn,
  deployRoleTrustPolicy,
  isPlatformEnvironment,
  targetEnvironment,
  type ReleaseTarget,
} from '../core/deployment/targets';
import type { LocalAccounts } from './accounts';
import { LOCAL_ENVIRONMENT } from './constants';
import { forwardTo, type LocalEventBus } from './event-bus';
import type { LocalFunctions } from './functions/local-lambda';
import type { LocalIam } from './iam';

/**
 * A deploy target as the CDK app stands it up on AWS: the function, a first version that answers it
 * is not deployed yet, and the alias on that version; a deployment moves the alias from there.
 */
export async function standUpTarget(
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
 * Every pipeline's deploy targets, each in the account the config places it in (local/accounts.ts), as the
 * CDK app stands them up there (the pipeline's stack in the platform's account, a target stack elsewhere):
 * the function and its alias (standUpTarget), the deploy role of each (pipeline, account) trusting the
 * platform's deploy function role alone (core's deployRoleTrustPolicy, which local IAM evaluates on each
 * AssumeRole), the deployment's alarms beside the production function, and in each account but the
 * platform's the target stack's rule forwarding the alarms' state changes to the platform's bus (core's
 * alarmForwardingPattern, local/event-bus.ts forwardTo), where the deploy function's ForwardedAlarmRule takes
 * them.
 */
export async function standUpTargets(
  pipelines: readonly PipelineConfig[],
  deps: {
    readonly accounts: LocalAccounts;
    readonly iam: LocalIam;
    /** The platform's bus `stepline`. */
    readonly platformBus: LocalEventBus;
    readonly placeholderDir: string;
  },
): Promise<void> {
  for (const { environment, bus } of deps.accounts.all()) {
    if (isPlatformEnvironment(environment, LOCAL_ENVIRONMENT)) continue;
    bus.addRule(forwardTo(ALARM_FORWARDING_RULE_NAME, alarmForwardingPattern(), deps.platformBus));
  }
  for (const pipeline of pipelines) {
    const { deploy } = pipeline;
    if (!deploy) continue;
    const roles = new Set<string>();
    const targets: [ReleaseTarget, { function: string; alias: string } | undefined][] = [
      ['production', deploy],
      ['staging', deploy.staging],
    ];
    for (const [target, place] of targets) {
      if (!place) continue;
      const environment = targetEnvironment(deploy, target, LOCAL_ENVIRONMENT);
      const account = deps.accounts.get(environment);
      await standUpTarget(account.lambdas, place.function, place.alias, deps.placeholderDir);
      const role = deployRoleArn('aws', pipeline.name, environment);
      if (!roles.has(role)) deps.iam.createRole(role, deployRoleTrustPolicy('aws', LOCAL_ENVIRONMENT));
      roles.add(role);
      if (target !== 'production') continue;
      account.alarms.define(deploymentAlarms(pipeline.name, deploy));
      // The user's extra alarms do not exist locally: the composite over them stays OK.
      const composite = extraAlarmsComposite(pipeline.name, deploy);
      if (composite) account.alarms.defineComposite(composite);
    }
  }
}

/**
 * Traffic through each deploy target's alias, as its callers would send it (the pre-traffic event is
 * the request): what a bake judges the new version by. Returns what stops it.
 */
export function sendTraffic(
  accounts: LocalAccounts,
  pipelines: readonly PipelineConfig[],
  perSecond: number,
): () => void {
  const targets = pipelines.flatMap(({ deploy }) =>
    deploy
      ? [{ deploy, lambdas: accounts.get(targetEnvironment(deploy, 'production', LOCAL_ENVIRONMENT)).lambdas }]
      : [],
  );
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped) return;
    for (const { deploy, lambdas } of targets)
      void lambdas.invoke(deploy.function, deploy.alias, deploy.preTraffic?.event ?? {}).catch(() => undefined);
  }, 1000 / perSecond);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
