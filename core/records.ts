/**
 * The data of stepline: every record the run store keeps and every event that moves a run forward.
 * Handlers, the store, the CDK app, the CLI and local mode all import these types; nothing redefines them.
 */
import type { TrafficStep } from './deployment/config';

/**
 * A run moves QUEUED → RUNNING → SUCCEEDED | FAILED, never backwards but for a redrive (FAILED → RUNNING, recorded
 * in `redrives`). A push that the pipeline's filters drop is recorded SKIPPED from the start, with the reason. A run
 * waiting its turn in a SUPERSEDED pipeline is SUPERSEDED when a newer push's run starts instead of it. A run its
 * release gate stopped is REJECTED (an approver said no) or EXPIRED (nobody decided before the deadline). A run
 * someone stopped (`stepline cancel`) is CANCELLED, with who and why.
 */
export type RunStatus =
  'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED' | 'SUPERSEDED' | 'REJECTED' | 'EXPIRED' | 'CANCELLED';

/**
 * How a pipeline's runs share it: QUEUED, one at a time in push order; SUPERSEDED, one at a time, and
 * when the running one ends only the newest waiting run starts (the others are SUPERSEDED);
 * PARALLEL, each run starts at once.
 */
export type ExecutionMode = 'QUEUED' | 'SUPERSEDED' | 'PARALLEL';
/** A stage moves PENDING → IN_PROGRESS → SUCCEEDED | FAILED, never backwards. */
export type StageStatus = 'PENDING' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';

export const RUN_TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  QUEUED: ['RUNNING', 'FAILED', 'SUPERSEDED', 'CANCELLED'],
  RUNNING: ['SUCCEEDED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELLED'],
  SUCCEEDED: [],
  /** A redrive reopens a FAILED run, by a write of its own (conditional on FAILED), never by a transition. */
  FAILED: [],
  SKIPPED: [],
  SUPERSEDED: [],
  REJECTED: [],
  EXPIRED: [],
  CANCELLED: [],
};

/** Every run status, in the order a run can reach them. */
export const RUN_STATUSES = Object.keys(RUN_TRANSITIONS) as RunStatus[];

export const STAGE_TRANSITIONS: Readonly<Record<StageStatus, readonly StageStatus[]>> = {
  PENDING: ['IN_PROGRESS', 'FAILED'],
  IN_PROGRESS: ['SUCCEEDED', 'FAILED'],
  SUCCEEDED: [],
  FAILED: [],
};

export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ['QUEUED', 'RUNNING'];

/** The statuses from which `to` may be reached: what a conditional write checks. */
export function predecessors<S extends string>(transitions: Readonly<Record<S, readonly S[]>>, to: S): S[] {
  return (Object.keys(transitions) as S[]).filter((from) => transitions[from].includes(to));
}

/** How the push reached stepline; `manual` is a run started by hand (`stepline release`, `stepline rerun`). */
export type TriggerKind = 'codecommit' | 'github' | 'manual';

/** What started a run: the delivery that carried the push. */
export interface Trigger {
  readonly kind: TriggerKind;
  /**
   * The id of the delivery that carried the push: the EventBridge event id of a CodeCommit push,
   * the `X-GitHub-Delivery` of a GitHub one. A redelivery carries the same id.
   */
  readonly deliveryId: string;
  /** When the source event happened (ISO 8601). */
  readonly eventTime: string;
  /** Who pushed: an IAM ARN for CodeCommit, a login for GitHub; for a manual run, who started it. */
  readonly pushedBy?: string;
  /** For a re-run (`stepline rerun`): the run whose commit it runs again. */
  readonly rerunOf?: string;
}

export interface Person {
  readonly name: string;
  readonly email: string;
}

export interface CommitRef {
  readonly repository: string;
  readonly branch: string;
  readonly id: string;
  readonly author?: Person;
  readonly message?: string;
  /** When the commit was made (its committer date, ISO 8601), when the source says: where lead time starts. */
  readonly committedAt?: string;
}

/** Where a stage's log lives: a CloudWatch Logs stream on AWS, a file in local mode. */
export interface LogPointer {
  readonly groupName?: string;
  readonly streamName?: string;
  readonly deepLink?: string;
}

/** A test case that did not pass, as CodeBuild's DescribeTestCases names it. */
export interface FailedTest {
  readonly name: string;
  /** The test suite, and the class or file prefix where the report gives one. */
  readonly suite?: string;
  readonly status: 'FAILED' | 'ERROR';
  /** The first lines of its failure message, without colour codes. */
  readonly message?: string;
}

export interface TestSummary {
  readonly total: number;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  /** Test cases in other states (ERROR, UNKNOWN). */
  readonly other: number;
  readonly durationMs: number;
  readonly reports: readonly string[];
  /** The first test cases that failed or erred (at most MAX_FAILED_TESTS). */
  readonly failures?: readonly FailedTest[];
}

export interface Failure {
  /** The stage that failed, when a stage did. */
  readonly stage?: string;
  readonly error: string;
  readonly cause: string;
  /** The last lines of the failing stage's log, without colour codes. */
  readonly logTail?: readonly string[];
  /** The failing stage's failed test cases, when its reports name them. */
  readonly failedTests?: readonly FailedTest[];
}

export interface RunRecord {
  readonly runId: string;
  readonly pipeline: string;
  readonly status: RunStatus;
  readonly commit: CommitRef;
  readonly trigger: Trigger;
  /** Step Functions execution name; equal to runId. */
  readonly executionName: string;
  readonly executionArn?: string;
  /** The stages this run was planned with, in display order. */
  readonly stageNames: readonly string[];
  readonly createdAt: string;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly durationMs?: number;
  readonly failure?: Failure;
  /** Why the pipeline's filters dropped the push, for a SKIPPED run. */
  readonly skipReason?: string;
  /** The newer run that started instead of this one, for a SUPERSEDED run. */
  readonly supersededBy?: string;
  /**
   * The paths the push changed, when known (the push listed them, or the source was asked because
   * path filters or a release gate need them); absent when unknown.
   */
  readonly changedFiles?: readonly string[];
  /** For a CANCELLED run: who stopped it, why and when. */
  readonly cancelled?: { readonly by: string; readonly reason: string; readonly at: string };
  /** Each redrive of this run, oldest first: who asked, from which state, and the execution that resumed it. */
  readonly redrives?: readonly Redrive[];
}

/** A FAILED run resumed at the state that failed (`stepline redrive`). */
export interface Redrive {
  readonly by: string;
  readonly at: string;
  /** The state the run resumed at (its name in the console). */
  readonly fromState: string;
  readonly executionArn: string;
}

export interface StageRecord {
  readonly runId: string;
  readonly name: string;
  readonly status: StageStatus;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly durationMs?: number;
  readonly buildId?: string;
  readonly logs?: LogPointer;
  readonly tests?: TestSummary;
  readonly failure?: Failure;
}

/** One stage of a run's plan: its name and the build project that runs it. */
export interface StagePlan {
  readonly name: string;
  readonly project: string;
}

/** The input of a pipeline execution: everything the state machine needs, nothing the store can give later. */
export interface RunInput {
  readonly runId: string;
  readonly pipeline: string;
  readonly commit: Pick<CommitRef, 'repository' | 'branch' | 'id'>;
  readonly stages: {
    readonly build: StagePlan;
    readonly tests: readonly StagePlan[];
    /** How many test stages build at once (the Map's MaxConcurrencyPath); 0 = all. */
    readonly testConcurrency: number;
  };
  /** Present when the pipeline releases to Lambda after its gate. */
  readonly deploy?: true;
  /** Present when the pipeline deploys to a staging target before its gate. */
  readonly staging?: true;
}

/** A pipeline's notifications (core/config/stepline-config.ts), as its catalog entry carries them. */
export interface NotificationSettings {
  readonly on: { readonly failed: boolean; readonly fixed: boolean; readonly succeeded: boolean };
  readonly slack?: { readonly webhookUrlSecret: string };
  readonly email?: { readonly from: string; readonly to: readonly string[] };
  readonly githubStatuses?: { readonly tokenSecret: string };
}

/** Run events on the platform's bus (source `stepline.runs`), sent by the recorder; the notifier listens. */
export interface RunEvent {
  /**
   * ApprovalRequested / ApprovalDecided: the gate recorded its requests / its outcome as
   * notifications, ready to deliver.
   */
  readonly kind:
    | 'RunStarted'
    | 'RunEnded'
    | 'ApprovalRequested'
    | 'ApprovalDecided'
    /** A stage, the gate or the deployment changed: what a live console redraws (the notifier ignores them). */
    | 'StageChanged'
    | 'GateChanged'
    | 'DeploymentChanged';
  readonly runId: string;
  readonly pipeline: string;
}

export type NotificationChannel = 'slack' | 'email' | 'github';
export type NotificationStatus = 'PENDING' | 'SENDING' | 'DELIVERED' | 'FAILED';

/** One attempt to deliver a notification, as recorded. */
export interface DeliveryAttempt {
  readonly at: string;
  readonly outcome: 'DELIVERED' | 'FAILED';
  readonly error?: string;
}

/**
 * A notification, kept in its run's partition: recorded before it is sent, so that a crash cannot
 * lose it, and claimed with a conditional write before each attempt, so that no two senders post it.
 */
export interface NotificationRecord {
  readonly runId: string;
  /** `<channel>:<what>`, e.g. `slack:ended`, `github:started:build`: unique within the run. */
  readonly id: string;
  readonly channel: NotificationChannel;
  readonly status: NotificationStatus;
  /** What is sent, whole: the Slack payload, the email, the commit status. */
  readonly message: Record<string, unknown>;
  readonly createdAt: string;
  readonly attempts: readonly DeliveryAttempt[];
  /** While SENDING: when the claim lapses (a sender that crashed mid-send). */
  readonly claimedUntil?: string;
}

/** A run waiting for its turn in its pipeline (QUEUED and SUPERSEDED modes), with what starts it. */
export interface WaitingRun {
  readonly pipeline: string;
  readonly runId: string;
  /** Push order: the push's time, then the run id, as a sortable string. */
  readonly order: string;
  readonly stateMachineArn: string;
  readonly input: RunInput;
}

/** How an execution ended, as Step Functions reports it on EventBridge. */
export type ExecutionEndStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/**
 * One push to one pipeline's source, whatever the source: the detail of the `SourceChanged` event on
 * the platform's bus (core/sources/source-events.ts), and what the run starter takes. Fields a source does
 * not carry are absent: a CodeCommit event names no author, message or files (the starter reads them
 * from CodeCommit); a GitHub push carries them all.
 */
export interface SourceChanged {
  readonly pipeline: string;
  /** The CodeCommit repository name, or `owner/repo` on GitHub. */
  readonly repository: string;
  /** The pushed branch, or tag for a tag push. */
  readonly branch: string;
  readonly referenceType: 'branch' | 'tag';
  readonly commitId: string;
  /** The commit the branch pointed at before the push; absent when the push created the branch. */
  readonly parentCommitId?: string;
  readonly author?: Person;
  readonly message?: string;
  /** When the commit was made (ISO 8601), when the source says: a GitHub push's `head_commit.timestamp`. */
  readonly committedAt?: string;
  /**
   * Paths the push changed (added, modified, removed); absent when the source does not list them or
   * its list may be cut short, so that path filters never skip a push on a partial list.
   */
  readonly changedFiles?: readonly string[];
  readonly trigger: Trigger;
}

/** A Step Functions task error as Catch hands it over. */
export interface TaskError {
  readonly Error: string;
  readonly Cause?: string;
}

/** Events the state machine sends to the progress recorder, one per step of a run. */
export type ProgressEvent =
  | { readonly kind: 'runStarted'; readonly runId: string; readonly executionArn: string; readonly startedAt: string }
  | { readonly kind: 'stageStarted'; readonly runId: string; readonly stage: string }
  | { readonly kind: 'stageSucceeded'; readonly runId: string; readonly stage: string; readonly buildId: string }
  | { readonly kind: 'stageFailed'; readonly runId: string; readonly stage: string; readonly error: TaskError }
  | { readonly kind: 'runSucceeded'; readonly runId: string }
  | { readonly kind: 'runFailed'; readonly runId: string; readonly error?: TaskError }
  /** The release gate stopped the run: an approver rejected it, or its deadline passed. */
  | { readonly kind: 'runRejected' | 'runExpired'; readonly runId: string; readonly error?: TaskError }
  /** Sent by the execution status rule (not the state machine) when an execution ends, however it ends. */
  | { readonly kind: 'executionEnded'; readonly runId: string; readonly status: ExecutionEndStatus }
  /** Sent on a schedule: catches up with executions whose status event was lost (delivered best effort). */
  | { readonly kind: 'sweep' };

/** How the release gate judged a change (core/approval/policy.ts decides which, by the pipeline's rules). */
export const RISK_CLASSES = ['standard', 'normal', 'high'] as const;
export type RiskClass = (typeof RISK_CLASSES)[number];

/**
 * A release gate's life: PENDING once the change is assessed (nobody asked yet), WAITING once its
 * execution waits on it and approvers are asked, HELD when approved during a freeze (it opens with the
 * change window), then APPROVED, REJECTED or EXPIRED. A standard change is APPROVED at once.
 */
export type ApprovalStatus = 'PENDING' | 'WAITING' | 'HELD' | 'APPROVED' | 'REJECTED' | 'EXPIRED';

export const APPROVAL_TRANSITIONS: Readonly<Record<ApprovalStatus, readonly ApprovalStatus[]>> = {
  PENDING: ['WAITING', 'EXPIRED'],
  WAITING: ['HELD', 'APPROVED', 'REJECTED', 'EXPIRED'],
  HELD: ['APPROVED', 'REJECTED', 'EXPIRED'],
  APPROVED: [],
  REJECTED: [],
  EXPIRED: [],
};
export const OPEN_APPROVAL_STATUSES: readonly ApprovalStatus[] = ['PENDING', 'WAITING', 'HELD'];

/** One commit of a change: a run of the pipeline since its last release (its head commit). */
export interface ChangeCommit {
  readonly runId: string;
  readonly id: string;
  readonly author?: Person;
  readonly message?: string;
  /** Who pushed it (an IAM ARN, a GitHub login): the authenticated side of authorship. */
  readonly pushedBy?: string;
  /** When it was committed (the run's `commit.committedAt`), when the source said: where its lead time starts. */
  readonly committedAt?: string;
  /** When it was pushed (the run's `trigger.eventTime`): lead time's start when the commit time is unknown. */
  readonly pushedAt?: string;
}

/** A test stage's result as the change record shows it. */
export interface ChangeTestResult {
  readonly stage: string;
  readonly status: StageStatus;
  readonly tests?: Pick<TestSummary, 'total' | 'passed' | 'failed' | 'skipped'>;
}

/**
 * The change record: what a release would ship and how the policy judged it, written once when the
 * gate opens. With its decisions and audit trail it is the evidence a change-advisory process keeps.
 */
export interface ChangeRecord {
  readonly runId: string;
  readonly pipeline: string;
  readonly branch: string;
  /** From the last released commit (absent before the first release) to this run's commit. */
  readonly commitRange: { readonly from?: string; readonly to: string };
  /** The pipeline's runs since its last release, newest first: their head commits. */
  readonly commits: readonly ChangeCommit[];
  /** The changed files (at most MAX_CHANGE_FILES listed); absent when some run's files are unknown. */
  readonly changedFiles?: readonly string[];
  readonly changedFileCount?: number;
  readonly tests: readonly ChangeTestResult[];
  readonly risk: { readonly class: RiskClass; readonly reasons: readonly string[] };
  /** What the class requires: how many distinct approvers, from which group (any approver if none). */
  readonly required: { readonly approvals: number; readonly group?: string };
  /** The approvers asked (ids), authors of the change excluded. */
  readonly asked: readonly string[];
  /** The release target the gate guards (e.g. production), when the policy names one. */
  readonly target?: string;
  readonly openedAt: string;
  /** The gate expires at this time; enforced from the store and clock as well as by the Task timeout. */
  readonly deadline: string;
}

export interface ApprovalRecord extends ChangeRecord {
  readonly status: ApprovalStatus;
  /** The execution's task token (WAITING and later): never leaves the platform. */
  readonly taskToken?: string;
  /** Approver ids whose approval counted, in order. */
  readonly approvedBy?: readonly string[];
  /** While HELD: the freeze that holds it and when the window opens. */
  readonly heldBy?: { readonly freeze: string; readonly until?: string };
  readonly decidedAt?: string;
  /** Why it ended: the rejection's reason, the expiry, the override's reason. */
  readonly outcome?: string;
  /** An emergency override: it passed a freeze or the approvals; reviewed after the release. */
  readonly override?: { readonly by: string; readonly reason: string; readonly at: string };
  readonly postImplementationReview?: boolean;
  /** When the execution was told the outcome (SendTaskSuccess/Failure); absent until it was. */
  readonly resumedAt?: string;
}

/** Where a decision came from. */
export type DecisionChannel = 'slack' | 'email' | 'cli';

/** One approver's decision on a gate: recorded once per approver (a second click counts once). */
export interface ApprovalDecision {
  readonly runId: string;
  readonly approverId: string;
  readonly decision: 'approve' | 'reject' | 'override';
  readonly reason?: string;
  readonly via: DecisionChannel;
  /** Who the channel says decided: a Slack user id, an email address, an IAM ARN. */
  readonly principal: string;
  readonly at: string;
  /** Given by local mode's demo approver (no terminal to ask a person at), not by a person. */
  readonly demo?: boolean;
}

export type AuditKind =
  | 'gate-opened'
  | 'passed-as-standard'
  | 'approval-requested'
  | 'decision-recorded'
  | 'decision-repeated'
  | 'decision-refused'
  | 'held-for-window'
  | 'released-by-window'
  | 'override'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'execution-resumed'
  /** The run was cancelled while its gate was open (`stepline cancel`): the gate ends with its run. */
  | 'run-cancelled';

/** One entry of a gate's audit trail: every request, decision, refusal, hold, override and ending, in order. */
export interface AuditEvent {
  readonly runId: string;
  readonly at: string;
  /** The event's place in its gate's trail (1, 2, …, zero-padded): assigned by the store. */
  readonly seq?: string;
  readonly event: AuditKind;
  /** The approver id or principal it concerns, when one does. */
  readonly actor?: string;
  readonly via?: DecisionChannel | 'policy' | 'clock';
  readonly detail: string;
}

/**
 * A release to Lambda after the gate (core/deployment/protocol.ts): IN_PROGRESS while traffic moves (PAUSED when an
 * operator holds it), then SUCCEEDED, or ROLLING_BACK → ROLLED_BACK; REFUSED when it could not start.
 */
export type DeploymentStatus = 'IN_PROGRESS' | 'PAUSED' | 'ROLLING_BACK' | 'ROLLED_BACK' | 'SUCCEEDED' | 'REFUSED';

/** An alarm as the deployment saw it, and when. */
export interface AlarmSeen {
  readonly name: string;
  readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  readonly reason?: string;
  /** The newest datapoint the alarm evaluated, when it says: how a hotfix is judged not to make things worse. */
  readonly value?: number;
  readonly at: string;
}

/** A step as it was taken: the new version's weight on the alias from this time (1: promoted). */
export interface StepTaken {
  readonly step: number;
  readonly weight: number;
  readonly at: string;
}

/** Someone stepped in: promote, pause, resume or abort, with who and why. */
export interface Intervention {
  readonly action: 'promote' | 'pause' | 'resume' | 'abort';
  readonly by: string;
  readonly reason: string;
  readonly at: string;
}

export interface DeploymentRecord {
  readonly runId: string;
  readonly pipeline: string;
  readonly function: string;
  readonly alias: string;
  /** The version the alias pointed to before: what a rollback restores. */
  readonly fromVersion: string;
  readonly toVersion?: string;
  readonly steps: readonly TrafficStep[];
  /** The step whose weight is on the alias (-1 before any traffic moved). */
  readonly step: number;
  readonly status: DeploymentStatus;
  readonly alarms: readonly string[];
  /** Alarms already in ALARM at the start, when the policy let the deployment through as a hotfix. */
  readonly hotfix?: { readonly firing: readonly string[] };
  readonly alarmsSeen: readonly AlarmSeen[];
  readonly interventions: readonly Intervention[];
  /** When the current (or last) pause began: how long it has held is measured from here. */
  readonly pausedAt?: string;
  /** How long a pause may hold before the deployment is rolled back (absent: the default, 24 h). */
  readonly maxPauseHours?: number;
  /** Every step taken, with its weight and time, the promotion last. */
  readonly stepsTaken?: readonly StepTaken[];
  readonly startedAt: string;
  readonly endedAt?: string;
  /** Why it ended as it did: promoted, the alarm that rolled it back and its reason, the refusal. */
  readonly outcome?: string;
}

/**
 * Kinds of item kept in a run's partition. Approvals, deployments and audit events share the run's
 * partition so that one query reads a run's whole history.
 */
export type RunItemKind = 'RUN' | 'STAGE' | 'NOTIFICATION' | 'APPROVAL' | 'DECISION' | 'LINK' | 'DEPLOYMENT' | 'AUDIT';
