/**
 * One pipeline's stack: its build projects, state machine, source triggers, catalog entry and (with
 * `deploy`) its deployment's role and alarms, its rules as the platform functions' declarations give
 * them (core/platform-functions.ts `pipelineRules`), and nothing shared. It reads the platform's resources from SSM parameters at deploy time (no exports), so it
 * can be deployed, changed or removed without touching the platform or any other pipeline.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { catalogEntry, type PipelineConfig } from '../core/config/stepline-config';
import { PLATFORM_PARAMETERS, SOURCE_BUS_NAME, catalogParameterName } from '../core/platform';
import {
  PLATFORM_FUNCTIONS,
  functionArnParameterName,
  pipelineRuleInvocations,
  taskFunctions,
  type PipelineStackPart,
  type PlatformFunctionName,
  type TaskSubstitution,
} from '../core/platform-functions';
import { PipelineBuildProjects } from './build-projects';
import { PipelineDeployment } from './pipeline-deployment';
import { PipelineStateMachine } from './pipeline-state-machine';
import { SourceTriggers, stackArnOf } from './source-triggers';

export interface PipelineStackProps extends StackProps {
  /** The pipeline, as `parseConfig` returned it. */
  readonly pipeline: PipelineConfig;
}

export class PipelineStack extends Stack {
  readonly pipeline: PipelineConfig;
  readonly builds: PipelineBuildProjects;
  readonly machine: PipelineStateMachine;
  /** The source triggers' part: the dead-letter queue of every rule, the push and run rules. */
  readonly triggers: SourceTriggers;
  /** The release to Lambda: deploy role, alarms, alarm rule (and the target); only with `deploy`. */
  readonly deployment?: PipelineDeployment;
  /** The pipeline's rules by name, each as its function's declaration gives it (`pipelineRules`). */
  readonly rules: ReadonlyMap<string, events.Rule>;
  /** The pipeline's catalog entry, read by the run starter. */
  readonly catalogEntry: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { pipeline } = props;
    this.pipeline = pipeline;
    const platform = (name: string) => ssm.StringParameter.valueForStringParameter(this, name);
    // A platform function, by the parameter its declaration names (core/platform-functions.ts), imported once.
    const imported = new Map<PlatformFunctionName, lambda.IFunction>();
    const platformFunction = (name: PlatformFunctionName): lambda.IFunction => {
      const fn =
        imported.get(name) ??
        lambda.Function.fromFunctionAttributes(this, PLATFORM_FUNCTIONS[name].id, {
          functionArn: platform(functionArnParameterName(name)),
          skipPermissions: true,
        });
      imported.set(name, fn);
      return fn;
    };

    const artifactBucket = s3.Bucket.fromBucketName(
      this,
      'ArtifactBucket',
      platform(PLATFORM_PARAMETERS.artifactBucketName),
    );
    const encryptionKey = kms.Key.fromKeyArn(this, 'PlatformKey', platform(PLATFORM_PARAMETERS.platformKeyArn));
    this.builds = new PipelineBuildProjects(this, 'Builds', { pipeline, artifactBucket, encryptionKey });
    // Every machine names every function its definition's Tasks may invoke (the definition is shared);
    // only a pipeline with `deploy` reaches its deployment states.
    const functions = Object.fromEntries(
      taskFunctions().map(({ substitution, name }) => [substitution, platformFunction(name)]),
    ) as Record<TaskSubstitution, lambda.IFunction>;
    this.machine = new PipelineStateMachine(this, 'StateMachine', {
      pipeline: pipeline.name,
      functions,
      projects: [...this.builds.projects.values()],
    });
    this.triggers = new SourceTriggers(this, 'Triggers');
    if (pipeline.deploy) {
      this.deployment = new PipelineDeployment(this, 'Deployment', {
        pipeline: pipeline.name,
        deploy: pipeline.deploy,
        artifactBucket,
        encryptionKey,
      });
    }
    this.rules = this.addPipelineRules(pipeline, platformFunction);
    const entry = catalogEntry(pipeline, this.machine.stateMachine.stateMachineArn);
    this.catalogEntry = new ssm.StringParameter(this, 'CatalogEntry', {
      parameterName: catalogParameterName(pipeline.name),
      stringValue: this.toJsonString(entry),
      description: `stepline: state machine and stages of pipeline "${pipeline.name}", read by the run starter`,
    });

    new CfnOutput(this, 'StateMachineArn', {
      description: `State machine of pipeline "${pipeline.name}"`,
      value: this.machine.stateMachine.stateMachineArn,
    });
  }

  /**
   * Every rule the platform functions' declarations give this pipeline (none where a trigger says
   * `undefined`), in the part of the stack each belongs to, invoking its function. Only a pipeline with
   * a rule to a function imports it: an unused template parameter is an error to cfn-lint.
   */
  private addPipelineRules(
    pipeline: PipelineConfig,
    platformFunction: (name: PlatformFunctionName) => lambda.IFunction,
  ): ReadonlyMap<string, events.Rule> {
    const sourceBus = events.EventBus.fromEventBusName(this, 'SourceBus', SOURCE_BUS_NAME);
    const parts: Readonly<Record<PipelineStackPart, Construct | undefined>> = {
      triggers: this.triggers,
      deployment: this.deployment,
    };
    const rules = new Map<string, events.Rule>();
    for (const { name, invocation } of pipelineRuleInvocations()) {
      const trigger = invocation.trigger(pipeline, stackArnOf(this));
      if (!trigger) continue;
      const ruleName = invocation.ruleName(pipeline.name);
      const { within, id } = invocation.construct;
      const scope = parts[within];
      // Programming error: a declaration gives a rule to a pipeline whose stack lacks the rule's part.
      if (!scope) throw new Error(`rule ${ruleName} belongs to the pipeline stack's ${within}, which it has not`);
      rules.set(
        ruleName,
        this.triggers.addRule(scope, id, trigger, platformFunction(name), {
          ruleName,
          description: invocation.description(pipeline),
          ...(invocation.bus === 'platform' ? { eventBus: sourceBus } : {}),
        }),
      );
    }
    return rules;
  }
}
