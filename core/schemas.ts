/** Runtime validation of what crosses a boundary into a handler; each schema matches a type of records.ts. */
import * as z from 'zod';
import { approvalPolicySchema, type CallerNaming } from './approval/policy';
import { deploySchema } from './deployment/config';
import { InvalidRequestError } from './errors';
import type { PipelineCatalogEntry } from './catalog';
import type { ProgressEvent, RunEvent, SourceChanged } from './records';

const id = z.string().min(1).max(1024);
const taskError = z.object({ Error: z.string(), Cause: z.string().optional() });

const commitId = z.string().regex(/^[0-9a-f]{40}$/, 'must be a 40-character hex commit id');

/**
 * Bounds that keep a SourceChanged event within EventBridge's 256 KB entry: a push that changes more
 * files than this is sent without its list (`changedFiles` absent = not known), never cut.
 */
export const SOURCE_CHANGED_LIMITS = {
  changedFiles: 1000,
  path: 1024,
  /** All the listed paths together: with the message and the rest, well under 256 KB. */
  changedFilesCharacters: 128 * 1024,
  message: 16 * 1024,
} as const;

export const sourceChangedSchema = z.object({
  pipeline: id,
  repository: id,
  branch: id,
  referenceType: z.enum(['branch', 'tag']).default('branch'),
  parentCommitId: commitId.optional(),
  commitId,
  author: z.object({ name: z.string().max(1024), email: z.string().max(1024) }).optional(),
  message: z.string().max(SOURCE_CHANGED_LIMITS.message).optional(),
  committedAt: z.iso.datetime({ offset: true }).optional(),
  changedFiles: z
    .array(z.string().min(1).max(SOURCE_CHANGED_LIMITS.path))
    .max(SOURCE_CHANGED_LIMITS.changedFiles)
    .refine(
      (files) => files.reduce((sum, file) => sum + file.length, 0) <= SOURCE_CHANGED_LIMITS.changedFilesCharacters,
      `the listed paths must total at most ${SOURCE_CHANGED_LIMITS.changedFilesCharacters} characters`,
    )
    .optional(),
  trigger: z.object({
    kind: z.enum(['codecommit', 'github', 'manual']),
    deliveryId: id,
    eventTime: z.string().min(1),
    pushedBy: z.string().optional(),
    rerunOf: id.optional(),
  }),
}) satisfies z.ZodType<SourceChanged, unknown>;

/**
 * What the push rule hands the source-change publisher (core/sources/triggers.ts `codeCommitPushTrigger`):
 * a SourceChanged detail without its pipeline (the publisher finds the pipelines following the repository)
 * and the two fields a push may lack, and the push's
 * own detail, in which `oldCommitId` is absent when the push created the branch (`referenceCreated`)
 * and `callerUserArn` when CodeCommit does not name the caller.
 */
export const codeCommitPushSchema = sourceChangedSchema.omit({ pipeline: true, parentCommitId: true }).extend({
  trigger: sourceChangedSchema.shape.trigger.omit({ pushedBy: true, rerunOf: true }),
  push: z.object({
    event: z.enum(['referenceCreated', 'referenceUpdated']),
    oldCommitId: commitId.optional(),
    callerUserArn: z.string().min(1).max(2048).optional(),
  }),
});

export const progressEventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('runStarted'), runId: id, executionArn: id, startedAt: id }),
  z.object({ kind: z.literal('stageStarted'), runId: id, stage: id }),
  z.object({ kind: z.literal('stageSucceeded'), runId: id, stage: id, buildId: id }),
  z.object({ kind: z.literal('stageFailed'), runId: id, stage: id, error: taskError }),
  z.object({ kind: z.literal('runSucceeded'), runId: id }),
  z.object({ kind: z.literal('runFailed'), runId: id, error: taskError.optional() }),
  z.object({ kind: z.enum(['runRejected', 'runExpired']), runId: id, error: taskError.optional() }),
  z.object({
    kind: z.literal('executionEnded'),
    runId: id,
    status: z.enum(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']),
  }),
  z.object({ kind: z.literal('sweep') }),
]) satisfies z.ZodType<ProgressEvent>;

const stagePlanSchema = z.object({ name: id, project: id });

export const catalogEntrySchema = z.object({
  stateMachineArn: id,
  source: z.object({ kind: z.enum(['codecommit', 'github']), repository: id, branch: id.optional() }),
  stages: z.object({
    build: stagePlanSchema,
    tests: z.array(stagePlanSchema),
    testConcurrency: z.number().int().min(0),
  }),
  filters: z.object({
    branches: z.array(id).min(1),
    tags: z.boolean(),
    skipMarkers: z.array(id),
    paths: z.object({ include: z.array(id), exclude: z.array(id) }).optional(),
  }),
  executionMode: z.enum(['QUEUED', 'SUPERSEDED', 'PARALLEL']),
  notifications: z
    .object({
      on: z.object({ failed: z.boolean(), fixed: z.boolean(), succeeded: z.boolean() }),
      slack: z.object({ webhookUrlSecret: id }).optional(),
      email: z.object({ from: id, to: z.array(id) }).optional(),
      githubStatuses: z.object({ tokenSecret: id }).optional(),
    })
    .optional(),
  approval: approvalPolicySchema.optional(),
  deploy: deploySchema.optional(),
}) satisfies z.ZodType<PipelineCatalogEntry>;

export const runEventSchema = z.object({
  kind: z.enum(['RunStarted', 'RunEnded', 'ApprovalRequested', 'ApprovalDecided']),
  runId: id,
  pipeline: id,
}) satisfies z.ZodType<RunEvent>;

/** What the state machine asks of the release gate function (lambdas/approval-gate.ts). */
export const gateRequestSchema = z.discriminatedUnion('kind', [
  /** "Assess release risk": open the gate with its change record. */
  z.object({ kind: z.literal('assess'), runId: id }),
  /** "Wait for release approval": keep the task token, ask the approvers. */
  z.object({ kind: z.literal('await'), runId: id, taskToken: z.string().min(1).max(2048) }),
]);

/** What an operator may do to a run's deployment (`stepline deploy <action>`). */
export const DEPLOYMENT_CONTROL_ACTIONS = ['promote', 'pause', 'resume', 'abort'] as const;

/** An operator's control as the CLI sends it and the decision endpoint's deployments route takes it. */
export const deploymentControlSchema = z.strictObject({
  action: z.enum(DEPLOYMENT_CONTROL_ACTIONS, { error: 'action must be promote, pause, resume or abort' }),
  reason: z.string().trim().min(3, 'say why (--reason)').max(1000),
});

/** An operator's control of a run's deployment, as the deploy function takes it: what, on which run, by whom. */
export type DeploymentControl = z.infer<typeof deploymentControlSchema> & {
  readonly runId: string;
  readonly by: string;
};

/**
 * What the state machine's deployment steps, the alarm rule, operators and the end of an execution
 * ask of the deploy function.
 */
export const deployRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('start'), runId: id }),
  z.object({ kind: z.literal('release'), runId: id, buildId: id }),
  z.object({ kind: z.literal('staging'), runId: id, buildId: id }),
  z.object({ kind: z.literal('shift'), runId: id, step: z.number().int().min(0) }),
  z.object({ kind: z.literal('check'), runId: id }),
  z.object({ kind: z.literal('promote'), runId: id }),
  z.object({ kind: z.literal('finish'), runId: id }),
  z.object({ kind: z.literal('rollback'), runId: id, error: taskError.optional() }),
  /**
   * From the deploy function's alarm rule: CloudWatch Alarm State Change of any alarm named with stepline's
   * prefix, as its input transformer shapes it (core/alarms/deployment-alarms.ts deploymentAlarmTrigger);
   * the alarm's name says which pipeline it concerns.
   */
  z.object({
    kind: z.literal('alarm'),
    alarmName: id,
    state: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
    reason: z.string().optional(),
    timestamp: z.string(),
    /** The account of an alarm a target stack forwarded (core/deployment/targets.ts forwardedAlarmTrigger). */
    forwardedFrom: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
  }),
  z.object({ kind: z.literal('control'), runId: id, by: id, ...deploymentControlSchema.shape }),
  /**
   * From the deploy function's execution-ended rule: Step Functions Execution Status Change, as its input
   * transformer (core/sources/triggers.ts executionEndedTrigger) shapes it — the run id is the execution's name.
   */
  z.object({
    kind: z.literal('executionEnded'),
    runId: id,
    status: z.enum(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']),
  }),
]);

/**
 * What the decision function is invoked with: its schedule's sweep, or a request of the approvals HTTP
 * API (payload format 2.0; only what routing needs is checked here, each route reads the rest).
 */
export const decisionEventSchema = z.union([
  z.object({ kind: z.literal('sweep') }),
  z.looseObject({
    rawPath: z.string().min(1),
    requestContext: z.looseObject({ http: z.looseObject({ method: z.string().min(1) }) }),
  }),
]);

/** A Slack interaction the decision endpoint takes: a click on a gate message's button. */
export const slackBlockActionsSchema = z.object({
  type: z.literal('block_actions', { error: 'only block_actions interactions are handled' }),
  user: z.object({ id: z.string().min(1).max(64) }),
  response_url: z.string().url().optional(),
  actions: z
    .array(z.object({ action_id: z.string(), block_id: z.string().max(255), value: z.string().max(3000).optional() }))
    .min(1),
});

/** A decision as the CLI posts it to `/cli/approvals/<run>`. */
export const cliDecisionSchema = z.strictObject({
  decision: z.enum(['approve', 'reject', 'override']),
  reason: z.string().max(1000).optional(),
});

/**
 * How an authorizer's context names the caller to them (local mode's: their git email). Only an
 * authorizer sets it; on AWS the CLI routes are IAM-authorized and it is absent.
 */
export const callerNamingSchema = z.strictObject({
  you: z.string().min(1).max(200),
  remedy: z.string().min(1).max(200),
}) satisfies z.ZodType<CallerNaming>;

/** Parses `input` or throws InvalidRequestError naming every bad field. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidRequestError(
    `invalid ${what}`,
    result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`),
  );
}

/** `stepline release`'s body (`POST /cli/releases/<pipeline>`): the commit to run, else the branch head. */
export const manualReleaseSchema = z.strictObject({ commit: commitId.optional() });

/** An HTTP API request (payload format 2.0), as the run controls' routes read it; the rest is read by route. */
export const httpApiRequestSchema = z.looseObject({
  rawPath: z.string().min(1).max(2048),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
  requestContext: z.looseObject({
    http: z.looseObject({ method: z.string().min(1) }),
    authorizer: z.looseObject({ iam: z.looseObject({ userArn: z.string().min(1).optional() }).optional() }).optional(),
  }),
});
