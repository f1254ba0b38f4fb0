/**
 * A pipeline's state machine, defined by statemachines/pipeline.asl.json. Step Functions grants a
 * file-defined machine nothing by itself, so the role's permissions are derived from the Task
 * resources the file actually uses: each one maps to a grant in TASK_GRANTS, and a resource with no
 * entry stops synth instead of deploying a machine that would fail at run time.
 */
import { readFileSync } from 'node:fs';
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { taskResources, type TaskResource } from '../core/asl';
import { stateMachineName } from '../core/config';
import { acknowledgeWildcards, wildcardResource } from './nag';
import { PIPELINE_DEFINITION_FILE, type PipelineSubstitutions } from '../statemachines';

export interface PipelineStateMachineProps {
  /** The pipeline's name (config `name`); the machine is named `stateMachineName(pipeline)`. */
  readonly pipeline: string;
  /** The progress recorder, invoked by the `lambda:invoke` tasks. */
  readonly recordProgress: lambda.IFunction;
  /** The pipeline's stage projects, started by the `codebuild:startBuild.sync` tasks. */
  readonly projects: readonly codebuild.IProject[];
  /**
   * The ASL file.
   * @default PIPELINE_DEFINITION_FILE (statemachines/pipeline.asl.json)
   */
  readonly definitionFile?: string;
  /**
   * Retention of the execution log group.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the execution log group when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

interface GrantContext {
  readonly machine: sfn.StateMachine;
  readonly stack: Stack;
  readonly props: PipelineStateMachineProps;
}

/** What each Task resource needs, as aws-stepfunctions-tasks grants it for the same integration. */
const TASK_GRANTS: Readonly<Record<string, (ctx: GrantContext) => void>> = {
  'arn:aws:states:::lambda:invoke': ({ machine, props }) => {
    props.recordProgress.grantInvoke(machine);
    acknowledgeWildcards(
      machine,
      [wildcardResource(machine, `${props.recordProgress.functionArn}:*`)],
      "grantInvoke covers the recorder's versions and aliases (<arn>:*) besides the function itself: one function, no other.",
    );
  },
  // As CodeBuildStartBuild with IntegrationPattern.RUN_JOB, minus codebuild:BatchGetReports, which
  // aws-cdk grants on the project ARN where it authorizes nothing (its resource is a report group).
  'arn:aws:states:::codebuild:startBuild.sync': ({ machine, stack, props }) => {
    iam.Grant.addToPrincipal({
      grantee: machine,
      actions: ['codebuild:StartBuild', 'codebuild:StopBuild', 'codebuild:BatchGetBuilds'],
      resourceArns: props.projects.map((p) => p.projectArn),
    });
    iam.Grant.addToPrincipal({
      grantee: machine,
      actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      resourceArns: [
        stack.formatArn({
          service: 'events',
          resource: 'rule',
          resourceName: 'StepFunctionsGetEventForCodeBuildStartBuildRule',
        }),
      ],
    });
  },
};

export class PipelineStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;
  /** The Task resources found in the definition, in document order. */
  readonly tasks: readonly TaskResource[];

  constructor(scope: Construct, id: string, props: PipelineStateMachineProps) {
    super(scope, id);
    const file = props.definitionFile ?? PIPELINE_DEFINITION_FILE;
    this.tasks = taskResources(JSON.parse(readFileSync(file, 'utf8')) as unknown);
    const unknown = this.tasks.filter((t) => !Object.hasOwn(TASK_GRANTS, t.resource));
    if (unknown.length) {
      throw new Error(
        `${file}: no grant is known for ${unknown.map((t) => `state "${t.state}" (Resource ${t.resource})`).join(', ')}; add it to TASK_GRANTS in lib/pipeline-state-machine.ts`,
      );
    }

    const name = stateMachineName(props.pipeline);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // The /aws/vendedlogs/ prefix keeps CloudWatch Logs' resource policy from growing per machine.
      logGroupName: `/aws/vendedlogs/states/${name}`,
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    const substitutions: PipelineSubstitutions = { RecordProgressFunctionArn: props.recordProgress.functionArn };
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: name,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(file),
      definitionSubstitutions: { ...substitutions },
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });

    acknowledgeWildcards(
      this.stateMachine,
      ['Resource::*'],
      'Execution logging needs the CloudWatch Logs delivery actions (logs:CreateLogDelivery, PutResourcePolicy, DescribeLogGroups, ...) and tracing needs xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets: none of them supports resource-level permissions.',
    );
    const context: GrantContext = { machine: this.stateMachine, stack: Stack.of(this), props };
    for (const resource of new Set(this.tasks.map((t) => t.resource))) TASK_GRANTS[resource](context);
  }
}
