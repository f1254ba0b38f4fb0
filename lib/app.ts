/**
 * The stepline app: the platform stack, one stack per pipeline and one per account and Region other than
 * the platform's that pipelines release into, checked by cdk-nag. Stack ids are CloudFormation stack names
 * and stay fixed (core/platform.ts): `Stepline` for the platform, `Stepline-<pipeline>` for each pipeline,
 * `Stepline-target-<account>-<region>` for each target stack. Renaming one would replace everything it holds.
 */
import { Aws, Token, Validations, type App, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { SteplineConfig } from '../core/config/stepline-config';
import {
  targetAccounts,
  targetDeployRoles,
  targetPlacementProblems,
  targetStackName,
  targetStacks,
  type AccountRegion,
  type TargetStackPlan,
} from '../core/deployment/targets';
import { PLATFORM_STACK, pipelineStackName } from '../core/platform';
import { PlatformLimitError } from './errors';
import { PipelineStack } from './pipeline-stack';
import { PlatformStack } from './platform-stack';
import { TargetStack } from './target-stack';

export interface Stepline {
  readonly platform: PlatformStack;
  /** The pipeline stacks by pipeline name, in config order. */
  readonly pipelines: ReadonlyMap<string, PipelineStack>;
  /** The target stacks by stack name, in the plan's order (core/deployment/targets.ts targetStacks). */
  readonly targets: ReadonlyMap<string, TargetStack>;
}

export interface SteplineAppOptions {
  /** @default - environment-agnostic stacks */
  readonly env?: Environment;
  /**
   * Run cdk-nag's AwsSolutions checks when the app synthesizes (unacknowledged findings fail it).
   * @default true
   */
  readonly nag?: boolean;
}

export function buildStepline(app: App, config: SteplineConfig, options: SteplineAppOptions = {}): Stepline {
  const env = options.env;
  // Pipelines marked localOnly are local mode's alone: they never reach the account.
  const deployed = config.pipelines.filter((p) => !p.localOnly);
  const plan = targetPlan(deployed, env);
  const platform = new PlatformStack(app, PLATFORM_STACK, {
    env,
    description: 'stepline platform: run store, artifacts, starter and recorder functions',
    ...(plan.stacks.length
      ? { targets: { roles: targetDeployRoles(plan.stacks, Aws.PARTITION), accounts: plan.accounts } }
      : {}),
  });
  const pipelines = new Map<string, PipelineStack>();
  for (const pipeline of deployed) {
    const stack = new PipelineStack(app, pipelineStackName(pipeline.name), {
      pipeline,
      env,
      description: `stepline pipeline "${pipeline.name}": build projects, state machine, source rules`,
    });
    // Deploy order only: the pipeline reads the platform's SSM parameters, so it deploys after it.
    stack.addStackDependency(platform, 'reads the platform parameters when it deploys');
    pipelines.set(pipeline.name, stack);
  }
  // Deployed with the target account's credentials, after the platform (its deploy roles trust the
  // platform's deploy function role, which must exist): no dependency CDK would try to deploy across.
  const targets = new Map<string, TargetStack>();
  for (const stackPlan of plan.stacks) {
    const name = targetStackName(stackPlan);
    targets.set(
      name,
      new TargetStack(app, name, {
        plan: stackPlan,
        platform: plan.platform!,
        pipelines: deployed,
        description: `stepline target ${stackPlan.account}/${stackPlan.region}: deploy roles and alarms of ${[...new Set(stackPlan.releases.map((r) => r.pipeline))].join(', ')}, alarm forwarding to platform account ${plan.platform!.account}`,
      }),
    );
  }
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { platform, pipelines, targets };
}

/**
 * The target stacks the config asks for, refused when stepline cannot release there
 * (core/deployment/targets.ts targetPlacementProblems) or when the platform's own account and Region are
 * unknown (an environment-agnostic synth cannot tell another account from its own).
 */
function targetPlan(
  pipelines: SteplineConfig['pipelines'],
  env: Environment | undefined,
): { readonly stacks: TargetStackPlan[]; readonly accounts: string[]; readonly platform?: AccountRegion } {
  const placed = pipelines.filter(
    ({ deploy }) => deploy && [deploy, deploy.staging].some((place) => place?.account ?? place?.region),
  );
  if (placed.length === 0) return { stacks: [], accounts: [] };
  const { account, region } = env ?? {};
  if (!account || !region || Token.isUnresolved(account) || Token.isUnresolved(region)) {
    throw new PlatformLimitError(
      placed.map(({ name }) => ({
        where: `pipeline "${name}"`,
        message:
          "deploy.account/deploy.region name a target's place, which needs the platform's account and Region at synth: run cdk with the platform account's credentials and a Region (CDK_DEFAULT_ACCOUNT, CDK_DEFAULT_REGION)",
      })),
    );
  }
  const platform = { account, region };
  const problems = targetPlacementProblems(pipelines, platform);
  if (problems.length) {
    throw new PlatformLimitError(problems.map((message) => ({ where: 'deploy targets', message })));
  }
  return { stacks: targetStacks(pipelines, platform), accounts: targetAccounts(pipelines, platform), platform };
}
