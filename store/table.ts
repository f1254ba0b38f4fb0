/**
 * How the run store writes and reads its one table (store/schema.ts). Every write is a single-item
 * conditional write (dynalite has no transactions), made one of three ways, each written once here:
 * - `putIfAbsent`: creates an item unless one with its key exists, and hands back the one found;
 * - `transition`: moves an item's `status` from one of the statuses that may lead to the new one,
 *   setting its fields with it; `forward` is the same write for records that only move forward
 *   (runs, stages, gates), where a repeat of the status already reached is a no-op;
 * - `conditionally`: any other conditional write, false when its condition did not hold.
 *
 * A failed condition hands back the item it found where DynamoDB returns it (`ALL_OLD`); dynalite
 * never does, so the item is then read back. Requesting it costs no read capacity ("There is no
 * additional cost associated with requesting a return value aside from the small network and
 * processing overhead of receiving a larger response. No read capacity units are consumed.":
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html#DDB-PutItem-request-ReturnValuesOnConditionCheckFailure).
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type NativeAttributeValue,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { InvalidTransitionError, RunNotFoundError } from '../core/errors';
import { KEY_ATTRIBUTES } from './schema';

export type Item = Record<string, NativeAttributeValue>;
export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

export interface Page<T> {
  readonly items: T[];
  /** Pass back to read the next page; absent on the last page. */
  readonly cursor?: string;
}

/** A write that found its condition false: the failure, and the item it found (read back when not returned). */
interface ConditionFailed {
  readonly conflict: ConditionalCheckFailedException;
  /** The item as the failed write found it; undefined when there is none (any more). */
  found(): Promise<Record<string, unknown> | undefined>;
}

export type PutOutcome = { readonly created: true } | ({ readonly created: false } & ConditionFailed);
export type TransitionOutcome =
  { readonly moved: true; readonly record: Record<string, unknown> } | ({ readonly moved: false } & ConditionFailed);

/** A status change: one conditional write of `status` and the fields that go with it. */
export interface StatusChange {
  readonly key: ItemKey;
  /** The statuses the item may be in; the write fails in any other (or when the item is missing). */
  readonly from: readonly string[];
  readonly to: string;
  /** Attributes set with the status; an undefined one is left as it is. */
  readonly fields?: Record<string, unknown>;
  /** Lists to extend with the status (`list_append`). */
  readonly append?: Record<string, readonly unknown[]>;
  /** Attributes removed with the status. */
  readonly remove?: readonly string[];
  /** A further condition on the item (its status is `#status`), with the values it names. */
  readonly condition?: { readonly expression: string; readonly values: Item };
  /**
   * A stage with no record counts as PENDING: with `mayCreate`, a change from PENDING also holds
   * when the item does not exist, and creates it. Without it the item must exist.
   */
  readonly mayCreate?: boolean;
}

export class RunTable {
  readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly name: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
  }

  /** Puts `item` (its key included) unless an item with that key exists. */
  async putIfAbsent(item: Item & ItemKey): Promise<PutOutcome> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.name,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { created: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { created: false, ...this.conditionFailed(error, { pk: item.pk, sk: item.sk }) };
    }
  }

  /** The one status write of the store: moves the item from one of `from` to `to`, with its fields. */
  async transition(change: StatusChange): Promise<TransitionOutcome> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Item = { ':to': change.to, ...change.condition?.values };
    const sets = ['#status = :to'];
    Object.entries(change.fields ?? {}).forEach(([field, value], i) => {
      if (value === undefined) return;
      names[`#f${i}`] = field;
      values[`:f${i}`] = value;
      sets.push(`#f${i} = :f${i}`);
    });
    Object.entries(change.append ?? {}).forEach(([list, entries], i) => {
      names[`#a${i}`] = list;
      values[`:a${i}`] = entries;
      sets.push(`#a${i} = list_append(#a${i}, :a${i})`);
    });
    // A stage with no record counts as PENDING (it may be created); other items are PENDING when they say so.
    const allowed = change.mayCreate ? change.from.filter((s) => s !== 'PENDING') : change.from;
    allowed.forEach((status, i) => (values[`:from${i}`] = status));
    const conditions = [
      ...(change.mayCreate && change.from.includes('PENDING') ? ['attribute_not_exists(pk)'] : []),
      ...(allowed.length ? [`#status IN (${allowed.map((_, i) => `:from${i}`).join(', ')})`] : []),
    ];
    if (!change.mayCreate) conditions.unshift('attribute_exists(pk)');
    const statusCondition = change.mayCreate
      ? conditions.join(' OR ')
      : `${conditions[0]} AND (${conditions.slice(1).join(' OR ')})`;
    const condition = change.condition ? `(${statusCondition}) AND (${change.condition.expression})` : statusCondition;
    const removed = change.remove ?? [];
    removed.forEach((attribute, i) => (names[`#r${i}`] = attribute));
    const remove = removed.length ? ` REMOVE ${removed.map((_, i) => `#r${i}`).join(', ')}` : '';

    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.name,
          Key: change.key,
          UpdateExpression: `SET ${sets.join(', ')}${remove}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { moved: true, record: toRecord(Attributes ?? {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { moved: false, ...this.conditionFailed(error, change.key) };
    }
  }

  /**
   * A status change of a record that only moves forward: resolves with the record moved, or with it
   * unchanged when it already has status `to` (a retried task, not a conflict) unless `exactlyFrom` is
   * set: then the change holds from that one status, and a record another writer moved meanwhile,
   * even to `to`, is refused. Throws RunNotFoundError when the record is missing (and may not be
   * created), InvalidTransitionError (naming it by `label`) when it is in a status that does not lead
   * to `to`.
   */
  async forward(
    change: StatusChange & { readonly label: string; readonly exactlyFrom?: string },
  ): Promise<Record<string, unknown>> {
    const { exactlyFrom } = change;
    if (exactlyFrom !== undefined && !change.from.includes(exactlyFrom))
      throw new InvalidTransitionError(change.label, exactlyFrom, change.to);
    const outcome = await this.transition(exactlyFrom === undefined ? change : { ...change, from: [exactlyFrom] });
    if (outcome.moved) return outcome.record;
    const current = await outcome.found();
    if (!current && !change.mayCreate) throw new RunNotFoundError(change.key.pk.slice('RUN#'.length));
    if (current?.status === change.to && exactlyFrom === undefined) return current;
    throw new InvalidTransitionError(change.label, current?.status as string | undefined, change.to, {
      cause: outcome.conflict,
    });
  }

  /** Sends a conditional write; false when its condition did not hold. */
  async conditionally(command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.documents.send(command as PutCommand);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** An item as a record (without its key attributes), read consistently. */
  async get(key: ItemKey): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.name, Key: key, ConsistentRead: true }),
    );
    return Item ? toRecord(Item) : undefined;
  }

  /** Every item of a partition whose sort key starts with `prefix`, in sort-key order, all pages read. */
  async queryPartition<T>(pk: string, prefix: string): Promise<T[]> {
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

  async queryPage<T>(
    query: Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName' | 'Limit' | 'ExclusiveStartKey'>,
    options: { limit?: number; cursor?: string },
  ): Promise<Page<T>> {
    const { Items = [], LastEvaluatedKey } = await this.documents.send(
      new QueryCommand({
        ...query,
        TableName: this.name,
        Limit: options.limit,
        ExclusiveStartKey: options.cursor ? decodeCursor(options.cursor) : undefined,
      }),
    );
    return {
      items: Items.map((item) => toRecord<T>(item)),
      cursor: LastEvaluatedKey ? encodeCursor(LastEvaluatedKey) : undefined,
    };
  }

  private conditionFailed(conflict: ConditionalCheckFailedException, key: ItemKey): ConditionFailed {
    const returned = oldItem(conflict);
    return { conflict, found: async () => (returned ? toRecord(returned) : this.get(key)) };
  }
}

/**
 * The item a failed conditional write found (`ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`), as a plain
 * object. The document client converts responses, not errors: the exception's `Item` arrives in
 * DynamoDB's attribute-value form (`{ status: { S: 'RUNNING' } }`; aws/aws-sdk-js-v3#6723). dynalite
 * never returns it (the store falls back to a read).
 */
function oldItem(error: ConditionalCheckFailedException): Item | undefined {
  return error.Item ? unmarshall(error.Item) : undefined;
}

/** An item without the attributes that exist for the table's keys and indexes only. */
export function toRecord<T = Record<string, unknown>>(item: Item): T {
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
