/**
 * The platform's functions, each declared once: its handler file, what it is for, how long it may
 * run, which platform settings its environment carries, how it is invoked, and every action it may
 * take on what. Both runtimes read this table and nothing else about a function:
 * - the CDK app (lib/) makes each function from its entry, its role from `grants` (resources named
 *   here by kind, turned into ARNs in one place), its environment from `settings`, and its
 *   invocations (rules, schedules, URL, the state machines' substitutions, the SSM parameter through
 *   which pipeline stacks find it) from `invokedBy`. Every rule is the platform's and names no pipeline:
 *   their number stays the same however many pipelines there are;
 * - local mode builds each handler from the same entry on the local platform and invokes it as
 *   `invokedBy` says (a rule on the local bus, a route on the local endpoint, a Task's ARN, a timer).
 * Adding a function is its handler file (exporting `handlerOn`, lambdas/environment.ts) and one entry
 * here. Pure data: lib/ reads it without loading handler code.
 */
import { deployFunctionRoleName, PLATFORM_PARAMETER_PATH, RESOURCE_PREFIX, RUN_CONTROL_ROUTES } from './platform';
import { deploymentAlarmTrigger } from './alarms/deployment-alarms';
import { forwardedAlarmTrigger } from './deployment/targets';
import { runEventTrigger, sourceChangedTrigger } from './sources/source-events';
import { codeCommitPushTrigger, executionEndedTrigger, type SourceTrigger } from './sources/triggers';

/** The platform settings a function's environment may carry (lambdas/environment.ts HandlerPlatform). */
export type PlatformSetting =
  | 'catalogPath'
  | 'sourceBusName'
  | 'webhookSecretId'
  | 'approvalsUrl'
  | 'linkKeySecretId'
  | 'slackSigningSecretId'
  | 'deployFunctionArn';

/**
 * What a grant is on, by kind. Each runtime turns a kind into ARNs in one place: lib/ for AWS; the
 * calls-versus-grants test reads the same kinds.
 */
export type PlatformResource =
  /** The run table itself (its key: items, queries on the table's own key). */
  | 'runTable'
  /** The run table's index of active runs. */
  | 'runTable/index/active'
  /** The run table's index of a pipeline's runs. */
  | 'runTable/index/byPipeline'
  /** Every pipeline's catalog entry: `parameter/stepline/pipelines/*`. */
  | 'catalogEntries'
  /** The catalog's path itself and its entries, for listing (GetParametersByPath). */
  | 'catalogListing'
  /** The pipelines' state machines, `stateMachine:stepline-*`. */
  | 'pipelineMachines'
  /** Their executions, `execution:stepline-*:*`. */
  | 'pipelineExecutions'
  /** The platform's bus `stepline`. */
  | 'sourceBus'
  | 'webhookSecret'
  | 'linkKeySecret'
  | 'slackSigningSecret'
  /** The secrets pipelines name for Slack and GitHub: `stepline/notifications/*`. */
  | 'notificationSecrets'
  /** The account's SES identities in the Region. */
  | 'sesIdentities'
  /** The account's CodeCommit repositories in the Region. */
  | 'codecommitRepositories'
  /** The pipelines' build projects, `project/stepline-*`. */
  | 'pipelineProjects'
  /** Their report groups, `report-group/stepline-*`. */
  | 'pipelineReportGroups'
  /** Their builds' log streams, `/aws/codebuild/stepline-*:log-stream:*`. */
  | 'pipelineBuildLogStreams'
  /** The pipelines' deploy roles in this Region, `role/stepline-*-deploy-<Region>`. */
  | 'pipelineDeployRoles'
  /** The platform's deploy function. */
  | 'deployFunction'
  /**
   * The deploy roles the target stacks hold in other accounts, each by its exact ARN, from the config
   * (core/deployment/targets.ts targetDeployRoles); none when every target is the platform's own.
   */
  | 'targetDeployRoles';

export interface PlatformGrant {
  /** Exact actions (no wildcards: lib/permissions.ts refuses them). */
  readonly actions: readonly string[];
  readonly on: readonly PlatformResource[];
  /**
   * Why a resource pattern is as narrow as it can be: required when `on` names a kind whose ARN is a
   * pattern (it acknowledges cdk-nag's IAM5 for this statement only).
   */
  readonly why?: string;
}

/**
 * An ARN of this account and Region, as each runtime formats it (lib/: stack.formatArn; local: its
 * constants): `arn:<partition>:<service>:<region>:<account>:<resource><separator><name>`, or, without a
 * `name`, `…:<resource>` for a service whose ARNs have no resource type (a CodeCommit repository:
 * `arn:<partition>:codecommit:<region>:<account>:<repository>`).
 */
export type ArnOf = (service: string, resource: string, name?: string, separator?: ':' | '/') => string;

/** The platform's functions, by the name both runtimes use for them. */
export type PlatformFunctionName =
  | 'publishSourceChange'
  | 'githubWebhook'
  | 'startRun'
  | 'recordProgress'
  | 'notify'
  | 'deploy'
  | 'approvalGate'
  | 'approvalDecisions'
  | 'runControl'
  | 'manualRuns';

/** How a function is invoked. */
export type PlatformInvocation =
  /** By the pipeline state machines' Tasks, through the definition's `${substitution}`. */
  | { readonly by: 'task'; readonly substitution: string }
  /**
   * By one rule of the platform's own (on the account's default bus or the platform's bus), asynchronously.
   * `trigger` builds its pattern and input (core/sources/triggers.ts) from ARNs of this account and Region.
   */
  | {
      readonly by: 'rule';
      readonly id: string;
      readonly bus: 'default' | 'platform';
      readonly description: string;
      readonly trigger: (arnOf: ArnOf) => SourceTrigger;
    }
  /** By a schedule, asynchronously, with a fixed input. */
  | {
      readonly by: 'schedule';
      readonly id: string;
      readonly description: string;
      readonly input: Readonly<Record<string, unknown>>;
      readonly everyMinutes: number;
      /**
       * How often local mode runs it, in real seconds, or `undefined` when it does not: a schedule that
       * only catches up with events AWS may lose has nothing to catch up with locally.
       */
      readonly locallyEverySeconds?: number;
    }
  /** Through a function URL (no AWS auth: the request carries its own signature), at this local route. */
  | { readonly by: 'functionUrl'; readonly localRoute: string }
  /**
   * Through the approvals HTTP API (lib/release-approvals.ts), payload format 2.0. `cliRoutes` are route keys
   * (`POST /cli/runs/{runId}/rerun`), each IAM-authorized (the caller is the person), made from this declaration
   * on AWS and served locally with the git identity; without them the routes are built by hand (the gate's).
   */
  | { readonly by: 'httpApi'; readonly cliRoutes?: readonly string[] }
  /** Synchronously by another platform function (Lambda Invoke), which holds `lambda:InvokeFunction` on it. */
  | { readonly by: 'function'; readonly caller: PlatformFunctionName };

export interface PlatformFunctionDeclaration {
  /** The handler file, from the project's root; it exports `handler` (AWS) and `handlerOn` (both runtimes). */
  readonly entry: string;
  /** The construct id on AWS. */
  readonly id: string;
  /** Its name in local mode (`stepline-<kebab>`), and the base of its SSM parameter's name. */
  readonly localName: string;
  readonly description: string;
  /** At most this long; always shorter than the Task or caller that waits for it. */
  readonly timeoutSeconds: number;
  /**
   * Its memory, in MB.
   * @default 256
   */
  readonly memoryMb?: number;
  /** Settings its environment carries beyond the table's name, which every function gets. */
  readonly settings: readonly PlatformSetting[];
  readonly invokedBy: readonly PlatformInvocation[];
  /** Everything it may do beyond writing its own logs and traces. */
  readonly grants: readonly PlatformGrant[];
  /**
   * Actions that support no resource-level permission (the Service Authorization Reference lists no
   * resource type for them), on `*` in a policy of their own named `id`, with why.
   */
  readonly grantsOnAnyResource?: readonly {
    readonly id: string;
    readonly actions: readonly string[];
    readonly why: string;
  }[];
  /**
   * Its role's fixed name in a Region, for a role other policies name.
   * @default - a name CloudFormation generates
   */
  readonly roleName?: (region: string) => string;
}

/** A pipeline's catalog entry, read by every function that works for a pipeline. */
const CATALOG_ENTRY_READ: PlatformGrant = {
  actions: ['ssm:GetParameter'],
  on: ['catalogEntries'],
  why: 'Each pipeline stack publishes its catalog entry as one parameter under /stepline/pipelines/; the function reads that path only.',
};
/** The whole catalog, to learn which pipelines follow a repository (core/sources/followers.ts). */
const CATALOG_LISTING: PlatformGrant = {
  actions: ['ssm:GetParametersByPath'],
  on: ['catalogListing'],
  why: 'The receivers of pushes list the catalog (one parameter per pipeline under /stepline/pipelines/) to learn which pipelines follow a repository; that path only.',
};
const PUT_ON_SOURCE_BUS: PlatformGrant = { actions: ['events:PutEvents'], on: ['sourceBus'] };
const PIPELINE_BUILD_READ: readonly PlatformGrant[] = [
  {
    actions: ['codebuild:BatchGetBuilds'],
    on: ['pipelineProjects'],
    why: "The builds of the pipelines' projects, all named stepline-<pipeline>-<stage>.",
  },
  {
    actions: ['codebuild:BatchGetReports', 'codebuild:DescribeTestCases'],
    on: ['pipelineReportGroups'],
    why: "Test reports live in report groups CodeBuild creates from each buildspec, named <project>-<report>: stepline's projects' report groups only.",
  },
];
const START_PIPELINE_EXECUTIONS: PlatformGrant = {
  actions: ['states:StartExecution'],
  on: ['pipelineMachines'],
  why: "Pipeline state machines are named stepline-<pipeline> and live in the pipelines' own stacks: the grant covers that reserved prefix, so adding a pipeline needs no change to this shared role.",
};

/** The platform's functions by name. */
export const PLATFORM_FUNCTIONS = {
  publishSourceChange: {
    entry: 'lambdas/publish-source-change.ts',
    id: 'PublishSourceChange',
    localName: 'stepline-publish-source-change',
    description: "stepline: puts a CodeCommit push on the platform's bus, once per pipeline following its repository",
    timeoutSeconds: 30,
    settings: ['sourceBusName', 'catalogPath'],
    invokedBy: [
      {
        by: 'rule',
        id: 'PushRule',
        bus: 'default',
        description:
          'stepline: every CodeCommit push in the account; the publisher finds the pipelines following its repository in the catalog',
        // Every CodeCommit push; GitHub's reach the bus through the webhook receiver.
        trigger: () => codeCommitPushTrigger(),
      },
    ],
    grants: [PUT_ON_SOURCE_BUS, CATALOG_LISTING],
  },
  githubWebhook: {
    entry: 'lambdas/github-webhook.ts',
    id: 'GitHubWebhook',
    localName: 'stepline-github-webhook',
    description: 'stepline: receives GitHub push deliveries',
    // GitHub counts a delivery not answered within 10 s as failed.
    timeoutSeconds: 10,
    settings: ['sourceBusName', 'catalogPath', 'webhookSecretId'],
    invokedBy: [{ by: 'functionUrl', localRoute: '/github/webhook' }],
    grants: [PUT_ON_SOURCE_BUS, { actions: ['secretsmanager:GetSecretValue'], on: ['webhookSecret'] }, CATALOG_LISTING],
  },
  startRun: {
    entry: 'lambdas/start-run.ts',
    id: 'StartRun',
    localName: 'stepline-start-run',
    description: 'stepline: starts a pipeline run for a source event',
    timeoutSeconds: 30,
    settings: ['catalogPath'],
    invokedBy: [
      {
        by: 'rule',
        id: 'RunRule',
        bus: 'platform',
        description: 'stepline: every SourceChanged event starts a run of the pipeline it names',
        trigger: () => sourceChangedTrigger(),
      },
    ],
    grants: [
      // RunStore.createRun (a conditional PutItem, GetItem when the condition's old item is not returned)
      // and the lanes: enqueue (PutItem), waiting (Query), dequeue (DeleteItem), acquire and release and
      // superseding a waiting run (UpdateItem).
      {
        actions: [
          'dynamodb:PutItem',
          'dynamodb:GetItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:Query',
        ],
        on: ['runTable'],
      },
      CATALOG_ENTRY_READ,
      START_PIPELINE_EXECUTIONS,
      {
        actions: ['codecommit:GetCommit', 'codecommit:GetDifferences'],
        on: ['codecommitRepositories'],
        why: "The starter reads the pushed commit's author, message and changed files (for path filters). Repositories are the users' own, named freely; one statement per repository on this shared role would outgrow IAM's inline policy limit, so the grant is this one read action on the account's repositories in this Region.",
      },
    ],
  },
  recordProgress: {
    entry: 'lambdas/record-progress.ts',
    id: 'RecordProgress',
    localName: 'stepline-record-progress',
    description: 'stepline: records a step of a pipeline run',
    // The ASL gives each recording task 60 s; the function must give up before the task does.
    timeoutSeconds: 45,
    // The bus: it announces each run's start and end there, for the notifier.
    settings: ['catalogPath', 'sourceBusName'],
    invokedBy: [
      { by: 'task', substitution: 'RecordProgressFunctionArn' },
      {
        by: 'rule',
        id: 'ExecutionEndedRule',
        bus: 'default',
        description: 'stepline: a pipeline execution ended; the recorder records its run and starts the next',
        // Every pipeline execution's end, however it ends (aborted, timed out), by the machines' reserved prefix.
        trigger: (arnOf) => executionEndedTrigger(arnOf('states', 'stateMachine', RESOURCE_PREFIX, ':')),
      },
      {
        by: 'schedule',
        id: 'SweepRule',
        description: 'stepline: the recorder catches up with executions whose status event was lost',
        input: { kind: 'sweep' },
        // Step Functions delivers status events best effort; local mode's are never lost.
        everyMinutes: 5,
      },
    ],
    grants: [
      // RunStore.transitionRun/transitionStage (conditional UpdateItem, GetItem after a failed condition),
      // getRun, listStages (Query on the key), the lanes (UpdateItem, Query, DeleteItem), the sweep's active
      // runs (Query on the active index), an expired run's gate closed (UpdateItem) with an audit event (PutItem).
      {
        actions: [
          'dynamodb:GetItem',
          'dynamodb:UpdateItem',
          'dynamodb:Query',
          'dynamodb:DeleteItem',
          'dynamodb:PutItem',
        ],
        on: ['runTable', 'runTable/index/active'],
      },
      CATALOG_ENTRY_READ,
      START_PIPELINE_EXECUTIONS,
      ...PIPELINE_BUILD_READ,
      {
        actions: ['logs:GetLogEvents'],
        on: ['pipelineBuildLogStreams'],
        why: "A build's log stream is named after its build id, in its project's log group /aws/codebuild/<project>-<stack id> (lib/build-projects.ts): the streams of stepline's projects only.",
      },
      {
        actions: ['states:DescribeExecution'],
        on: ['pipelineExecutions'],
        why: "The sweep asks whether an active run's execution has ended; executions of stepline's machines only (stepline-<pipeline>:<run>).",
      },
      PUT_ON_SOURCE_BUS,
    ],
  },
  notify: {
    entry: 'lambdas/notify.ts',
    id: 'Notify',
    localName: 'stepline-notify',
    description: "stepline: tells Slack, email and GitHub of a run's start and end",
    // Three quick tries per message (at most about 11 s each, with backoff) and a few messages per run.
    timeoutSeconds: 120,
    settings: ['catalogPath'],
    invokedBy: [
      {
        by: 'rule',
        id: 'RunEventsRule',
        bus: 'platform',
        description: 'stepline: run starts and ends, to the notifier',
        trigger: () => runEventTrigger(),
      },
    ],
    grants: [
      // getRun/listStages, the pipeline's earlier runs (byPipeline), notification records (PutItem,
      // UpdateItem, GetItem after a failed condition).
      {
        actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        on: ['runTable', 'runTable/index/byPipeline'],
      },
      CATALOG_ENTRY_READ,
      {
        actions: ['secretsmanager:GetSecretValue'],
        on: ['notificationSecrets'],
        why: 'The Slack webhook URLs and GitHub tokens the pipelines name must live under stepline/notifications/ (the config refuses any other name): the notifier reads those secrets and no others.',
      },
      {
        actions: ['ses:SendEmail'],
        on: ['sesIdentities'],
        why: "Email goes out from the SES identities the pipelines name as `from`, which are the users' own and named in the config; the platform's template does not depend on the config, so the grant is SendEmail from this account's identities in this Region (SES sends only from verified ones).",
      },
    ],
  },
  deploy: {
    entry: 'lambdas/deploy.ts',
    id: 'Deploy',
    localName: 'stepline-deploy',
    description: "stepline: releases pipelines' builds to their Lambda functions, and rolls them back",
    // The ASL gives each deployment task 120 s; the function must give up before the task does.
    timeoutSeconds: 100,
    // A release into another Region holds the artifact (up to 50 MB), its base64 and the request body at once: the
    // SDK's upload of a 50 MB zip measured about 150 MiB above the process's baseline (docs/aws-assumptions.md LMB-12).
    memoryMb: 512,
    settings: ['catalogPath', 'sourceBusName'],
    invokedBy: [
      { by: 'task', substitution: 'DeployFunctionArn' },
      {
        by: 'rule',
        id: 'AlarmRule',
        bus: 'default',
        description:
          "stepline: an alarm guarding a pipeline's deployments went into ALARM; the deploy function rolls back",
        // Every stepline alarm's change into ALARM, whatever the pipeline (core/alarms/deployment-alarms.ts).
        trigger: () => deploymentAlarmTrigger(),
      },
      {
        by: 'rule',
        id: 'ForwardedAlarmRule',
        bus: 'platform',
        description:
          "stepline: an alarm guarding a pipeline's deployments in a target account went into ALARM (forwarded by its target stack); the deploy function rolls back",
        // The same pattern and input as AlarmRule, and the alarm's account: a target stack's rule forwards the
        // alarm's event as it is (lib/alarm-forwarding.ts), the bus's policy admits only the target accounts'
        // alarm events, and the deploy function only those of the pipeline's production account.
        trigger: () => forwardedAlarmTrigger(),
      },
      {
        by: 'rule',
        id: 'AbandonedReleaseRule',
        bus: 'default',
        description:
          'stepline: a pipeline execution ended; the deploy function rolls back a release the execution left under way',
        // Every pipeline execution's end, as the recorder's ExecutionEndedRule: an execution stopped in the
        // console, timed out or failed outside its deployment steps' Catch leaves its release to this rule.
        trigger: (arnOf) => executionEndedTrigger(arnOf('states', 'stateMachine', RESOURCE_PREFIX, ':')),
      },
      { by: 'function', caller: 'approvalDecisions' },
    ],
    // The pipelines' deploy roles trust it by this name.
    roleName: deployFunctionRoleName,
    grants: [
      // The run (GetItem), the deployment record (conditional PutItem, UpdateItem, GetItem after a failed
      // condition; an ended execution's release read and ended the same way), and the active runs an alarm
      // may concern (Query on the active index).
      {
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        on: ['runTable', 'runTable/index/active'],
      },
      CATALOG_ENTRY_READ,
      ...PIPELINE_BUILD_READ,
      // Each change of a deployment record told as DeploymentChanged (core/deployment/announced-changes.ts).
      PUT_ON_SOURCE_BUS,
      {
        actions: ['sts:AssumeRole'],
        // And the deploy roles of targets in other accounts (core/deployment/targets.ts targetDeployRoles),
        // each by its exact ARN; none without such targets.
        on: ['pipelineDeployRoles', 'targetDeployRoles'],
        why: "Each pipeline's deploy role (stepline-<pipeline>-deploy-<Region>, in the pipeline's stack) holds the permissions on that pipeline's target function, artifacts and alarms; the deploy function may assume those roles of its own Region, and by exact ARN the deploy roles the target stacks hold in other accounts, and no other; it holds no permission on any target itself.",
      },
    ],
  },
  approvalGate: {
    entry: 'lambdas/approval-gate.ts',
    id: 'ApprovalGate',
    localName: 'stepline-approval-gate',
    description: "stepline: opens a run's release gate and asks its approvers",
    // The ASL gives "Assess release risk" 60 s; the function must give up before the task does.
    timeoutSeconds: 45,
    settings: ['catalogPath', 'sourceBusName', 'approvalsUrl', 'linkKeySecretId'],
    invokedBy: [{ by: 'task', substitution: 'ApprovalGateFunctionArn' }],
    grants: [
      // The run and its stages, the pipeline's earlier runs back to its last release (byPipeline), the gate
      // (PutItem, UpdateItem, GetItem after a failed condition), audit events and notifications (PutItem).
      {
        actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        on: ['runTable', 'runTable/index/byPipeline'],
      },
      CATALOG_ENTRY_READ,
      PUT_ON_SOURCE_BUS,
      { actions: ['secretsmanager:GetSecretValue'], on: ['linkKeySecret'] },
    ],
  },
  approvalDecisions: {
    entry: 'lambdas/approval-decisions.ts',
    id: 'ApprovalDecisions',
    localName: 'stepline-approval-decisions',
    description: 'stepline: decides release gates (Slack, email links, CLI) and sweeps open ones',
    // The HTTP API answers 503 after its 30 s integration timeout; the sweep's round over every open gate
    // may need longer.
    timeoutSeconds: 60,
    settings: [
      'catalogPath',
      'sourceBusName',
      'approvalsUrl',
      'linkKeySecretId',
      'slackSigningSecretId',
      'deployFunctionArn',
    ],
    invokedBy: [
      { by: 'httpApi' },
      {
        by: 'schedule',
        id: 'SweepRule',
        description: 'stepline: expires overdue release gates, releases held ones, heartbeats waiting tasks',
        input: { kind: 'sweep' },
        everyMinutes: 5,
        locallyEverySeconds: 5,
      },
    ],
    grants: [
      // Runs and gates (GetItem), decisions, used links, audit events and notifications (conditional
      // PutItem), the gate's moves and resumes (UpdateItem), a run's decisions and audit (Query on the key)
      // and the open gates (Query on the active index).
      {
        actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        on: ['runTable', 'runTable/index/active'],
      },
      CATALOG_ENTRY_READ,
      PUT_ON_SOURCE_BUS,
      { actions: ['secretsmanager:GetSecretValue'], on: ['linkKeySecret', 'slackSigningSecret'] },
      // Operators' controls (promote, pause, resume, abort) go to the deploy function, synchronously.
      { actions: ['lambda:InvokeFunction'], on: ['deployFunction'] },
    ],
    grantsOnAnyResource: [
      {
        id: 'TaskTokens',
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
        why: 'Task-token callbacks name no resource ARN: the Service Authorization Reference lists no resource type for states:SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat, so "*" is the narrowest resource it documents; the token itself names the task. Only this function holds them in the whole app (a test checks it).',
      },
    ],
  },
  runControl: {
    entry: 'lambdas/run-control.ts',
    id: 'RunControl',
    localName: 'stepline-run-control',
    description: 'stepline: cancels and redrives runs (stepline cancel, stepline redrive)',
    // Under the HTTP API's 30 s integration timeout.
    timeoutSeconds: 29,
    settings: ['catalogPath', 'sourceBusName'],
    invokedBy: [
      {
        by: 'httpApi',
        cliRoutes: [
          `POST ${RUN_CONTROL_ROUTES.runs}/{runId}/cancel`,
          `POST ${RUN_CONTROL_ROUTES.runs}/{runId}/redrive`,
        ],
      },
    ],
    grants: [
      // The run and its stages (GetItem, Query on the key), the run's cancel, reopen and stage writes (conditional
      // UpdateItem), the gate's audit event (UpdateItem, PutItem), the lane (GetItem, Query, UpdateItem, DeleteItem).
      {
        actions: [
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
        ],
        on: ['runTable'],
      },
      CATALOG_ENTRY_READ,
      // A redrive's execution, and the next run of a cancelled run's lane.
      START_PIPELINE_EXECUTIONS,
      {
        actions: ['states:StopExecution', 'states:GetExecutionHistory'],
        on: ['pipelineExecutions'],
        why: "A cancel stops its run's execution, a redrive reads the failed execution's history: executions of stepline's machines only (stepline-<pipeline>:<run>).",
      },
      // RunEnded for a cancelled run.
      PUT_ON_SOURCE_BUS,
    ],
  },
  manualRuns: {
    entry: 'lambdas/manual-runs.ts',
    id: 'ManualRuns',
    localName: 'stepline-manual-runs',
    description: 'stepline: starts runs by hand (stepline release, stepline rerun) through the platform bus',
    // Under the HTTP API's 30 s integration timeout; it waits at most 5 s for the starter's record.
    timeoutSeconds: 20,
    settings: ['catalogPath', 'sourceBusName'],
    invokedBy: [
      {
        by: 'httpApi',
        cliRoutes: [`POST ${RUN_CONTROL_ROUTES.runs}/{runId}/rerun`, `POST ${RUN_CONTROL_ROUTES.releases}/{pipeline}`],
      },
    ],
    grants: [
      // The run to re-run and the new run's record (GetItem); a GitHub pipeline's recorded commits (Query on
      // byPipeline, which the calls-versus-grants test reads as a Query on the table and the index).
      { actions: ['dynamodb:GetItem'], on: ['runTable'] },
      { actions: ['dynamodb:Query'], on: ['runTable', 'runTable/index/byPipeline'] },
      CATALOG_ENTRY_READ,
      PUT_ON_SOURCE_BUS,
      {
        actions: ['codecommit:GetBranch', 'codecommit:GetCommit'],
        on: ['codecommitRepositories'],
        why: "A release reads the head of a CodeCommit pipeline's branch and proves its commit exists. Repositories are the users' own, named freely; as for the run starter, one statement per repository on this shared role would outgrow IAM's inline policy limit, so the grant is these two read actions on the account's repositories in this Region.",
      },
    ],
  },
} as const satisfies Record<PlatformFunctionName, PlatformFunctionDeclaration>;

type DeclaredInvocation = (typeof PLATFORM_FUNCTIONS)[PlatformFunctionName]['invokedBy'][number];

/** The `${substitution}`s of the pipeline definition, each naming the function its Tasks invoke. */
export type TaskSubstitution = Extract<DeclaredInvocation, { by: 'task' }>['substitution'];

/** Every function pipeline state machines' Tasks invoke, by the substitution that names it. */
export function taskFunctions(): readonly {
  readonly substitution: TaskSubstitution;
  readonly name: PlatformFunctionName;
}[] {
  return platformFunctionNames().flatMap((name) =>
    PLATFORM_FUNCTIONS[name].invokedBy.flatMap((invocation: PlatformInvocation) =>
      invocation.by === 'task' ? [{ substitution: invocation.substitution as TaskSubstitution, name }] : [],
    ),
  );
}

/** The declared functions' names, in declaration order. */
export function platformFunctionNames(): readonly PlatformFunctionName[] {
  return Object.keys(PLATFORM_FUNCTIONS) as PlatformFunctionName[];
}

/**
 * The functions the pipeline stacks name: those their state machines' Tasks invoke (no pipeline has a
 * rule of its own). The platform stack publishes each one's ARN as an SSM parameter (functionArnParameterName).
 */
export function functionsPipelinesInvoke(): readonly PlatformFunctionName[] {
  return platformFunctionNames().filter((name) =>
    PLATFORM_FUNCTIONS[name].invokedBy.some(({ by }: PlatformInvocation) => by === 'task'),
  );
}

/**
 * The SSM parameter holding a function's ARN, through which pipeline stacks find it:
 * `/stepline/platform/<local name without "stepline-">-function-arn`. Deployed pipeline stacks read
 * these names: renaming one (or a function's localName) breaks them until they are deployed again.
 */
export function functionArnParameterName(name: PlatformFunctionName): string {
  return `${PLATFORM_PARAMETER_PATH}/${PLATFORM_FUNCTIONS[name].localName.slice(RESOURCE_PREFIX.length)}-function-arn`;
}
