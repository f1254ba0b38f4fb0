/**
 * A pipeline's state machine, defined by statemachines/pipeline.asl.json. Step Functions grants a
 * file-defined machine nothing by itself, so the role's permissions are derived from the Task
 * resources the file actually uses: each one maps to a grant in TASK_GRANTS, and a resource with no
 * entry stops synth instead of deploying a machine that would fail at run time.
 */
import { readFileSync } from 'node:fs';
import { ArnFormat, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { TASK_RESOURCES, taskResources, type TaskResource } from '../core/asl';
import { stateMachineName } from '../core/config';
import { ExplicitRole } from './permissions';
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
}

interface GrantContext {
  readonly role: ExplicitRole;
  readonly stack: Stack;
  readonly props: PipelineStateMachineProps;
}

/** What each Task resource needs, as aws-stepfunctions-tasks grants it for the same integration. */
const TASK_GRANTS: Readonly<Record<string, (ctx: GrantContext) => void>> = {
  // The ASL invokes the recorder by its unqualified ARN: no version or alias needs the grant.
  [TASK_RESOURCES.lambdaInvoke]: ({ role, props }) => {
    role.allow(['lambda:InvokeFunction'], [props.recordProgress.functionArn]);
  },
  // As CodeBuildStartBuild with IntegrationPattern.RUN_JOB, minus codebuild:BatchGetReports, which
  // aws-cdk grants on the project ARN where it authorizes nothing (its resource is a report group).
  [TASK_RESOURCES.codeBuildSync]: ({ role, stack, props }) => {
    role.allow(
      ['codebuild:StartBuild', 'codebuild:StopBuild', 'codebuild:BatchGetBuilds'],
      props.projects.map((p) => p.projectArn),
    );
    role.allow(
      ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      [
        stack.formatArn({
          service: 'events',
          resource: 'rule',
          resourceName: 'StepFunctionsGetEventForCodeBuildStartBuildRule',
        }),
      ],
    );
  },
};

export class PipelineStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly role: ExplicitRole;
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

    const stack = Stack.of(this);
    const name = stateMachineName(props.pipeline);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // The /aws/vendedlogs/ prefix keeps CloudWatch Logs' resource policy from growing per machine.
      // The stack's own id ends the name, so a pipeline removed (its logs kept) and added again
      // gets a new group instead of failing on the name of the one it left behind.
      logGroupName: `/aws/vendedlogs/states/${name}-${Fn.select(2, Fn.split('/', stack.stackId))}`,
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    this.role = new ExplicitRole(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
        conditions: {
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'states',
              resource: 'stateMachine',
              resourceName: name,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
      description: `stepline pipeline "${props.pipeline}" state machine`,
    });
    this.role.allowOnAnyResource(
      'ExecutionLogging',
      [
        'logs:CreateLogDelivery',
        'logs:GetLogDelivery',
        'logs:UpdateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:DescribeResourcePolicies',
        'logs:DescribeLogGroups',
      ],
      "Step Functions sets up execution logging through CloudWatch Logs' log-delivery actions, which support no resource-level permissions (Step Functions developer guide, cw-logs).",
    );
    this.role.allowOnAnyResource(
      'XRayTracing',
      ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
      'X-Ray tracing of executions uses actions that support no resource-level permissions.',
    );
    const context: GrantContext = { role: this.role, stack, props };
    for (const resource of new Set(this.tasks.map((t) => t.resource))) TASK_GRANTS[resource]!(context);

    const substitutions: PipelineSubstitutions = { RecordProgressFunctionArn: props.recordProgress.functionArn };
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: name,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(file),
      definitionSubstitutions: { ...substitutions },
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
      role: this.role.immutable,
    });
    // Step Functions checks log delivery when the machine is created: its policies must exist first.
    this.role.isNeededBy(this.stateMachine);
  }
}
