/**
 * Where a pipeline's release targets live. A target (`deploy`, `deploy.staging`) is in the platform's own
 * account and Region unless the config names an `account` or a `region`; a target elsewhere is reached
 * through a deploy role in that account and Region, which a target stack (one per account and Region,
 * synthesized by the same app and deployed there) holds, as AWS's Deployment Pipeline Reference
 * Architecture prescribes: each environment in its own account, reached through cross-account roles
 * rather than long-lived credentials.
 */
import { PLATFORM_STACK, deployFunctionRoleName, deployRoleName } from '../platform';
import type { DeployConfig } from './config';

/** An AWS account and Region. */
export interface AccountRegion {
  readonly account: string;
  readonly region: string;
}

/** The two targets a pipeline can release to: staging before the gate, production after it. */
export type ReleaseTarget = 'staging' | 'production';

/** The account and Region of a pipeline's target: the config's where it names them, else the platform's. */
export function targetEnvironment(deploy: DeployConfig, target: ReleaseTarget, platform: AccountRegion): AccountRegion {
  const place = target === 'staging' ? deploy.staging : deploy;
  return { account: place?.account ?? platform.account, region: place?.region ?? platform.region };
}

/** Whether `environment` is the platform's own account and Region (its targets need no target stack). */
export function isPlatformEnvironment(environment: AccountRegion, platform: AccountRegion): boolean {
  return environment.account === platform.account && environment.region === platform.region;
}

/** One release of a pipeline into a target stack's account and Region. */
export interface TargetRelease {
  readonly pipeline: string;
  readonly target: ReleaseTarget;
  readonly function: string;
  readonly alias: string;
}

/** A target stack: an account and Region other than the platform's own, and the releases made into it. */
export interface TargetStackPlan extends AccountRegion {
  readonly releases: readonly TargetRelease[];
}

/**
 * Every account and Region other than the platform's own that `pipelines` release into, each with the
 * releases it receives, in a stable order (by account, Region, pipeline, staging first), so that the
 * same config always synthesizes the same stacks.
 */
export function targetStacks(
  pipelines: readonly { readonly name: string; readonly deploy?: DeployConfig }[],
  platform: AccountRegion,
): TargetStackPlan[] {
  const stacks = new Map<string, { account: string; region: string; releases: TargetRelease[] }>();
  for (const { name, deploy } of pipelines) {
    if (!deploy) continue;
    const targets: [ReleaseTarget, { function: string; alias: string } | undefined][] = [
      ['staging', deploy.staging],
      ['production', deploy],
    ];
    for (const [target, place] of targets) {
      if (!place) continue;
      const environment = targetEnvironment(deploy, target, platform);
      if (isPlatformEnvironment(environment, platform)) continue;
      const key = `${environment.account}/${environment.region}`;
      const stack = stacks.get(key) ?? { ...environment, releases: [] };
      stack.releases.push({ pipeline: name, target, function: place.function, alias: place.alias });
      stacks.set(key, stack);
    }
  }
  return [...stacks.values()].sort((a, b) => a.account.localeCompare(b.account) || a.region.localeCompare(b.region));
}

/**
 * The accounts other than the platform's that `pipelines` release into: the platform's bus accepts their
 * forwarded alarm events. (A target in the platform's account in another Region needs no bus policy: an
 * account's own rules may put events on its own buses.)
 */
export function targetAccounts(
  pipelines: readonly { readonly name: string; readonly deploy?: DeployConfig }[],
  platform: AccountRegion,
): string[] {
  return [...new Set(targetStacks(pipelines, platform).map(({ account }) => account))].filter(
    (account) => account !== platform.account,
  );
}

/** The name of the target stack for an account and Region: `Stepline-target-<account>-<region>`. */
export function targetStackName({ account, region }: AccountRegion): string {
  return `${PLATFORM_STACK}-target-${account}-${region}`;
}

/**
 * The role a release into `environment` assumes: `stepline-<pipeline>-deploy-<region>` in the target's
 * account (in the pipeline's stack when the target is the platform's own, in the target stack otherwise).
 * The name carries the target's Region because IAM names are account-wide (core/platform.ts).
 */
export function deployRoleArn(partition: string, pipeline: string, environment: AccountRegion): string {
  return `arn:${partition}:iam::${environment.account}:role/${deployRoleName(pipeline, environment.region)}`;
}

/** The platform's deploy function role, which every deploy role trusts, and only it. */
export function deployFunctionRoleArn(partition: string, platform: AccountRegion): string {
  return `arn:${partition}:iam::${platform.account}:role/${deployFunctionRoleName(platform.region)}`;
}
