/**
 * One pipeline's stack: its build projects, state machine, catalog entry and (with `deploy`) its
 * deployment's role and alarms, and nothing shared. It has no rule: the platform's rules route every push,
 * SourceChanged event and alarm by the catalog this stack writes to (core/sources/followers.ts,
 * core/alarms/deployment-alarms.ts). It reads the platform's resources from SSM parameters at deploy time
 * (no exports), so it can be deployed, changed or removed without touching the platform or any other
 * pipeline.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { catalogEntry, type PipelineConfig } from '../core/config/stepline-config';
import { PLATFORM_PARAMETERS, catalogParameterName } from '../core/platform';
import {
  PLATFORM_FUNCTIONS,
  functionArnParameterName,
  taskFunctions,
  type PlatformFunctionName,
  type TaskSubstitution,
} from '../core/platform-functions';
import { PipelineBuildProjects } from './build-projects';
import { PipelineDeployment } from './pipeline-deployment';
import { PipelineStateMachine } from './pipeline-state-machine';

export interface PipelineStackProps extends StackProps {
  /** The pipeline, as `parseConfig` returned it. */
  readonly pipeline: PipelineConfig;
}

export class PipelineStack extends Stack {
  readonly pipeline: PipelineConfig;
  readonly builds: PipelineBuildProjects;
  readonly machine: PipelineStateMachine;
  /** The release to Lambda: deploy role, alarms (and the target); only with `deploy`. */
  readonly deployment?: PipelineDeployment;
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
    if (pipeline.deploy) {
      this.deployment = new PipelineDeployment(this, 'Deployment', {
        pipeline: pipeline.name,
        deploy: pipeline.deploy,
        artifactBucket,
        encryptionKey,
      });
    }
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
}
