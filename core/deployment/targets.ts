/**
 * Where a pipeline's release targets live. A target (`deploy`, `deploy.staging`) is in the platform's own
 * account and Region unless the config names an `account` or a `region`; a target elsewhere is reached
 * through a deploy role in that account and Region, which a target stack (one per account and Region,
 * synthesized by the same app and deployed there) holds, as AWS's Deployment Pipeline Reference
 * Architecture prescribes: each environment in its own account, reached through cross-account roles
 * rather than long-lived credentials.
 */
import { ALARM_STATE_CHANGE_DETAIL_TYPE, deploymentAlarmTrigger } from '../alarms/deployment-alarms';
import type { EventPattern } from '../sources/event-pattern';
import type { InputTemplate, SourceTrigger } from '../sources/triggers';
import { PLATFORM_STACK, RESOURCE_PREFIX, SOURCE_BUS_NAME, deployFunctionRoleName, deployRoleName } from '../platform';
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

/** An IAM policy document as IAM reads it (a trust policy here). */
export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly {
    readonly Effect: 'Allow';
    readonly Principal: { readonly AWS: string };
    readonly Action: string;
    readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
  }[];
}

/**
 * The trust policy of every deploy role (a pipeline's stack's and a target stack's): the platform's deploy
 * function's role, by its exact ARN, may assume it, and nothing else may. The CDK app writes it as the
 * role's trust; local mode's STS evaluates it before it hands out a role's credentials.
 *
 * - An exact role ARN as the principal: IAM's guide on roles for cross-account access names the trusted
 *   role by ARN, which IAM turns into the role's unique id when the policy is saved, so a role deleted and
 *   created again under the same name is not trusted until the trusting stack deploys again
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles).
 *   That is why the platform deploys before the target stacks: IAM refuses a trust policy naming a role that
 *   does not exist ("Invalid principal in policy").
 * - No `sts:ExternalId`: an external id answers the confused-deputy problem of a third party that acts for
 *   many customers and could be talked into using one customer's role for another
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html). The trusted party here is the
 *   organisation's own platform role, which picks the role from its own catalog and never from a caller;
 *   an id it would have to keep beside the ARN proves nothing the ARN does not.
 * - No `aws:SourceAccount`/`aws:SourceArn`: those keys guard a role trusted by an AWS service principal
 *   (cross-service confused deputy), and a role principal sets neither; `aws:PrincipalAccount` would repeat
 *   the account the exact ARN already names.
 */
export function deployRoleTrustPolicy(partition: string, platform: AccountRegion): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: deployFunctionRoleArn(partition, platform) },
        Action: 'sts:AssumeRole',
      },
    ],
  };
}

/** A deploy role outside the platform's own account and Region, and the pipeline whose releases it makes. */
export interface TargetDeployRole extends AccountRegion {
  readonly pipeline: string;
  readonly roleArn: string;
}

/**
 * Every deploy role the target stacks hold, one per pipeline and (account, Region), in the plan's order: the
 * roles the deploy function may assume besides its own account's, and the readers the artifact bucket and
 * its key let in (each its pipeline's prefix only).
 */
export function targetDeployRoles(plan: readonly TargetStackPlan[], partition: string): TargetDeployRole[] {
  return plan.flatMap((stack) =>
    [...new Set(stack.releases.map(({ pipeline }) => pipeline))].map((pipeline) => ({
      pipeline,
      account: stack.account,
      region: stack.region,
      roleArn: deployRoleArn(partition, pipeline, stack),
    })),
  );
}

/**
 * What the config asks that a target outside the platform's account and Region cannot do, each naming the
 * field at fault (empty when every target can be released to). Both runtimes refuse such a config:
 * - `createFunction` with production in another account: the function would be created by the pipeline's
 *   stack, in the platform's account; a function in another account must exist before its first release.
 * - A Region other than the platform's when the platform is in AWS GovCloud (US) or China: a target stack
 *   forwards its alarms' state changes to the platform's Region, and EventBridge routes events "between any
 *   AWS Regions, except AWS GovCloud (US) and China"
 *   (https://aws.amazon.com/blogs/compute/expanding-cross-region-event-routing-with-amazon-eventbridge/).
 *
 * A Region other than the platform's is otherwise released to: Lambda takes code by S3 location only from "an
 * Amazon S3 bucket in the same AWS Region as your function"
 * (https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html), so the deployer reads the
 * artifact from the platform's bucket itself and uploads its bytes, within Lambda's direct upload limit
 * (lambdas/adapters/lambda-deployer.ts).
 */
export function targetPlacementProblems(
  pipelines: readonly { readonly name: string; readonly deploy?: DeployConfig }[],
  platform: AccountRegion,
): string[] {
  const problems: string[] = [];
  const noCrossRegionEvents = NO_CROSS_REGION_EVENTS.some((prefix) => platform.region.startsWith(prefix));
  for (const { name, deploy } of pipelines) {
    if (!deploy) continue;
    const places: [string, ReleaseTarget, boolean][] = [
      ['deploy', 'production', true],
      ['deploy.staging', 'staging', deploy.staging !== undefined],
    ];
    for (const [field, target, present] of places) {
      if (!present || !noCrossRegionEvents) continue;
      const { region } = targetEnvironment(deploy, target, platform);
      if (region !== platform.region) {
        problems.push(
          `pipeline "${name}": ${field}.region ${region} is not the platform's Region ${platform.region}: EventBridge routes no events between Regions in AWS GovCloud (US) or China, so the target's alarms could not reach the platform; release within ${platform.region}, or deploy a stepline platform in ${region}`,
        );
      }
    }
    const production = targetEnvironment(deploy, 'production', platform);
    if (deploy.createFunction && production.account !== platform.account) {
      problems.push(
        `pipeline "${name}": deploy.createFunction creates the function in the platform's account ${platform.account}, not in deploy.account ${production.account}: create ${deploy.function} and its alias ${deploy.alias} in ${production.account} before the first release, and remove createFunction`,
      );
    }
  }
  return problems;
}

/** The Region prefixes of AWS GovCloud (US) and China, where EventBridge routes no events between Regions. */
const NO_CROSS_REGION_EVENTS = ['us-gov-', 'cn-'];

/** The rule in each target stack that forwards the alarms' state changes to the platform's bus. */
export const ALARM_FORWARDING_RULE_NAME = `${RESOURCE_PREFIX}alarm-forwarding`;

/**
 * What a target account's forwarding rule matches: the platform's own alarm rule's pattern
 * (deploymentAlarmTrigger), so exactly the events the platform bus's rule hands to the deploy function
 * cross the account boundary, forwarded as they are (no input: the platform's rule applies its own).
 */
export function alarmForwardingPattern(): EventPattern {
  return deploymentAlarmTrigger().pattern;
}

/**
 * The platform bus's rule for forwarded alarm events: the own-account alarm rule's pattern and input, and the
 * account the alarm is in (`forwardedFrom`, the event's `account`), so that the deploy function acts only on
 * an alarm of the account the pipeline's production target is in (forwardedFromProduction): any target
 * account may put alarm events on the bus, and an alarm's name is its owner's to choose.
 */
export function forwardedAlarmTrigger(): SourceTrigger {
  const own = deploymentAlarmTrigger();
  return { pattern: own.pattern, input: { ...(own.input as InputTemplate), forwardedFrom: { path: '$.account' } } };
}

/**
 * Whether a forwarded alarm event may roll back the pipeline's production release: only one from the account
 * its production target names (`deploy.account`); a pipeline releasing in the platform's own account takes
 * no forwarded alarm. An alarm from the platform's own default bus (`forwardedFrom` absent) is the platform
 * account's own.
 */
export function forwardedFromProduction(deploy: DeployConfig, forwardedFrom: string | undefined): boolean {
  return forwardedFrom === undefined || forwardedFrom === deploy.account;
}

/**
 * Where a target stack's forwarding rule puts its alarms' state changes: the platform's bus `stepline` from
 * another account (its ForwardedAlarmRule notes the account, forwardedFromProduction); the platform account's
 * default bus from the platform's own account in another Region, where its alarms are the platform account's
 * own and the same rule as for the platform Region's alarms takes them (an account's own rules need no bus
 * policy).
 */
export function alarmForwardingDestination(partition: string, platform: AccountRegion, targetAccount: string): string {
  return targetAccount === platform.account
    ? `arn:${partition}:events:${platform.region}:${platform.account}:event-bus/default`
    : platformBusArn(partition, platform);
}

/** The platform's bus `stepline`, where target accounts' alarm events arrive. */
export function platformBusArn(partition: string, platform: AccountRegion): string {
  return `arn:${partition}:events:${platform.region}:${platform.account}:event-bus/${SOURCE_BUS_NAME}`;
}

/**
 * The statement of the platform bus's resource policy that lets the target accounts' forwarding rules put
 * their alarm events on it: each account by its root principal (EventBridge's own example of a custom bus
 * receiving from another account), and only CloudWatch's alarm state changes
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-example-policy-cross-account-custom-bus-source.html).
 * `undefined` when no target is in another account (an account's own rules need no bus policy).
 */
export function alarmForwardingBusStatement(
  partition: string,
  platform: AccountRegion,
  accounts: readonly string[],
):
  | {
      readonly Sid: string;
      readonly Effect: 'Allow';
      readonly Principal: { readonly AWS: readonly string[] };
      readonly Action: 'events:PutEvents';
      readonly Resource: string;
      readonly Condition: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
    }
  | undefined {
  if (accounts.length === 0) return undefined;
  return {
    Sid: 'TargetAccountsForwardAlarmStateChanges',
    Effect: 'Allow',
    Principal: { AWS: accounts.map((account) => `arn:${partition}:iam::${account}:root`) },
    Action: 'events:PutEvents',
    Resource: platformBusArn(partition, platform),
    Condition: {
      'ForAllValues:StringEquals': { 'events:source': ['aws.cloudwatch'] },
      StringEquals: { 'events:detail-type': ALARM_STATE_CHANGE_DETAIL_TYPE },
    },
  };
}
