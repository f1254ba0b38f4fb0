/**
 * The run store: runs and their stages, notifications, lanes, release gates and deployments in one
 * DynamoDB table (store/schema.ts), shared by the Lambda handlers, the CLI and local mode. It
 * implements every store port of core/ports.ts as one class, a section per concern; what an item is
 * and which key it has lives here, how it is written lives in store/table.ts. Every write is a
 * single-item conditional write (no transactions), and each kind is made one way there: a create is
 * a put-if-absent (`putIfAbsent`) that hands back the item already there, so a run is created once;
 * a status change is a conditional transition (`transition`, and `forward` for records that only
 * move forward), so a record moves only from a status that leads to the new one, and a repeated
 * write of the status a run, stage or gate is already in is a no-op, which makes retried tasks safe.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  ACTIVE_RUN_STATUSES,
  APPROVAL_TRANSITIONS,
  RUN_TRANSITIONS,
  STAGE_TRANSITIONS,
  predecessors,
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalStatus,
  type AuditEvent,
  type DeliveryAttempt,
  type DeploymentRecord,
  type DeploymentStatus,
  type Intervention,
  type NotificationRecord,
  type Redrive,
  type RunItemKind,
  type RunRecord,
  type RunStatus,
  type StageRecord,
  type StageStatus,
  type StepTaken,
  type WaitingRun,
} from '../core/records';
import type {
  ApprovalStore,
  ApprovalUpdate,
  DeploymentStore,
  NotificationStore,
  RunHistory,
  RunLanes,
  RunRepository,
  RunUpdate,
  StageUpdate,
} from '../core/ports';
import { RunAlreadyExistsError } from '../core/errors';
import { INDEXES, keys } from './schema';
import { RunTable, toRecord, type Page, type PutOutcome } from './table';

/** What the delivery metrics read of a run (`listRunTimes`). */
export type RunTimes = Pick<RunRecord, 'runId' | 'pipeline' | 'status' | 'createdAt'> & {
  readonly commit: Pick<RunRecord['commit'], 'id' | 'committedAt'>;
  readonly trigger: Pick<RunRecord['trigger'], 'eventTime'>;
};
const RUN_TIMES = {
  expression: 'runId, pipeline, #status, createdAt, #commit.id, #commit.committedAt, #trigger.eventTime',
  names: { '#status': 'status', '#commit': 'commit', '#trigger': 'trigger' },
};
/** What the delivery metrics read of a deployment (`listDeploymentEnds`). */
export type DeploymentEnd = Pick<
  DeploymentRecord,
  'runId' | 'pipeline' | 'status' | 'startedAt' | 'endedAt' | 'hotfix' | 'step'
>;
const DEPLOYMENT_ENDS = {
  expression: 'runId, pipeline, #status, startedAt, endedAt, hotfix, #step',
  names: { '#status': 'status', '#step': 'step' },
};
const CHANGE_COMMITS = { expression: 'runId, commits', names: {} };

export class RunStore
  implements RunRepository, RunHistory, RunLanes, NotificationStore, ApprovalStore, DeploymentStore
{
  private readonly table: RunTable;

  constructor(client: DynamoDBClient, tableName: string) {
    this.table = new RunTable(client, tableName);
  }

  // Runs and their stages.

  /** Creates a QUEUED run; throws RunAlreadyExistsError (carrying the existing run) if it exists. */
  async createRun(run: RunRecord): Promise<RunRecord> {
    const put = await this.table.putIfAbsent({
      ...keys.run(run.runId),
      kind: 'RUN' satisfies RunItemKind,
      ...keys.byPipeline(run.pipeline, run.createdAt, run.runId),
      ...(ACTIVE_RUN_STATUSES.includes(run.status) ? keys.active(run.createdAt, run.runId) : {}),
      ...run,
    });
    if (put.created) return run;
    const existing = await put.found();
    if (!existing) throw put.conflict;
    throw new RunAlreadyExistsError(existing as unknown as RunRecord, { cause: put.conflict });
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return (await this.table.get(keys.run(runId))) as RunRecord | undefined;
  }

  /** A pipeline's runs, newest first. */
  async listRuns(pipeline: string, options: { limit?: number; cursor?: string } = {}): Promise<Page<RunRecord>> {
    const index = INDEXES.byPipeline;
    return this.table.queryPage<RunRecord>(
      {
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': index.partitionKey },
        ExpressionAttributeValues: { ':pk': keys.byPipeline(pipeline, '', '').gsi1pk },
        ScanIndexForward: false,
      },
      options,
    );
  }

  /**
   * What the delivery metrics read of a pipeline's runs created at or after `since`, newest first, a page at a time:
   * each run's id, status, creation, commit id and time, and push time (a projection: a tenth of a run's item).
   */
  async listRunTimes(pipeline: string, since: string, options: { cursor?: string } = {}): Promise<Page<RunTimes>> {
    return this.sinceInIndex(keys.byPipeline(pipeline, '', '').gsi1pk, since, RUN_TIMES, options);
  }

  /**
   * How a pipeline's deployments started at or after `since` went, newest first, a page at a time: each one's run,
   * status, start and end, its hotfix mark and the step it reached (a projection).
   */
  async listDeploymentEnds(
    pipeline: string,
    since: string,
    options: { cursor?: string } = {},
  ): Promise<Page<DeploymentEnd>> {
    return this.sinceInIndex(keys.releases(pipeline, '', '').gsi1pk, since, DEPLOYMENT_ENDS, options);
  }

  /** The commits of a pipeline's change records opened at or after `since`, newest first, a page at a time. */
  async listChangeCommits(
    pipeline: string,
    since: string,
    options: { cursor?: string } = {},
  ): Promise<Page<Pick<ApprovalRecord, 'runId' | 'commits'>>> {
    return this.sinceInIndex(keys.changes(pipeline, '', '').gsi1pk, since, CHANGE_COMMITS, options);
  }

  private async sinceInIndex<T>(
    partition: string,
    since: string,
    projection: { expression: string; names: Record<string, string> },
    options: { cursor?: string },
  ): Promise<Page<T>> {
    const index = INDEXES.byPipeline;
    return this.table.queryPage<T>(
      {
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pk AND #sk >= :since',
        ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey, ...projection.names },
        ExpressionAttributeValues: { ':pk': partition, ':since': since },
        ProjectionExpression: projection.expression,
        ScanIndexForward: false,
      },
      options,
    );
  }

  /** Runs that are queued or running, oldest first. */
  async listActiveRuns(options: { limit?: number; cursor?: string } = {}): Promise<Page<RunRecord>> {
    const index = INDEXES.active;
    return this.table.queryPage<RunRecord>(
      {
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': index.partitionKey },
        ExpressionAttributeValues: { ':pk': keys.active('', '').gsi2pk },
      },
      options,
    );
  }

  /** All stage records of a run, in name order. */
  async listStages(runId: string): Promise<StageRecord[]> {
    return this.table.queryPartition<StageRecord>(keys.run(runId).pk, keys.stagePrefix);
  }

  /** Moves a run forward to `to`, setting `fields`; the active index entry goes when the run ends. */
  async transitionRun(runId: string, to: RunStatus, fields: RunUpdate = {}): Promise<RunRecord> {
    const ended = !ACTIVE_RUN_STATUSES.includes(to);
    const updated = await this.table.forward({
      key: keys.run(runId),
      label: `run ${runId}`,
      from: predecessors(RUN_TRANSITIONS, to),
      to,
      fields,
      remove: ended ? [INDEXES.active.partitionKey, INDEXES.active.sortKey] : [],
    });
    return updated as unknown as RunRecord;
  }

  /** Moves a stage forward to `to`; a stage with no record yet counts as PENDING. */
  async transitionStage(runId: string, stage: string, to: StageStatus, fields: StageUpdate = {}): Promise<StageRecord> {
    const updated = await this.table.forward({
      key: keys.stage(runId, stage),
      label: `stage ${stage} of run ${runId}`,
      from: predecessors(STAGE_TRANSITIONS, to),
      to,
      fields: { ...fields, runId, name: stage, kind: 'STAGE' satisfies RunItemKind },
      mayCreate: true,
    });
    return updated as unknown as StageRecord;
  }

  /**
   * Reopens a FAILED run for its redrive (the only way back from FAILED: core/records.ts): RUNNING again, its end and
   * failure cleared, the redrive appended, the run back in the active index. Conditional on FAILED and on the number
   * of redrives so far (`redrives`), so of two redrives at once one reopens it; false for the other.
   */
  async reopenRun(run: RunRecord, redrive: Redrive): Promise<boolean> {
    const count = run.redrives?.length ?? 0;
    return this.table.conditionally(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.run(run.runId),
        UpdateExpression:
          'SET #status = :running, executionArn = :arn, redrives = list_append(if_not_exists(redrives, :none), :redrive), #gsi2pk = :gsi2pk, #gsi2sk = :gsi2sk REMOVE endedAt, durationMs, failure',
        ConditionExpression: `#status = :failed AND ${count ? 'size(redrives) = :count' : 'attribute_not_exists(redrives)'}`,
        ExpressionAttributeNames: {
          '#status': 'status',
          '#gsi2pk': INDEXES.active.partitionKey,
          '#gsi2sk': INDEXES.active.sortKey,
        },
        ExpressionAttributeValues: {
          ':running': 'RUNNING' satisfies RunStatus,
          ':failed': 'FAILED' satisfies RunStatus,
          ':arn': redrive.executionArn,
          ':none': [],
          ':redrive': [redrive],
          ':gsi2pk': keys.active(run.createdAt, run.runId).gsi2pk,
          ':gsi2sk': keys.active(run.createdAt, run.runId).gsi2sk,
          ...(count ? { ':count': count } : {}),
        },
      }),
    );
  }

  /**
   * Puts a FAILED stage back to PENDING for a redrive, so the resumed states' records move it as they move any stage
   * (PENDING → IN_PROGRESS → …): a stage with no record is PENDING (transitionStage), so its record goes, and its last
   * failure with it. False when the stage is not FAILED.
   */
  async resetStage(runId: string, stage: string): Promise<boolean> {
    return this.table.conditionally(
      new DeleteCommand({
        TableName: this.table.name,
        Key: keys.stage(runId, stage),
        ConditionExpression: '#status = :failed',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':failed': 'FAILED' satisfies StageStatus },
      }),
    );
  }

  // Notifications: recorded before they are sent, claimed before each attempt.

  async recordNotification(notification: NotificationRecord): Promise<NotificationRecord> {
    const put = await this.table.putIfAbsent({
      ...keys.notification(notification.runId, notification.id),
      kind: 'NOTIFICATION' satisfies RunItemKind,
      ...notification,
    });
    return put.created ? notification : ((await existingAfter(put)) as unknown as NotificationRecord);
  }

  async claimNotification(
    runId: string,
    id: string,
    now: Date,
    claimUntil: Date,
    maxAttempts: number,
  ): Promise<boolean> {
    const claim = await this.table.transition({
      key: keys.notification(runId, id),
      from: ['PENDING', 'FAILED', 'SENDING'],
      to: 'SENDING',
      fields: { claimedUntil: claimUntil.toISOString() },
      // A SENDING notification is claimed again only once its claim lapsed (a sender that crashed mid-send).
      condition: {
        expression: '(#status <> :claimed OR claimedUntil < :now) AND size(attempts) < :max',
        values: { ':claimed': 'SENDING', ':now': now.toISOString(), ':max': maxAttempts },
      },
    });
    return claim.moved;
  }

  async recordAttempt(runId: string, id: string, attempt: DeliveryAttempt): Promise<void> {
    const recorded = await this.table.transition({
      key: keys.notification(runId, id),
      from: ['SENDING'],
      to: attempt.outcome,
      append: { attempts: [attempt] },
      remove: ['claimedUntil'],
    });
    if (!recorded.moved) throw recorded.conflict;
  }

  async listNotifications(runId: string): Promise<NotificationRecord[]> {
    return this.table.queryPartition<NotificationRecord>(keys.run(runId).pk, keys.notificationPrefix);
  }

  // Lanes: each pipeline's holder and its waiting runs, in the pipeline's own partition.

  async enqueue(run: WaitingRun): Promise<void> {
    // A run already waiting stays as it is (a retried start).
    await this.table.putIfAbsent({ ...keys.waiting(run.pipeline, run.order), kind: 'WAITING', ...run });
  }

  async waiting(pipeline: string): Promise<WaitingRun[]> {
    return this.table.queryPartition<WaitingRun>(keys.lane(pipeline).pk, keys.waitingPrefix);
  }

  async dequeue(run: WaitingRun): Promise<boolean> {
    return this.table.conditionally(
      new DeleteCommand({
        TableName: this.table.name,
        Key: keys.waiting(run.pipeline, run.order),
        ConditionExpression: 'attribute_exists(pk)',
      }),
    );
  }

  async holder(pipeline: string): Promise<WaitingRun | undefined> {
    const item = await this.table.get(keys.lane(pipeline));
    return item?.holding as WaitingRun | undefined;
  }

  async acquire(run: WaitingRun): Promise<boolean> {
    return this.table.conditionally(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.lane(run.pipeline),
        UpdateExpression: 'SET holder = :run, holding = :holding',
        ConditionExpression: 'attribute_not_exists(holder) OR holder = :run',
        ExpressionAttributeValues: { ':run': run.runId, ':holding': run },
      }),
    );
  }

  async release(pipeline: string, runId: string): Promise<boolean> {
    return this.table.conditionally(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.lane(pipeline),
        UpdateExpression: 'REMOVE holder, holding',
        ConditionExpression: 'holder = :run',
        ExpressionAttributeValues: { ':run': runId },
      }),
    );
  }

  // Release gates: the gate, its decisions, used links and audit trail.

  /** Records a run's gate; when it exists (a retried Task), resolves with it unchanged. */
  async createApproval(approval: ApprovalRecord): Promise<ApprovalRecord> {
    const put = await this.table.putIfAbsent({
      ...keys.approval(approval.runId),
      kind: 'APPROVAL' satisfies RunItemKind,
      ...keys.changes(approval.pipeline, approval.openedAt, approval.runId),
      ...approval,
    });
    return put.created ? approval : ((await existingAfter(put)) as unknown as ApprovalRecord);
  }

  async getApproval(runId: string): Promise<ApprovalRecord | undefined> {
    return (await this.table.get(keys.approval(runId))) as ApprovalRecord | undefined;
  }

  /** Moves a gate forward (a conditional write on its status; ApprovalStore says what `from` changes). */
  async transitionApproval(
    runId: string,
    to: ApprovalStatus,
    fields: ApprovalUpdate = {},
    from?: ApprovalStatus,
  ): Promise<ApprovalRecord> {
    const updated = await this.table.forward({
      key: keys.approval(runId),
      label: `release gate of run ${runId}`,
      from: predecessors(APPROVAL_TRANSITIONS, to),
      to,
      fields,
      ...(from === undefined ? {} : { exactlyFrom: from }),
    });
    return updated as unknown as ApprovalRecord;
  }

  async replaceTaskToken(runId: string, taskToken: string): Promise<ApprovalRecord> {
    const { Attributes } = await this.table.documents.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.approval(runId),
        UpdateExpression: 'SET taskToken = :token REMOVE resumedAt',
        ConditionExpression: 'attribute_exists(pk) AND #status <> :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':token': taskToken, ':pending': 'PENDING' },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toRecord<ApprovalRecord>(Attributes ?? {});
  }

  async markResumed(runId: string, at: string): Promise<void> {
    await this.table.conditionally(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.approval(runId),
        UpdateExpression: 'SET resumedAt = :at',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(resumedAt)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  /** Records an approver's decision; when they decided already, resolves with that decision instead. */
  async recordDecision(decision: ApprovalDecision): Promise<ApprovalDecision | undefined> {
    // Approve and reject share one slot per person (a person decides once); an override has its own.
    const slot = decision.decision === 'override' ? 'override' : 'vote';
    const put = await this.table.putIfAbsent({
      ...keys.decision(decision.runId, slot, decision.approverId),
      kind: 'DECISION' satisfies RunItemKind,
      ...decision,
    });
    return put.created ? undefined : ((await existingAfter(put)) as unknown as ApprovalDecision);
  }

  async listDecisions(runId: string): Promise<ApprovalDecision[]> {
    const decisions = await this.table.queryPartition<ApprovalDecision>(keys.run(runId).pk, keys.decisionPrefix);
    return decisions.sort((a, b) => a.at.localeCompare(b.at));
  }

  /** Marks a link's nonce used; false when it was used before. */
  async useLink(runId: string, nonce: string, at: string): Promise<boolean> {
    const put = await this.table.putIfAbsent({
      ...keys.usedLink(runId, nonce),
      kind: 'LINK' satisfies RunItemKind,
      usedAt: at,
    });
    return put.created;
  }

  /**
   * Appends to a gate's audit trail in the order events happen: each takes the next number of the
   * gate's counter (an atomic ADD on the approval item), so events of one millisecond — or of a frozen
   * clock — still read back in order.
   */
  async appendAudit(event: AuditEvent): Promise<void> {
    const { Attributes } = await this.table.documents.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.approval(event.runId),
        UpdateExpression: 'ADD auditCount :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const seq = String(Attributes!.auditCount as number).padStart(8, '0');
    const put = await this.table.putIfAbsent({
      ...keys.audit(event.runId, seq),
      kind: 'AUDIT' satisfies RunItemKind,
      ...event,
      seq,
    });
    if (!put.created) throw put.conflict;
  }

  async listAudit(runId: string): Promise<AuditEvent[]> {
    return this.table.queryPartition<AuditEvent>(keys.run(runId).pk, keys.auditPrefix);
  }

  // Deployments: one per run; both writers of the alias read it (core/deployment/protocol.ts).

  /** Records a run's deployment; when it exists (a retried Task), resolves with it unchanged. */
  async createDeployment(deployment: DeploymentRecord): Promise<DeploymentRecord> {
    const put = await this.table.putIfAbsent({
      ...keys.deployment(deployment.runId),
      kind: 'DEPLOYMENT' satisfies RunItemKind,
      ...keys.releases(deployment.pipeline, deployment.startedAt, deployment.runId),
      ...deployment,
    });
    return put.created ? deployment : ((await existingAfter(put)) as unknown as DeploymentRecord);
  }

  async getDeployment(runId: string): Promise<DeploymentRecord | undefined> {
    return (await this.table.get(keys.deployment(runId))) as DeploymentRecord | undefined;
  }

  /**
   * Moves a deployment from one of `from` to `to`; undefined when it was in none of them. Unlike a
   * run's, a deployment's status may go back (PAUSED → IN_PROGRESS), so a repeat is not taken as done:
   * the protocol asks for the statuses each step may start from.
   */
  async moveDeployment(
    runId: string,
    from: readonly DeploymentStatus[],
    to: DeploymentStatus,
    fields: Partial<DeploymentRecord> = {},
  ): Promise<DeploymentRecord | undefined> {
    const moved = await this.table.transition({ key: keys.deployment(runId), from, to, fields });
    return moved.moved ? (moved.record as unknown as DeploymentRecord) : undefined;
  }

  async recordIntervention(runId: string, intervention: Intervention): Promise<void> {
    await this.table.documents.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.deployment(runId),
        UpdateExpression: 'SET interventions = list_append(interventions, :one)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':one': [intervention] },
      }),
    );
  }

  async recordStep(runId: string, step: number, entry: StepTaken): Promise<void> {
    await this.table.conditionally(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.deployment(runId),
        UpdateExpression: 'SET step = :step, stepsTaken = list_append(if_not_exists(stepsTaken, :none), :entry)',
        ConditionExpression: '#status IN (:moving, :paused)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':step': step,
          ':entry': [entry],
          ':none': [],
          ':moving': 'IN_PROGRESS',
          ':paused': 'PAUSED',
        },
      }),
    );
  }
}

/** The item a create found in its place; rethrows the create's failure when that item has gone since. */
async function existingAfter(put: Extract<PutOutcome, { created: false }>): Promise<Record<string, unknown>> {
  const existing = await put.found();
  if (!existing) throw put.conflict;
  return existing;
}
