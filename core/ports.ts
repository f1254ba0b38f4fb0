/**
 * What the core needs from the outside world, as interfaces. The AWS implementations live in
 * `lambdas/adapters/` (SDK v3 clients); local mode points those same clients at local endpoints.
 */
import type { PipelineCatalogEntry } from './catalog';
import type {
  LogPointer,
  Person,
  RunInput,
  RunRecord,
  RunStatus,
  RunEvent,
  SourceChanged,
  DeliveryAttempt,
  ExecutionEndStatus,
  NotificationRecord,
  NotificationSettings,
  WaitingRun,
  ApprovalDecision,
  ApprovalRecord,
  ApprovalStatus,
  AuditEvent,
  DeploymentRecord,
  DeploymentStatus,
  Intervention,
  StepTaken,
  StageRecord,
  StageStatus,
  TestSummary,
} from './records';

type Mutable<T> = { -readonly [K in keyof T]?: T[K] };
export type RunUpdate = Omit<Mutable<RunRecord>, 'runId' | 'pipeline' | 'status' | 'createdAt'>;
export type StageUpdate = Omit<Mutable<StageRecord>, 'runId' | 'name' | 'status'>;

/** The run store as the core uses it (implemented by `store/run-store.ts`). */
export interface RunRepository {
  /** Throws RunAlreadyExistsError when the run exists. */
  createRun(run: RunRecord): Promise<RunRecord>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  listStages(runId: string): Promise<StageRecord[]>;
  transitionRun(runId: string, to: RunStatus, fields?: RunUpdate): Promise<RunRecord>;
  transitionStage(runId: string, stage: string, to: StageStatus, fields?: StageUpdate): Promise<StageRecord>;
}

/**
 * Each pipeline's lane (QUEUED and SUPERSEDED modes): which run holds it, and the runs waiting for
 * it in push order. Every change is one conditional write, so concurrent starters and recorders
 * agree without a lock (implemented by `store/run-store.ts`).
 */
export interface RunLanes {
  /** Adds a run to its pipeline's waiting runs; adding it again changes nothing. */
  enqueue(run: WaitingRun): Promise<void>;
  /** The pipeline's waiting runs, oldest push first. */
  waiting(pipeline: string): Promise<WaitingRun[]>;
  /** Removes a waiting run; false when it was not waiting (another writer removed it). */
  dequeue(run: WaitingRun): Promise<boolean>;
  /** The run that holds the lane, with what starts it; undefined when the lane is free. */
  holder(pipeline: string): Promise<WaitingRun | undefined>;
  /** Takes the free lane for a run (or finds it already taken for that run); false when another holds it. */
  acquire(run: WaitingRun): Promise<boolean>;
  /** Frees the lane if `runId` holds it; false otherwise. */
  release(pipeline: string, runId: string): Promise<boolean>;
}

/** A finished build as the recorder needs it (CodeBuild BatchGetBuilds + BatchGetReports). */
export interface BuildDetails {
  readonly id: string;
  readonly status: string;
  readonly startTime?: Date;
  readonly endTime?: Date;
  readonly logs?: LogPointer;
  /** The first phase that did not succeed, with CodeBuild's context for it. */
  readonly failedPhase?: { readonly type: string; readonly status: string; readonly context?: string };
  readonly tests?: TestSummary;
  /** Where the build's primary artifact is: `s3://bucket/key` (a zip) on AWS, `file://` (a directory) locally. */
  readonly artifact?: string;
}

export interface BuildInspector {
  describeBuild(buildId: string): Promise<BuildDetails>;
  /** The last `lines` lines of a build's log; empty when the log cannot be read. */
  logTail(logs: LogPointer, lines: number): Promise<string[]>;
}

export interface CommitReader {
  /**
   * Author and message of a commit; undefined fields when the source does not say. Throws
   * CommitNotFoundError when the repository has no such commit.
   */
  getCommit(
    repository: string,
    commitId: string,
  ): Promise<{ author?: Person; message?: string; parents?: string[]; committedAt?: string }>;
  /**
   * The paths of the files that differ between two commits (added, changed, deleted or renamed);
   * with no `before`, every file of `after` (a root commit).
   */
  changedFiles(repository: string, before: string | undefined, after: string): Promise<string[]>;
}

/** Where a repository's branch points (CodeCommit GetBranch). */
export interface BranchHeads {
  /** The commit at the head of `branch`. Throws BranchNotFoundError when the repository or the branch does not exist. */
  head(repository: string, branch: string): Promise<string>;
}

export interface ExecutionStarter {
  /**
   * Starts an execution named `name`; resolves with its ARN. Starting a name that already exists
   * is not an error: it resolves with `alreadyStarted: true` (a duplicate delivery).
   */
  start(request: { stateMachineArn: string; name: string; input: RunInput }): Promise<{
    executionArn: string;
    alreadyStarted: boolean;
  }>;
  /** An execution's status; undefined when there is no such execution (never started). */
  status(executionArn: string): Promise<'RUNNING' | ExecutionEndStatus | undefined>;
}

/** The deployed pipelines, as their stacks published them (one SSM parameter each on AWS). */
export interface PipelineCatalog {
  /** The pipeline's entry; undefined when no such pipeline is deployed. */
  lookup(pipeline: string): Promise<PipelineCatalogEntry | undefined>;
}

/** The whole catalog: what a receiver reads to learn which pipelines follow a repository. */
export interface CatalogListing {
  /** Every deployed pipeline's entry, by pipeline name. */
  list(): Promise<ReadonlyMap<string, PipelineCatalogEntry>>;
}

/** A pipeline's runs, newest first, a page at a time (the run store's byPipeline index). */
export interface RunHistory {
  listRuns(
    pipeline: string,
    options?: { limit?: number; cursor?: string },
  ): Promise<{ items: RunRecord[]; cursor?: string }>;
  /** Runs still QUEUED or RUNNING, oldest first. */
  listActiveRuns(options?: { limit?: number; cursor?: string }): Promise<{ items: RunRecord[]; cursor?: string }>;
}

/** Notification records in the run store (implemented by `store/run-store.ts`). */
export interface NotificationStore {
  /** Records a notification; when it exists already, resolves with the existing record unchanged. */
  recordNotification(notification: NotificationRecord): Promise<NotificationRecord>;
  /**
   * Claims a notification for one delivery attempt: true when it was PENDING or FAILED (or SENDING by
   * a claim that lapsed at `now`) and has had fewer than `maxAttempts` attempts; false otherwise.
   */
  claimNotification(runId: string, id: string, now: Date, claimUntil: Date, maxAttempts: number): Promise<boolean>;
  /** Records the claimed attempt's outcome: DELIVERED, or FAILED with the error. */
  recordAttempt(runId: string, id: string, attempt: DeliveryAttempt): Promise<void>;
  listNotifications(runId: string): Promise<NotificationRecord[]>;
}

/** Delivers one notification on its channel (Slack, SES, GitHub on AWS; the outbox locally). */
export interface NotificationSender {
  /** Resolves when delivered; throws DeliveryError (core/errors.ts) otherwise. */
  send(notification: NotificationRecord, settings: NotificationSettings): Promise<void>;
}

/** Puts run events on the platform's bus, for the notifier. */
export interface RunEventPublisher {
  publish(event: RunEvent): Promise<void>;
}

/** Puts SourceChanged events on the platform's bus (EventBridge PutEvents on AWS). */
export interface SourceEventPublisher {
  /** Resolves when every event is on the bus; throws when any was refused. */
  publish(events: readonly SourceChanged[]): Promise<void>;
}

export type Clock = () => Date;

/**
 * How long a wait that a policy sets (a release gate's time to expire) lasts where the platform runs, in
 * ms: on AWS as long as the policy says; in local mode shortened by its time scale. The clock is never
 * scaled: a deadline is the real instant the wait ends.
 */
export type WaitLength = (ms: number) => number;

export type ApprovalUpdate = Omit<Mutable<ApprovalRecord>, 'runId' | 'status'>;

/**
 * Release gates in the run store (implemented by `store/run-store.ts`), in the run's partition: the
 * approval (change record and gate), one decision per person, used links and the audit trail.
 */
export interface ApprovalStore {
  /** Records a gate; when the run has one already (a retried Task), resolves with it unchanged. */
  createApproval(approval: ApprovalRecord): Promise<ApprovalRecord>;
  getApproval(runId: string): Promise<ApprovalRecord | undefined>;
  /**
   * Moves a gate forward (a conditional write); throws InvalidTransitionError when it cannot. A gate
   * already at `to` counts as moved (a retried Task), unless `from` is given: then the write holds only
   * from that status, so of two writers that read the gate there, one moves it and the other is refused
   * even when the gate is now where it was going (only the writer that ends a gate resumes its execution).
   */
  transitionApproval(
    runId: string,
    to: ApprovalStatus,
    fields?: ApprovalUpdate,
    from?: ApprovalStatus,
  ): Promise<ApprovalRecord>;
  /** Records that the execution was told the gate's outcome. */
  markResumed(runId: string, at: string): Promise<void>;
  /**
   * A new task token for a gate past PENDING (its Task ran again: a retry, or a redrive after a
   * restart): it replaces the old one, and an ended gate's outcome is owed to it again (the sweep
   * sends it).
   */
  replaceTaskToken(runId: string, taskToken: string): Promise<ApprovalRecord>;
  /**
   * Records a person's decision unless they decided before (approve, reject and override each once);
   * resolves with the earlier decision when there was one, and records nothing then.
   */
  recordDecision(decision: ApprovalDecision): Promise<ApprovalDecision | undefined>;
  listDecisions(runId: string): Promise<ApprovalDecision[]>;
  /** Marks a signed link used; false when it was used before. */
  useLink(runId: string, nonce: string, at: string): Promise<boolean>;
  appendAudit(event: AuditEvent): Promise<void>;
  /** A gate's audit trail in the order it happened. */
  listAudit(runId: string): Promise<AuditEvent[]>;
}

/** Resumes an execution waiting on a task token (SendTaskSuccess / SendTaskFailure on AWS). */
export interface TaskResumer {
  /** 'ended' when the task had ended already (timed out, or the execution stopped). */
  succeed(taskToken: string, output: Record<string, unknown>): Promise<'resumed' | 'ended'>;
  fail(taskToken: string, error: string, cause: string): Promise<'resumed' | 'ended'>;
  /** Tells the waiting task the gate is alive (its HeartbeatSeconds restarts). */
  heartbeat(taskToken: string): Promise<'resumed' | 'ended'>;
}

/** Deployments in the run store, one per run; every status change a conditional write. */
export interface DeploymentStore {
  /** Records a run's deployment; when it exists (a retried Task), resolves with it unchanged. */
  createDeployment(deployment: DeploymentRecord): Promise<DeploymentRecord>;
  getDeployment(runId: string): Promise<DeploymentRecord | undefined>;
  /** Moves the deployment from one of `from` to `to`; undefined when it was in none of them. */
  moveDeployment(
    runId: string,
    from: readonly DeploymentStatus[],
    to: DeploymentStatus,
    fields?: Partial<DeploymentRecord>,
  ): Promise<DeploymentRecord | undefined>;
  /** Records that a step's weight is on the alias, and when (only while IN_PROGRESS or PAUSED). */
  recordStep(runId: string, step: number, entry: StepTaken): Promise<void>;
  /** Appends an operator's intervention to the record. */
  recordIntervention(runId: string, intervention: Intervention): Promise<void>;
}
