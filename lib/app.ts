/**
 * The stepline app: the platform stack and one stack per pipeline, checked by cdk-nag. Stack ids
 * are CloudFormation stack names and stay fixed (core/platform.ts): `Stepline` for the platform,
 * `Stepline-<pipeline>` for each pipeline. Renaming one would replace everything it holds.
 */
import { Validations, type App, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { SteplineConfig } from '../core/config/stepline-config';
import { PLATFORM_STACK, pipelineStackName } from '../core/platform';
import { PipelineStack } from './pipeline-stack';
import { PlatformStack } from './platform-stack';

export interface Stepline {
  readonly platform: PlatformStack;
  /** The pipeline stacks by pipeline name, in config order. */
  readonly pipelines: ReadonlyMap<string, PipelineStack>;
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
  const platform = new PlatformStack(app, PLATFORM_STACK, {
    env,
    description: 'stepline platform: run store, artifacts, starter and recorder functions',
  });
  const pipelines = new Map<string, PipelineStack>();
  // Pipelines marked localOnly are local mode's alone: they never reach the account.
  for (const pipeline of config.pipelines.filter((p) => !p.localOnly)) {
    const stack = new PipelineStack(app, pipelineStackName(pipeline.name), {
      pipeline,
      env,
      description: `stepline pipeline "${pipeline.name}": build projects, state machine, source rules`,
    });
    // Deploy order only: the pipeline reads the platform's SSM parameters, so it deploys after it.
    stack.addStackDependency(platform, 'reads the platform parameters when it deploys');
    pipelines.set(pipeline.name, stack);
  }
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { platform, pipelines };
}
