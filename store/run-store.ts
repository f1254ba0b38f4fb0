/**
 * The run store: runs and their stages in one DynamoDB table, shared by the Lambda handlers, the CLI
 * and local mode. Every write is a single-item conditional write (no transactions), so a run is
 * created once and a record only moves forward; a repeated write of the state a record is already
 * in is a no-op, which makes retried tasks safe. It also keeps each pipeline's lane (QUEUED and
 * SUPERSEDED modes): the holder item and the waiting runs, in the pipeline's own partition.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  ACTIVE_RUN_STATUSES,
  RUN_TRANSITIONS,
  STAGE_TRANSITIONS,
  predecessors,
  type RunItemKind,
  type RunRecord,
  type RunStatus,
  type StageRecord,
  type StageStatus,
  type WaitingRun,
  type DeliveryAttempt,
  type NotificationRecord,
  APPROVAL_TRANSITIONS,
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalStatus,
  type AuditEvent,
  type DeploymentRecord,
  type DeploymentStatus,
  type Intervention,
  type StepTaken,
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
import { InvalidTransitionError, RunAlreadyExistsError, RunNotFoundError } from '../core/errors';
import { INDEXES, KEY_ATTRIBUTES, keys } from './schema';

type Item = Record<string, NativeAttributeValue>;

export interface Page<T> {
  readonly items: T[];
  /** Pass back to read the next page; absent on the last page. */
  readonly cursor?: string;
}

export class RunStore
  implements RunRepository, RunHistory, RunLanes, NotificationStore, ApprovalStore, DeploymentStore
{
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
  }

  /** Creates a QUEUED run; throws RunAlreadyExistsError (carrying the existing run) if it exists. */
  async createRun(run: RunRecord): Promise<RunRecord> {
    const item = {
      ...keys.run(run.runId),
      kind: 'RUN' satisfies RunItemKind,
      ...keys.byPipeline(run.pipeline, run.createdAt, run.runId),
      ...(ACTIVE_RUN_STATUSES.includes(run.status) ? keys.active(run.createdAt, run.runId) : {}),
      ...run,
    };
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return run;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const found = oldItem(error);
      const existing = found ? toRecord<RunRecord>(found) : await this.getRun(run.runId);
      if (!existing) throw error;
      throw new RunAlreadyExistsError(existing, { cause: error });
    }
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: keys.run(runId), ConsistentRead: true }),
    );
    return Item ? toRecord<RunRecord>(Item) : undefined;
  }

  /** A pipeline's runs, newest first. */
  async listRuns(pipeline: string, options: { limit?: number; cursor?: string } = {}): Promise<Page<RunRecord>> {
    const index = INDEXES.byPipeline;
    return this.queryPage<RunRecord>(
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

  /** Runs that are queued or running, oldest first. */
  async listActiveRuns(options: { limit?: number; cursor?: string } = {}): Promise<Page<RunRecord>> {
    const index = INDEXES.active;
    return this.queryPage<RunRecord>(
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
    return this.queryPartition<StageRecord>(keys.run(runId).pk, keys.stagePrefix);
  }

  /** Moves a run forward to `to`, setting `fields`; the active index entry goes when the run ends. */
  async transitionRun(runId: string, to: RunStatus, fields: RunUpdate = {}): Promise<RunRecord> {
    const ended = !ACTIVE_RUN_STATUSES.includes(to);
    const updated = await this.transition({
      key: keys.run(runId),
      label: `run ${runId}`,
      from: predecessors(RUN_TRANSITIONS, to),
      to,
      fields,
      remove: ended ? [INDEXES.active.partitionKey, INDEXES.active.sortKey] : [],
      mayCreate: false,
    });
    return updated as unknown as RunRecord;
  }

  /** Moves a stage forward to `to`; a stage with no record yet counts as PENDING. */
  async transitionStage(runId: string, stage: string, to: StageStatus, fields: StageUpdate = {}): Promise<StageRecord> {
    const updated = await this.transition({
      key: keys.stage(runId, stage),
      label: `stage ${stage} of run ${runId}`,
      from: predecessors(STAGE_TRANSITIONS, to),
      to,
      fields: { ...fields, runId, name: stage, kind: 'STAGE' satisfies RunItemKind },
      remove: [],
      mayCreate: true,
    });
    return updated as unknown as StageRecord;
  }

  async recordNotification(notification: NotificationRecord): Promise<NotificationRecord> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.notification(notification.runId, notification.id),
            kind: 'NOTIFICATION' satisfies RunItemKind,
            ...notification,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return notification;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = oldItem(error) ?? (await this.getItem(keys.notification(notification.runId, notification.id)));
      if (!existing) throw error;
      return toRecord<NotificationRecord>(existing);
    }
  }

  async claimNotification(
    runId: string,
    id: string,
    now: Date,
    claimUntil: Date,
    maxAttempts: number,
  ): Promise<boolean> {
    return this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.notification(runId, id),
        UpdateExpression: 'SET #status = :sending, claimedUntil = :until',
        ConditionExpression:
          '(#status IN (:pending, :failed) OR (#status = :sending AND claimedUntil < :now)) AND size(attempts) < :max',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':sending': 'SENDING',
          ':pending': 'PENDING',
          ':failed': 'FAILED',
          ':until': claimUntil.toISOString(),
          ':now': now.toISOString(),
          ':max': maxAttempts,
        },
      }),
    );
  }

  async recordAttempt(runId: string, id: string, attempt: DeliveryAttempt): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.notification(runId, id),
        UpdateExpression: 'SET #status = :outcome, attempts = list_append(attempts, :attempt) REMOVE claimedUntil',
        ConditionExpression: '#status = :sending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':outcome': attempt.outcome, ':attempt': [attempt], ':sending': 'SENDING' },
      }),
    );
  }

  async listNotifications(runId: string): Promise<NotificationRecord[]> {
    return this.queryPartition<NotificationRecord>(keys.run(runId).pk, keys.notificationPrefix);
  }

  async enqueue(run: WaitingRun): Promise<void> {
    await this.conditionally(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.waiting(run.pipeline, run.order), kind: 'WAITING', ...run },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async waiting(pipeline: string): Promise<WaitingRun[]> {
    return this.queryPartition<WaitingRun>(keys.lane(pipeline).pk, keys.waitingPrefix);
  }

  async dequeue(run: WaitingRun): Promise<boolean> {
    return this.conditionally(
      new DeleteCommand({
        TableName: this.tableName,
        Key: keys.waiting(run.pipeline, run.order),
        ConditionExpression: 'attribute_exists(pk)',
      }),
    );
  }

  async holder(pipeline: string): Promise<WaitingRun | undefined> {
    const item = await this.getItem(keys.lane(pipeline));
    return item?.holding as WaitingRun | undefined;
  }

  async acquire(run: WaitingRun): Promise<boolean> {
    return this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.lane(run.pipeline),
        UpdateExpression: 'SET holder = :run, holding = :holding',
        ConditionExpression: 'attribute_not_exists(holder) OR holder = :run',
        ExpressionAttributeValues: { ':run': run.runId, ':holding': run },
      }),
    );
  }

  async release(pipeline: string, runId: string): Promise<boolean> {
    return this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.lane(pipeline),
        UpdateExpression: 'REMOVE holder, holding',
        ConditionExpression: 'holder = :run',
        ExpressionAttributeValues: { ':run': runId },
      }),
    );
  }

  /** Sends a conditional write; false when its condition did not hold. */
  private async conditionally(command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.documents.send(command as PutCommand);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async createApproval(approval: ApprovalRecord): Promise<ApprovalRecord> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.approval(approval.runId), kind: 'APPROVAL' satisfies RunItemKind, ...approval },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return approval;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = oldItem(error) ?? (await this.getItem(keys.approval(approval.runId)));
      if (!existing) throw error;
      return toRecord<ApprovalRecord>(existing);
    }
  }

  async getApproval(runId: string): Promise<ApprovalRecord | undefined> {
    const item = await this.getItem(keys.approval(runId));
    return item as ApprovalRecord | undefined;
  }

  /** Moves a gate forward (a conditional write on its status). */
  async transitionApproval(runId: string, to: ApprovalStatus, fields: ApprovalUpdate = {}): Promise<ApprovalRecord> {
    const updated = await this.transition({
      key: keys.approval(runId),
      label: `release gate of run ${runId}`,
      from: predecessors(APPROVAL_TRANSITIONS, to),
      to,
      fields,
      remove: [],
      mayCreate: false,
    });
    return updated as unknown as ApprovalRecord;
  }

  async replaceTaskToken(runId: string, taskToken: string): Promise<ApprovalRecord> {
    const { Attributes } = await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
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
    await this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.approval(runId),
        UpdateExpression: 'SET resumedAt = :at',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(resumedAt)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  async recordDecision(decision: ApprovalDecision): Promise<ApprovalDecision | undefined> {
    // Approve and reject share one slot per person (a person decides once); an override has its own.
    const slot = decision.decision === 'override' ? 'override' : 'vote';
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.decision(decision.runId, slot, decision.approverId),
            kind: 'DECISION' satisfies RunItemKind,
            ...decision,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = oldItem(error) ?? (await this.getItem(keys.decision(decision.runId, slot, decision.approverId)));
      if (!existing) throw error;
      return toRecord<ApprovalDecision>(existing);
    }
  }

  async listDecisions(runId: string): Promise<ApprovalDecision[]> {
    const decisions = await this.queryPartition<ApprovalDecision>(keys.run(runId).pk, keys.decisionPrefix);
    return decisions.sort((a, b) => a.at.localeCompare(b.at));
  }

  async useLink(runId: string, nonce: string, at: string): Promise<boolean> {
    return this.conditionally(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.usedLink(runId, nonce), kind: 'LINK' satisfies RunItemKind, usedAt: at },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  /**
   * Appends to a gate's audit trail in the order events happen: each takes the next number of the
   * gate's counter (an atomic ADD on the approval item), so events of one millisecond — or of a frozen
   * clock — still read back in order.
   */
  /** Records a run's deployment; when it exists (a retried Task), resolves with it unchanged. */
  async createDeployment(deployment: DeploymentRecord): Promise<DeploymentRecord> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.deployment(deployment.runId), kind: 'DEPLOYMENT' satisfies RunItemKind, ...deployment },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return deployment;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = oldItem(error) ?? (await this.getItem(keys.deployment(deployment.runId)));
      if (!existing) throw error;
      return toRecord<DeploymentRecord>(existing);
    }
  }

  async getDeployment(runId: string): Promise<DeploymentRecord | undefined> {
    return (await this.getItem(keys.deployment(runId))) as DeploymentRecord | undefined;
  }

  async moveDeployment(
    runId: string,
    from: readonly DeploymentStatus[],
    to: DeploymentStatus,
    fields: Partial<DeploymentRecord> = {},
  ): Promise<DeploymentRecord | undefined> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, NativeAttributeValue> = { ':to': to };
    const sets = ['#status = :to'];
    Object.entries(fields).forEach(([field, value], i) => {
      if (value === undefined) return;
      names[`#f${i}`] = field;
      values[`:f${i}`] = value;
      sets.push(`#f${i} = :f${i}`);
    });
    from.forEach((status, i) => (values[`:from${i}`] = status));
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.deployment(runId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(pk) AND #status IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRecord<DeploymentRecord>(Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async recordIntervention(runId: string, intervention: Intervention): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.deployment(runId),
        UpdateExpression: 'SET interventions = list_append(interventions, :one)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':one': [intervention] },
      }),
    );
  }

  async recordStep(runId: string, step: number, entry: StepTaken): Promise<void> {
    await this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
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

  async appendAudit(event: AuditEvent): Promise<void> {
    const { Attributes } = await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.approval(event.runId),
        UpdateExpression: 'ADD auditCount :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const seq = String(Attributes!.auditCount as number).padStart(8, '0');
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.audit(event.runId, seq), kind: 'AUDIT' satisfies RunItemKind, ...event, seq },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async listAudit(runId: string): Promise<AuditEvent[]> {
    return this.queryPartition<AuditEvent>(keys.run(runId).pk, keys.auditPrefix);
  }

  private async transition(request: {
    key: { pk: string; sk: string };
    label: string;
    from: readonly string[];
    to: string;
    fields: Record<string, unknown>;
    remove: readonly string[];
    mayCreate: boolean;
  }): Promise<Record<string, unknown>> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, NativeAttributeValue> = { ':to': request.to };
    const sets = ['#status = :to'];
    Object.entries(request.fields).forEach(([field, value], i) => {
      if (value === undefined) return;
      names[`#f${i}`] = field;
      values[`:f${i}`] = value;
      sets.push(`#f${i} = :f${i}`);
    });
    // A stage with no record counts as PENDING (it may be created); other items are PENDING when they say so.
    const allowed = request.mayCreate ? request.from.filter((s) => s !== 'PENDING') : request.from;
    allowed.forEach((status, i) => (values[`:from${i}`] = status));
    const conditions = [
      ...(request.mayCreate && request.from.includes('PENDING') ? ['attribute_not_exists(pk)'] : []),
      ...(allowed.length ? [`#status IN (${allowed.map((_, i) => `:from${i}`).join(', ')})`] : []),
    ];
    if (!request.mayCreate) conditions.unshift('attribute_exists(pk)');
    const condition = request.mayCreate
      ? conditions.join(' OR ')
      : `${conditions[0]} AND (${conditions.slice(1).join(' OR ')})`;
    request.remove.forEach((attribute, i) => (names[`#r${i}`] = attribute));
    const remove = request.remove.length ? ` REMOVE ${request.remove.map((_, i) => `#r${i}`).join(', ')}` : '';

    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: request.key,
          UpdateExpression: `SET ${sets.join(', ')}${remove}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return toRecord(Attributes ?? {});
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const found = oldItem(error);
      const current = found ? toRecord(found) : await this.getItem(request.key);
      if (!current && !request.mayCreate) throw new RunNotFoundError(String(request.key.pk).slice('RUN#'.length));
      // The record is already where this write would take it: a retried task, not a conflict.
      if (current?.status === request.to) return current;
      throw new InvalidTransitionError(request.label, current?.status as string | undefined, request.to, {
        cause: error,
      });
    }
  }

  private async getItem(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return Item ? toRecord(Item) : undefined;
  }

  /** Every item of a partition whose sort key starts with `prefix`, in sort-key order, all pages read. */
  private async queryPartition<T>(pk: string, prefix: string): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.queryPage<T>(
        {
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
          ConsistentRead: true,
        },
        { cursor },
      );
      items.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    return items;
  }

  private async queryPage<T>(
    query: Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName' | 'Limit' | 'ExclusiveStartKey'>,
    options: { limit?: number; cursor?: string },
  ): Promise<Page<T>> {
    const { Items = [], LastEvaluatedKey } = await this.documents.send(
      new QueryCommand({
        ...query,
        TableName: this.tableName,
        Limit: options.limit,
        ExclusiveStartKey: options.cursor ? decodeCursor(options.cursor) : undefined,
      }),
    );
    return {
      items: Items.map((item) => toRecord<T>(item)),
      cursor: LastEvaluatedKey ? encodeCursor(LastEvaluatedKey) : undefined,
    };
  }
}

/**
 * The item a failed conditional write found (`ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`), as a plain
 * object. The document client converts responses, not errors: the exception's `Item` arrives in
 * DynamoDB's attribute-value form (`{ status: { S: 'RUNNING' } }`; aws/aws-sdk-js-v3#6723). dynalite
 * never returns it (the stores fall back to a read).
 */
function oldItem(error: ConditionalCheckFailedException): Item | undefined {
  return error.Item ? unmarshall(error.Item) : undefined;
}

function toRecord<T = Record<string, unknown>>(item: Item): T {
  const record: Record<string, unknown> = { ...item };
  for (const attribute of KEY_ATTRIBUTES) delete record[attribute];
  return record as T;
}

function encodeCursor(key: Item): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): Item {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (key && typeof key === 'object' && !Array.isArray(key)) return key as Item;
  } catch {
    // fall through to the error below
  }
  throw new RangeError('invalid page cursor');
}
