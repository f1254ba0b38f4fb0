/** The stepline platform: the shared run store, artifacts, key and functions, and per pipeline its projects, state machine and trigger. */
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { stagePlan, type SteplineConfig } from '../core/config';
import type { PipelineCatalog } from '../core/start-run';
import { ENV } from '../lambdas/environment';
import { ArtifactStore } from './artifact-store';
import { PipelineBuildProjects } from './build-projects';
import { PipelineFunctions } from './pipeline-functions';
import { PipelineStateMachine } from './pipeline-state-machine';
import { RunStore } from './run-store';
import { SourceTriggers } from './source-triggers';

export interface SteplineStackProps extends StackProps {
  /** The parsed config (`parseConfig`); one set of per-pipeline resources per entry. */
  readonly config: SteplineConfig;
}

/** The resources of one pipeline, under a construct named after it. */
export interface PipelineResources {
  readonly builds: PipelineBuildProjects;
  readonly machine: PipelineStateMachine;
  readonly triggers: SourceTriggers;
}

export class SteplineStack extends Stack {
  readonly runStore: RunStore;
  readonly artifacts: ArtifactStore;
  readonly platformKey: kms.Key;
  readonly functions: PipelineFunctions;
  readonly pipelines: ReadonlyMap<string, PipelineResources>;

  constructor(scope: Construct, id: string, props: SteplineStackProps) {
    super(scope, id, props);
    this.platformKey = new kms.Key(this, 'PlatformKey', {
      description: 'stepline: encrypts build artifacts',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.runStore = new RunStore(this, 'RunStore');
    this.artifacts = new ArtifactStore(this, 'Artifacts', { encryptionKey: this.platformKey });
    this.functions = new PipelineFunctions(this, 'Functions', { table: this.runStore.table });

    const catalog: Record<string, PipelineCatalog[string]> = {};
    const pipelines = new Map<string, PipelineResources>();
    for (const pipeline of props.config.pipelines) {
      const scope = new Construct(this, `Pipeline-${pipeline.name}`);
      const builds = new PipelineBuildProjects(scope, 'Builds', {
        pipeline,
        artifactBucket: this.artifacts.bucket,
        encryptionKey: this.platformKey,
      });
      const projects = [...builds.projects.values()];
      const machine = new PipelineStateMachine(scope, 'StateMachine', {
        pipeline: pipeline.name,
        recordProgress: this.functions.recordProgress,
        projects,
      });
      const triggers = new SourceTriggers(scope, 'Triggers', {
        pipeline,
        startRun: this.functions.startRun,
        repository: builds.repository,
      });
      this.functions.grantBuildInspection(projects);
      this.functions.grantRunStart(machine.stateMachine, builds.repository);
      catalog[pipeline.name] = { stateMachineArn: machine.stateMachine.stateMachineArn, stages: stagePlan(pipeline) };
      pipelines.set(pipeline.name, { builds, machine, triggers });
      new CfnOutput(scope, 'StateMachineArn', {
        description: `State machine of pipeline "${pipeline.name}"`,
        value: machine.stateMachine.stateMachineArn,
      });
    }
    this.pipelines = pipelines;
    this.functions.startRun.addEnvironment(ENV.pipelines, this.toJsonString(catalog satisfies PipelineCatalog));

    new CfnOutput(this, 'RunTableName', { description: 'The run store table', value: this.runStore.table.tableName });
  }
}
