/**
 * A pipeline's state machine, defined by statemachines/pipeline.asl.json. Step Functions grants a
 * file-defined machine nothing by itself, so the role's permissions are derived from the Task
 * resources the file actually uses: each one maps to a grant in TASK_GRANTS, and a resource with no
 * entry stops synth instead of deploying a machine that would fail at run time. The Lambda tasks are
 * granted exactly the functions their `FunctionName` placeholders name.
 */
import { readFileSync } from 'node:fs';
import { ArnFormat, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  TASK_RESOURCES,
  isObject,
  taskResources,
  tasksOf,
  type StateEntry,
  type TaskResource,
} from '../core/asl/states';
import { stateMachineName } from '../core/config/stepline-config';
import { UngrantableTaskError } from './errors';
import { ExplicitRole } from './permissions';
import type { TaskSubstitution } from '../core/platform-functions';
import { PIPELINE_DEFINITION_FILE, type PipelineSubstitutions } from '../statemachines';

export interface PipelineStateMachineProps {
  /** The pipeline's name (config `name`); the machine is named `stateMachineName(pipeline)`. */
  readonly pipeline: string;
  /**
   * The functions the definition's Lambda Tasks invoke, by the `${substitution}` that names each
   * (core/platform-functions.ts: the functions declared `invokedBy` a `task`).
   */
  readonly functions: Readonly<Record<TaskSubstitution, lambda.IFunction>>;
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
  readonly file: string;
  readonly stack: Stack;
  readonly props: PipelineStateMachineProps;
  /** The functions the definition may invoke, by the placeholder that names them. */
  readonly functions: Readonly<Record<TaskSubstitution, lambda.IFunction>>;
}

/** One statement a Task needs; statements with the same actions are merged across the definition's Tasks. */
interface TaskGrant {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/**
 * As LambdaInvoke grants it, for REQUEST_RESPONSE and WAIT_FOR_TASK_TOKEN alike: lambda:InvokeFunction on
 * the function the Task names, by its unqualified ARN (no version or alias needs the grant).
 */
const invokeFunction = (task: StateEntry, ctx: GrantContext): TaskGrant[] => [
  { actions: ['lambda:InvokeFunction'], resources: [invokedFunction(task, ctx).functionArn] },
];

/** What each Task resource needs, as aws-stepfunctions-tasks grants it for the same integration. */
const TASK_GRANTS: Readonly<Record<string, (task: StateEntry, ctx: GrantContext) => TaskGrant[]>> = {
  [TASK_RESOURCES.lambdaInvoke]: invokeFunction,
  [TASK_RESOURCES.lambdaInvokeWaitForTaskToken]: invokeFunction,
  // As CodeBuildStartBuild with IntegrationPattern.RUN_JOB, minus codebuild:BatchGetReports, which
  // aws-cdk grants on the project ARN where it authorizes nothing (its resource is a report group).
  [TASK_RESOURCES.codeBuildSync]: (_task, { stack, props }) => [
    {
      actions: ['codebuild:StartBuild', 'codebuild:StopBuild', 'codebuild:BatchGetBuilds'],
      resources: props.projects.map((p) => p.projectArn),
    },
    {
      actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      resources: [
        stack.formatArn({
          service: 'events',
          resource: 'rule',
          resourceName: 'StepFunctionsGetEventForCodeBuildStartBuildRule',
        }),
      ],
    },
  ],
};

/**
 * The function a Lambda Task invokes: its `Parameters.FunctionName` must be one `${Placeholder}` that
 * names a function of this machine. Anything else (a literal ARN, a `FunctionName.$` path, a
 * placeholder with no function) could not be granted exactly, so it stops synth.
 */
function invokedFunction(task: StateEntry, { file, functions }: GrantContext): lambda.IFunction {
  const parameters = isObject(task.state.Parameters) ? task.state.Parameters : {};
  const name = parameters.FunctionName;
  const placeholder = typeof name === 'string' ? /^\$\{(\w+)\}$/.exec(name)?.[1] : undefined;
  if (placeholder === undefined) {
    throw new UngrantableTaskError(
      file,
      `state "${task.name}" must name its function as Parameters.FunctionName "\${<Placeholder>}" (one of ${Object.keys(functions).join(', ')}), found ${JSON.stringify(name ?? parameters['FunctionName.$'] ?? null)}; only a named function can be granted exactly`,
    );
  }
  if (!Object.hasOwn(functions, placeholder)) {
    throw new UngrantableTaskError(
      file,
      `state "${task.name}" invokes \${${placeholder}}, which names no function of the pipeline's state machine (known: ${Object.keys(functions).join(', ')}); add it to PipelineSubstitutions and PipelineStateMachineProps`,
    );
  }
  return functions[placeholder as TaskSubstitution];
}

/** The grants of every Task, statements with the same actions merged, in the order the file first needs them. */
function taskGrants(tasks: readonly StateEntry[], ctx: GrantContext): TaskGrant[] {
  const merged = new Map<string, { actions: readonly string[]; resources: Set<string> }>();
  for (const task of tasks) {
    for (const grant of TASK_GRANTS[String(task.state.Resource)]!(task, ctx)) {
      const key = grant.actions.join(' ');
      const entry = merged.get(key) ?? { actions: grant.actions, resources: new Set<string>() };
      grant.resources.forEach((r) => entry.resources.add(r));
      merged.set(key, entry);
    }
  }
  return [...merged.values()].map(({ actions, resources }) => ({ actions, resources: [...resources] }));
}

export class PipelineStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly role: ExplicitRole;
  readonly logGroup: logs.LogGroup;
  /** The Task resources found in the definition, in document order. */
  readonly tasks: readonly TaskResource[];

  constructor(scope: Construct, id: string, props: PipelineStateMachineProps) {
    super(scope, id);
    const file = props.definitionFile ?? PIPELINE_DEFINITION_FILE;
    const definition = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    this.tasks = taskResources(definition);
    const unknown = this.tasks.filter((t) => !Object.hasOwn(TASK_GRANTS, t.resource));
    if (unknown.length) {
      throw new UngrantableTaskError(
        file,
        `no grant is known for ${unknown.map((t) => `state "${t.state}" (Resource ${t.resource})`).join(', ')}; add it to TASK_GRANTS in lib/pipeline-state-machine.ts`,
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
    const { functions } = props;
    for (const { actions, resources } of taskGrants(tasksOf(definition), { file, stack, props, functions })) {
      this.role.allow(actions, resources);
    }

    const substitutions = Object.fromEntries(
      Object.entries(functions).map(([substitution, fn]) => [substitution, fn.functionArn]),
    ) as PipelineSubstitutions;
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
