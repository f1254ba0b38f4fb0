/**
 * A pipeline's releases into one target stack's account and Region (core/deployment/targets.ts
 * targetStacks): the deploy role the platform's deploy function assumes there, and, when production is
 * there, the deployment's alarms on the production function. The same statements and alarms as the
 * pipeline stack's (lib/pipeline-deployment.ts allowReleases, deploymentAlarmResources), in the target's
 * account.
 */
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { ArnFormat, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { DeployConfig } from '../core/deployment/config';
import { deployRoleTrustPolicy, type AccountRegion, type TargetRelease } from '../core/deployment/targets';
import { deployRoleName } from '../core/platform';
import { ExplicitRole } from './permissions';
import { NO_ALARMS, allowReleases, deploymentAlarmResources, trustedBy } from './pipeline-deployment';

export interface TargetDeploymentProps {
  /** The pipeline's name (config `name`). */
  readonly pipeline: string;
  /** The pipeline's `deploy` section, as `parseConfig` returned it. */
  readonly deploy: DeployConfig;
  /** This pipeline's releases into this stack's account and Region: staging, production or both. */
  readonly releases: readonly TargetRelease[];
  /** The platform's account and Region: its deploy function assumes the role, its bucket holds the artifacts. */
  readonly platform: AccountRegion;
}

export class TargetDeployment extends Construct {
  /** `stepline-<pipeline>-deploy-<Region>` in the target account, assumed by the platform's deploy function only. */
  readonly role: ExplicitRole;
  /** The deployment's alarms by name, when the production target is in this account and Region. */
  readonly alarms: ReadonlyMap<string, cloudwatch.CfnAlarm>;
  /** The composite alarm over the user's `extraAlarms` (in this account), with production here and extraAlarms. */
  readonly extraAlarms?: cloudwatch.CfnCompositeAlarm;

  constructor(scope: Construct, id: string, props: TargetDeploymentProps) {
    super(scope, id);
    const { pipeline, deploy, releases, platform } = props;
    const stack = Stack.of(this);
    const { partition } = stack;

    this.role = new ExplicitRole(this, 'Role', {
      roleName: deployRoleName(pipeline, stack.region),
      // The platform account's deploy function role by its exact ARN, and nothing else
      // (core/deployment/targets.ts deployRoleTrustPolicy says why no external id or source condition).
      assumedBy: trustedBy(deployRoleTrustPolicy(partition, platform)),
      description: `stepline pipeline "${pipeline}": releases to ${releases.map((r) => `${r.function}:${r.alias}`).join(', ')}, assumed by the deploy function of platform account ${platform.account}`,
    });
    allowReleases(
      this.role,
      releases.map(({ target, function: name, alias }) => ({
        target,
        function: name,
        alias,
        arn: stack.formatArn({
          service: 'lambda',
          resource: 'function',
          resourceName: name,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      })),
      {
        // The platform's artifact bucket and key have names CloudFormation chose in the platform account:
        // unknown here (no reference crosses accounts). The patterns are narrowed to resources of the
        // platform's account by aws:ResourceAccount
        // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceaccount),
        // and the bucket's and key's own policies let this role in for this pipeline's prefix only
        // (lib/target-account-access.ts): both must allow a cross-account read.
        objects: `arn:${partition}:s3:::*/${pipeline}/*`,
        objectsWhy: `The platform's artifact bucket (account ${platform.account}) is named by CloudFormation there and unknown to this account: any bucket of the platform account (aws:ResourceAccount), this pipeline's prefix only; the bucket's policy admits this role to that prefix alone.`,
        key: `arn:${partition}:kms:${platform.region}:${platform.account}:key/*`,
        keyWhy: `The platform key's id is generated in account ${platform.account} and unknown to this account: keys of the platform account in its Region; the key's policy admits this role by its ARN alone.`,
        conditions: { StringEquals: { 'aws:ResourceAccount': platform.account } },
      },
    );
    const alarms = releases.some(({ target }) => target === 'production')
      ? deploymentAlarmResources(this, pipeline, deploy)
      : NO_ALARMS;
    this.alarms = alarms.alarms;
    if (alarms.extraAlarms) this.extraAlarms = alarms.extraAlarms;
  }
}
