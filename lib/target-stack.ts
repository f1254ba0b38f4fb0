/**
 * A target stack: what stepline needs in one account and Region other than the platform's own
 * (core/deployment/targets.ts targetStacks), deployed there by the same app with that account's
 * credentials after the platform (README, "Accounts and Regions"):
 * - per pipeline releasing into it, its deploy role there and, with its production target there, the
 *   deployment's alarms (TargetDeployment);
 * - one rule forwarding stepline's alarm events to the platform's bus (AlarmForwarding).
 * Its template depends only on the releases into it: adding a target account adds a stack, and changes no
 * pipeline's stack.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { PipelineConfig } from '../core/config/stepline-config';
import type { AccountRegion, TargetStackPlan } from '../core/deployment/targets';
import { AlarmForwarding } from './alarm-forwarding';
import { InvalidPropError } from './errors';
import { TargetDeployment } from './target-deployment';

export interface TargetStackProps extends Omit<StackProps, 'env'> {
  /** The account and Region of this stack, and the releases made into it. */
  readonly plan: TargetStackPlan;
  /** The platform's account and Region. */
  readonly platform: AccountRegion;
  /** The config's pipelines, by which each release's `deploy` section is found. */
  readonly pipelines: readonly PipelineConfig[];
}

export class TargetStack extends Stack {
  /** Each releasing pipeline's role and alarms here, by pipeline name, in the plan's order. */
  readonly deployments: ReadonlyMap<string, TargetDeployment>;
  readonly forwarding: AlarmForwarding;

  constructor(scope: Construct, id: string, props: TargetStackProps) {
    super(scope, id, { ...props, env: { account: props.plan.account, region: props.plan.region } });
    const { plan, platform } = props;
    const deployments = new Map<string, TargetDeployment>();
    for (const pipeline of [...new Set(plan.releases.map((release) => release.pipeline))]) {
      const deploy = props.pipelines.find((p) => p.name === pipeline)?.deploy;
      if (!deploy)
        throw new InvalidPropError(
          'pipelines',
          `${id}: pipeline "${pipeline}" releases here but has no deploy section`,
        );
      deployments.set(
        pipeline,
        new TargetDeployment(this, `Pipeline-${pipeline}`, {
          pipeline,
          deploy,
          releases: plan.releases.filter((release) => release.pipeline === pipeline),
          platform,
        }),
      );
    }
    this.deployments = deployments;
    this.forwarding = new AlarmForwarding(this, 'AlarmForwarding', { platform });
  }
}
