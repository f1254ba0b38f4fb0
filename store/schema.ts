/**
 * The run store's single-table layout, shared by the CDK table definition, local mode's table and
 * the store itself. Every access pattern is a key lookup or a query: no scans.
 *
 * | item       | pk               | sk                    | gsi1 (byPipeline)                 | gsi2 (active, sparse)     |
 * |------------|------------------|-----------------------|-----------------------------------|---------------------------|
 * | run        | RUN#<runId>      | RUN                   | PIPELINE#<name> / <created>#<id>  | ACTIVE / <created>#<id>   |
 * | stage      | RUN#<runId>      | STAGE#<name>          |                                   |                           |
 * | notification | RUN#<runId>    | NOTIFY#<channel:what> |                                   |                           |
 * | approval   | RUN#<runId>      | APPROVAL              | CHANGES#<name> / <opened>#<id>    |                           |
 * | decision   | RUN#<runId>      | DECISION#<slot>#<who> |                                   |                           |
 * | deployment | RUN#<runId>      | DEPLOYMENT            | RELEASES#<name> / <started>#<id>  |                           |
 * | used link  | RUN#<runId>      | LINK#<nonce>          |                                   |                           |
 * | audit      | RUN#<runId>      | AUDIT#<seq>           |                                   |                           |
 * | lane       | LANE#<pipeline>  | HOLDER                |                                   |                           |
 * | waiting    | LANE#<pipeline>  | WAIT#<order>#<runId>  |                                   |                           |
 */

export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;

export const INDEXES = {
  /** A pipeline's runs, newest first. */
  byPipeline: { name: 'byPipeline', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** Runs that are queued or running; the attributes are removed when a run ends. */
  active: { name: 'active', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
} as const;

export const keys = {
  run: (runId: string) => ({ pk: `RUN#${runId}`, sk: 'RUN' }),
  stage: (runId: string, stage: string) => ({ pk: `RUN#${runId}`, sk: `STAGE#${stage}` }),
  stagePrefix: 'STAGE#',
  byPipeline: (pipeline: string, createdAt: string, runId: string) => ({
    gsi1pk: `PIPELINE#${pipeline}`,
    gsi1sk: `${createdAt}#${runId}`,
  }),
  /** A pipeline's deployments in the byPipeline index, by start: the releases the metrics read in one query. */
  releases: (pipeline: string, startedAt: string, runId: string) => ({
    gsi1pk: `RELEASES#${pipeline}`,
    gsi1sk: `${startedAt}#${runId}`,
  }),
  /** A pipeline's gates (change records) in the byPipeline index, by opening: the commits its releases carried. */
  changes: (pipeline: string, openedAt: string, runId: string) => ({
    gsi1pk: `CHANGES#${pipeline}`,
    gsi1sk: `${openedAt}#${runId}`,
  }),
  active: (createdAt: string, runId: string) => ({ gsi2pk: 'ACTIVE', gsi2sk: `${createdAt}#${runId}` }),
  notification: (runId: string, id: string) => ({ pk: `RUN#${runId}`, sk: `NOTIFY#${id}` }),
  notificationPrefix: 'NOTIFY#',
  approval: (runId: string) => ({ pk: `RUN#${runId}`, sk: 'APPROVAL' }),
  decision: (runId: string, slot: 'vote' | 'override', approverId: string) => ({
    pk: `RUN#${runId}`,
    sk: `DECISION#${slot}#${approverId}`,
  }),
  decisionPrefix: 'DECISION#',
  deployment: (runId: string) => ({ pk: `RUN#${runId}`, sk: 'DEPLOYMENT' }),
  usedLink: (runId: string, nonce: string) => ({ pk: `RUN#${runId}`, sk: `LINK#${nonce}` }),
  audit: (runId: string, seq: string) => ({ pk: `RUN#${runId}`, sk: `AUDIT#${seq}` }),
  auditPrefix: 'AUDIT#',
  lane: (pipeline: string) => ({ pk: `LANE#${pipeline}`, sk: 'HOLDER' }),
  waiting: (pipeline: string, order: string) => ({ pk: `LANE#${pipeline}`, sk: `WAIT#${order}` }),
  waitingPrefix: 'WAIT#',
} as const;

/** Attributes that exist for the table's keys and indexes only; they never reach a record. */
export const KEY_ATTRIBUTES = ['pk', 'sk', 'kind', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk'] as const;

/** The table as CreateTable describes it: used where no CloudFormation creates it (local mode, tests). */
export function createTableInput(tableName: string) {
  const index = (spec: { name: string; partitionKey: string; sortKey: string }) => ({
    IndexName: spec.name,
    KeySchema: [
      { AttributeName: spec.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: spec.sortKey, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  });
  const attributes = [
    TABLE_KEYS.partitionKey,
    TABLE_KEYS.sortKey,
    ...Object.values(INDEXES).flatMap((i) => [i.partitionKey, i.sortKey]),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: attributes.map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: Object.values(INDEXES).map(index),
  };
}
