/**
 * The release gate: opens with a change record judged by the pipeline's policy, waits for decisions
 * (Slack, email links, the browser, the CLI), and resumes its execution exactly once.
 *
 * - `assessRelease` (the state machine's "Assess release risk"): the change since the last release, its
 *   risk class and what it needs. A standard change is APPROVED at once and the execution does not wait.
 * - `awaitApproval` ("Wait for release approval", `.waitForTaskToken`): keeps the task token on the
 *   approval record, then asks the approvers. Nobody is asked before the token is kept, so every
 *   decision finds a token to resume.
 * - `decide`: one person's decision, from any channel. Recorded once per person (a conditional write);
 *   the gate moves with a conditional write too, so only the writer that ends it resumes the execution.
 * - `sweepApprovals` (a schedule): expires gates past their deadline (from the store and the clock,
 *   not only the Task timeout), opens held gates whose change window has come, and re-sends a resume
 *   that failed.
 */
import {
  approverOf,
  assessRisk,
  describePrincipal,
  eligibility,
  eligibleApprovers,
  freezeInForce,
  notAnApproverMessage,
  requirementOf,
  whoMayDecide,
  type ApprovalPolicy,
  type Approver,
  type Principal,
} from './policy';
import { approvalOutcomeDrafts, approvalRequestDrafts, type Addressee, type ApprovalLinks } from './messages';
import { ApprovalExpiredError, ApprovalRejectedError, DecisionRefusedError } from './errors';
import type { PipelineCatalogEntry } from '../catalog';
import { InvalidTransitionError } from '../errors';
import type {
  ApprovalStore,
  Clock,
  WaitLength,
  NotificationStore,
  PipelineCatalog,
  RunEventPublisher,
  RunHistory,
  RunRepository,
  TaskResumer,
} from '../ports';
import {
  OPEN_APPROVAL_STATUSES,
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalStatus,
  type AuditEvent,
  type ChangeCommit,
  type DecisionChannel,
  type RunRecord,
} from '../records';

/** How many changed files the change record lists (the count is always kept). */
export const MAX_CHANGE_FILES = 200;
/** How far back the change looks for the last release, in runs. */
const MAX_RUNS_LOOKED_AT = 50;

export interface GateDeps {
  readonly runs: RunRepository & RunHistory;
  readonly approvals: ApprovalStore;
  readonly catalog: PipelineCatalog;
  readonly now: Clock;
  /** Where each change of the gate is told (GateChanged: what a live console redraws). @default told nowhere */
  readonly events?: RunEventPublisher;
}

export interface AssessDeps extends GateDeps {
  /** How long the policy's time to expire lasts here: the gate's deadline is that long after it opens. */
  readonly waitLength: WaitLength;
}

export interface AwaitDeps extends GateDeps {
  readonly notifications: NotificationStore;
  readonly events: RunEventPublisher;
  /** Where approvers decide: the gate's page and each approver's signed links. */
  readonly links: (approval: ApprovalRecord) => Promise<ApprovalLinks>;
}

export interface DecideDeps extends GateDeps {
  readonly executions: TaskResumer;
  readonly notifications: NotificationStore;
  readonly events: RunEventPublisher;
  /**
   * Local mode with no terminal: the demo approver may decide, and its decisions are recorded as the
   * demo's. Never set on AWS.
   */
  readonly demoApprover?: boolean;
}

/** What the state machine gets from "Assess release risk". */
export interface Assessment {
  readonly needsApproval: boolean;
  readonly riskClass?: ApprovalRecord['risk']['class'];
  /** The Task timeout of "Wait for release approval" (`gateTimeoutSeconds`). */
  readonly timeoutSeconds: number;
}

/** "Wait for release approval"'s HeartbeatSeconds in statemachines/pipeline.asl.json (a test keeps them equal). */
export const GATE_HEARTBEAT_SECONDS = 1200;

/**
 * The Task timeout of "Wait for release approval": the time left to the deadline, but never down to the Task's
 * heartbeat. Step Functions requires HeartbeatSeconds to be "a positive, non-zero integer less than the number of
 * seconds specified in the TimeoutSeconds field" (Task state,
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html) and does not say what a TimeoutSecondsPath
 * resolving below it does. Nearer the deadline than the heartbeat, the deadline is kept as it always is: the sweep
 * expires the gate and the decision endpoint refuses a late decision; the Task timeout is only their backstop.
 */
export function gateTimeoutSeconds(deadline: string, now: Date): number {
  return Math.max(GATE_HEARTBEAT_SECONDS + 1, Math.ceil((Date.parse(deadline) - now.getTime()) / 1000));
}

/** Opens the gate: the change record and its risk. A pipeline with no policy has no gate. */
export async function assessRelease(runId: string, deps: AssessDeps): Promise<Assessment> {
  const run = await requiredRun(runId, deps);
  const policy = (await deps.catalog.lookup(run.pipeline))?.approval;
  if (!policy) return { needsApproval: false, timeoutSeconds: 1 };
  const existing = await deps.approvals.getApproval(runId);
  const approval = existing ?? (await openGate(run, policy, deps));
  const timeoutSeconds = gateTimeoutSeconds(approval.deadline, deps.now());
  return { needsApproval: approval.status !== 'APPROVED', riskClass: approval.risk.class, timeoutSeconds };
}

async function openGate(run: RunRecord, policy: ApprovalPolicy, deps: AssessDeps): Promise<ApprovalRecord> {
  const now = deps.now();
  const [{ commits, from, files }, stages] = await Promise.all([
    changeSinceLastRelease(run, deps),
    deps.runs.listStages(run.runId),
  ]);
  const risk = assessRisk(policy, { changedFiles: files, commits: commits.length, openedAt: now });
  const change = {
    runId: run.runId,
    pipeline: run.pipeline,
    branch: run.commit.branch,
    commitRange: { ...(from ? { from } : {}), to: run.commit.id },
    commits,
    ...(files ? { changedFiles: files.slice(0, MAX_CHANGE_FILES), changedFileCount: files.length } : {}),
    tests: run.stageNames
      .map((name) => stages.find((s) => s.name === name))
      .filter((s) => s !== undefined)
      .map((s) => ({
        stage: s.name,
        status: s.status,
        ...(s.tests
          ? {
              tests: { total: s.tests.total, passed: s.tests.passed, failed: s.tests.failed, skipped: s.tests.skipped },
            }
          : {}),
      })),
    risk,
    required: requirementOf(policy, risk.class),
    asked: [],
    ...(policy.target ? { target: policy.target } : {}),
    openedAt: now.toISOString(),
    deadline: new Date(now.getTime() + deps.waitLength(policy.expiresAfterHours * 3_600_000)).toISOString(),
  } satisfies Omit<ApprovalRecord, 'status'>;
  const standard = risk.class === 'standard';
  const approval = await deps.approvals.createApproval({
    ...change,
    asked: standard ? [] : eligibleApprovers(policy, { ...change, asked: [] }).map((a) => a.id),
    status: standard ? 'APPROVED' : 'PENDING',
    ...(standard ? { decidedAt: now.toISOString(), outcome: 'a standard change: pre-approved by policy' } : {}),
  });
  await audit(deps, run.runId, 'gate-opened', `risk ${risk.class}: ${risk.reasons.join('; ')}`, { via: 'policy' });
  if (standard)
    await audit(deps, run.runId, 'passed-as-standard', 'pre-approved by policy: no approval needed', { via: 'policy' });
  return approval;
}

/**
 * The runs of the pipeline on this branch since its last release (the newest run whose gate
 * approved), newest first: their commits, and the union of their changed files (undefined when any
 * run's files are unknown).
 */
async function changeSinceLastRelease(
  run: RunRecord,
  deps: GateDeps,
): Promise<{ commits: ChangeCommit[]; from?: string; files?: string[] }> {
  const commits: ChangeCommit[] = [commitOf(run)];
  const files = new Set(run.changedFiles ?? []);
  let known = run.changedFiles !== undefined;
  let cursor: string | undefined;
  let looked = 0;
  do {
    const page = await deps.runs.listRuns(run.pipeline, { limit: 25, cursor });
    for (const earlier of page.items) {
      if (earlier.createdAt >= run.createdAt || earlier.runId === run.runId) continue;
      if (earlier.commit.branch !== run.commit.branch || earlier.status === 'SKIPPED') continue;
      if (++looked > MAX_RUNS_LOOKED_AT) return { commits, ...(known ? { files: [...files] } : {}) };
      const gate = await deps.approvals.getApproval(earlier.runId);
      if (gate?.status === 'APPROVED')
        return { commits, from: earlier.commit.id, ...(known ? { files: [...files] } : {}) };
      if (earlier.commit.id !== run.commit.id) commits.push(commitOf(earlier));
      earlier.changedFiles?.forEach((f) => files.add(f));
      known &&= earlier.changedFiles !== undefined;
    }
    cursor = page.cursor;
  } while (cursor);
  return { commits, ...(known ? { files: [...files] } : {}) };
}

function commitOf(run: RunRecord): ChangeCommit {
  return {
    runId: run.runId,
    id: run.commit.id,
    ...(run.commit.author ? { author: run.commit.author } : {}),
    ...(run.commit.message ? { message: run.commit.message } : {}),
    ...(run.trigger.pushedBy ? { pushedBy: run.trigger.pushedBy } : {}),
    // The commit's times, kept with the change so that the delivery metrics read no run (store/releases.ts).
    ...(run.commit.committedAt ? { committedAt: run.commit.committedAt } : {}),
    pushedAt: run.trigger.eventTime,
  };
}

/**
 * The execution waits: its token is kept, then the approvers are asked. A repeated call (a retried
 * Task) finds the token kept and asks nobody twice (the requests are recorded once).
 */
export async function awaitApproval(runId: string, taskToken: string, deps: AwaitDeps): Promise<ApprovalRecord> {
  const [entry, current] = await inOrder(pipelineOf(runId, deps), requiredApproval(runId, deps));
  let approval = current;
  if (approval.status === 'PENDING') {
    approval = await deps.approvals.transitionApproval(runId, 'WAITING', { taskToken });
  } else if (approval.taskToken !== taskToken) {
    // The Task ran again (a retry, or a redrive after local mode restarted): the newest token is the
    // live one. A gate that ended meanwhile owes it its outcome, which the sweep sends.
    approval = await deps.approvals.replaceTaskToken(runId, taskToken);
  }
  if (!OPEN_APPROVAL_STATUSES.includes(approval.status)) return approval;
  const policy = entry.approval!;
  const addressees = addresseesOf(policy, approval.asked);
  const drafts = approvalRequestDrafts(approval, addressees, entry.notifications, await deps.links(approval));
  await recordDrafts(runId, drafts, deps);
  await audit(
    deps,
    runId,
    'approval-requested',
    `asked ${approval.asked.join(', ') || 'nobody eligible'}; needs ${approval.required.approvals}${approval.required.group ? ` from ${approval.required.group}` : ''}; deadline ${approval.deadline}`,
    { via: 'policy' },
  );
  await deps.events.publish({ kind: 'ApprovalRequested', runId, pipeline: approval.pipeline });
  return approval;
}

/** A decision as a channel hands it over, its person authenticated by the channel. */
export interface DecisionRequest {
  readonly runId: string;
  readonly principal: Principal;
  readonly decision: ApprovalDecision['decision'];
  readonly reason?: string;
  readonly via: DecisionChannel;
  /** A signed link's nonce: each link works once. */
  readonly linkNonce?: string;
  /** Local mode's demo approver (only honoured when DecideDeps.demoApprover is set). */
  readonly demo?: boolean;
}

export interface DecisionResult {
  readonly approval: ApprovalRecord;
  /** What the decider is told. */
  readonly message: string;
  /** Whether this decision ended the gate (and resumed the execution). */
  readonly ended: boolean;
}

/** The minimum a rejection's or an override's reason must say. */
const MIN_REASON_LENGTH = 3;

/**
 * One person's decision. Throws a DecisionRefusedError (with the HTTP status that fits) when the gate
 * is not open, the person may not decide, the link was used, or the reason is missing — each refusal
 * audited; otherwise records the decision once and moves the gate when the policy is satisfied.
 */
export async function decide(request: DecisionRequest, deps: DecideDeps): Promise<DecisionResult> {
  const [entry, current] = await inOrder(pipelineOf(request.runId, deps), requiredApproval(request.runId, deps));
  let approval = current;
  const policy = entry.approval!;
  const now = deps.now();
  const refuse = async (status: DecisionRefusedError['status'], message: string, actor?: string): Promise<never> => {
    await audit(deps, request.runId, 'decision-refused', `${request.decision}: ${message}`, {
      actor: actor ?? describePrincipal(request.principal),
      via: request.via,
    });
    throw new DecisionRefusedError(status, message);
  };

  if (approval.status === 'PENDING')
    return refuse(409, 'the gate is not open yet: its approvers have not been asked; try again in a moment');
  // An execution stopped while it waited (aborted, timed out) leaves its gate open: nothing to decide for.
  const run = await requiredRun(request.runId, deps);
  if (run.status !== 'RUNNING' && OPEN_APPROVAL_STATUSES.includes(approval.status))
    return refuse(409, `the gate is closed: run ${run.runId} is ${run.status} (${run.failure?.error ?? 'ended'})`);
  // Expired by the sweep or the Task's timeout: refused as a decision after the deadline is (below).
  if (approval.status === 'EXPIRED') return refuse(410, `the gate expired at ${approval.deadline}`);
  if (!OPEN_APPROVAL_STATUSES.includes(approval.status))
    return refuse(
      409,
      `the gate is closed: the release was ${approval.status.toLowerCase()}${approval.decidedAt ? ` at ${approval.decidedAt}` : ''}`,
    );
  if (Date.parse(approval.deadline) <= now.getTime()) {
    await expire(approval, deps);
    return refuse(410, `the gate expired at ${approval.deadline}`);
  }
  if (request.demo === true && deps.demoApprover !== true)
    return refuse(
      403,
      "local mode's demo approver decides only when local mode has no terminal to ask a person at",
      'local mode demo approver',
    );
  const demo = request.demo === true;
  const approver: Approver | undefined = demo ? undefined : approverOf(policy, request.principal);
  if (!demo && !approver)
    return refuse(403, notAnApproverMessage(policy, request.principal, approval, request.decision));
  if (
    (request.decision === 'reject' || request.decision === 'override') &&
    (request.reason?.trim().length ?? 0) < MIN_REASON_LENGTH
  )
    return refuse(
      400,
      `${request.decision === 'reject' ? 'a rejection' : 'an emergency override'} needs a reason`,
      approver?.id,
    );
  if (approver) {
    const why = eligibility(policy, approver, approval, request.decision);
    if (why)
      return refuse(
        403,
        `${why}; ${whoMayDecide(policy, approval, request.decision, request.principal.kind)}`,
        approver.id,
      );
  }
  if (request.linkNonce && !(await deps.approvals.useLink(request.runId, request.linkNonce, now.toISOString())))
    return refuse(410, 'this link was used already: each link works once', approver?.id);

  const approverIds = demo ? demoIdentities(approval, request.decision) : [approver!.id];
  const decision = (approverId: string): ApprovalDecision => ({
    runId: request.runId,
    approverId,
    decision: request.decision,
    ...(request.reason ? { reason: request.reason.trim() } : {}),
    via: request.via,
    principal: demo ? 'local mode demo approver' : describePrincipal(request.principal),
    at: now.toISOString(),
    ...(demo ? { demo: true } : {}),
  });
  let repeated: ApprovalDecision | undefined;
  for (const id of approverIds) {
    const earlier = await deps.approvals.recordDecision(decision(id));
    if (earlier) repeated ??= earlier;
    else
      await audit(
        deps,
        request.runId,
        'decision-recorded',
        `${request.decision}${request.reason ? `: ${request.reason.trim()}` : ''}${demo ? ' (local mode demo approver, not a person)' : ''}`,
        { actor: id, via: request.via },
      );
  }
  if (repeated && !demo) {
    await audit(deps, request.runId, 'decision-repeated', `${repeated.decision} at ${repeated.at} counts once`, {
      actor: repeated.approverId,
      via: request.via,
    });
    approval = (await deps.approvals.getApproval(request.runId)) ?? approval;
    return {
      approval,
      ended: false,
      message: `your ${repeated.decision} of ${repeated.at} was counted already; it counts once`,
    };
  }

  switch (request.decision) {
    case 'reject':
      return end(
        approval,
        'REJECTED',
        { outcome: `rejected by ${approverIds.join(', ')}: ${request.reason!.trim()}` },
        deps,
      );
    case 'override':
      return end(
        approval,
        'APPROVED',
        {
          override: { by: approverIds[0]!, reason: request.reason!.trim(), at: now.toISOString() },
          postImplementationReview: true,
          outcome: `emergency override by ${approverIds[0]}: ${request.reason!.trim()}`,
        },
        deps,
      );
    case 'approve': {
      const approvedBy = (await deps.approvals.listDecisions(request.runId))
        .filter((d) => d.decision === 'approve')
        .map((d) => d.approverId);
      const missing = approval.required.approvals - approvedBy.length;
      if (missing > 0) {
        return {
          approval,
          ended: false,
          message: `approval recorded; ${missing} more distinct approval${missing > 1 ? 's' : ''} needed${approval.required.group ? ` from group ${approval.required.group}` : ''}`,
        };
      }
      const freeze = freezeInForce(policy, now);
      if (freeze) {
        if (approval.status === 'HELD')
          return { approval, ended: false, message: 'approval recorded; the release is held for its change window' };
        const held = await moveGate(
          approval,
          'HELD',
          {
            approvedBy,
            heldBy: { freeze: freeze.name, ...(freeze.until ? { until: freeze.until.toISOString() } : {}) },
          },
          deps,
        );
        if (!held) return { approval, ended: false, message: 'approval recorded' };
        await audit(
          deps,
          request.runId,
          'held-for-window',
          `approved, held by freeze "${freeze.name}" until ${freeze.until?.toISOString() ?? 'it ends'}; an emergency approver may override`,
          { via: 'policy' },
        );
        return {
          approval: held,
          ended: false,
          message: `approved; the release is held by freeze "${freeze.name}" until ${freeze.until?.toISOString() ?? 'it ends'}`,
        };
      }
      return end(approval, 'APPROVED', { approvedBy, outcome: `approved by ${approvedBy.join(', ')}` }, deps);
    }
  }
}

/** The demo approver stands in for as many people as the class needs, each recorded as the demo. */
function demoIdentities(approval: ApprovalRecord, decision: ApprovalDecision['decision']): string[] {
  const count = decision === 'approve' ? Math.max(1, approval.required.approvals) : 1;
  return Array.from({ length: count }, (_, i) => `demo-approver-${i + 1}`);
}

/**
 * Ends the gate if it is still open (a conditional write: of two writers, one ends it), then resumes
 * the execution. Only the writer that ended it resumes; a resume that fails is re-sent by the sweep.
 */
async function end(
  approval: ApprovalRecord,
  to: 'APPROVED' | 'REJECTED' | 'EXPIRED',
  fields: Partial<ApprovalRecord>,
  deps: DecideDeps,
): Promise<DecisionResult> {
  const ended = await moveGate(approval, to, { ...fields, decidedAt: deps.now().toISOString() }, deps);
  if (!ended) {
    const current = (await deps.approvals.getApproval(approval.runId)) ?? approval;
    // Another writer moved it meanwhile without ending it (held for its change window): the decision stands.
    if (OPEN_APPROVAL_STATUSES.includes(current.status))
      return {
        approval: current,
        ended: false,
        message: `decision recorded; the gate is ${current.status.toLowerCase()}`,
      };
    return {
      approval: current,
      ended: false,
      message: `the gate is closed: the release was ${current.status.toLowerCase()}`,
    };
  }
  const kind =
    to === 'APPROVED' ? (ended.override ? 'override' : 'approved') : to === 'REJECTED' ? 'rejected' : 'expired';
  await audit(deps, approval.runId, kind, ended.outcome ?? to.toLowerCase(), {
    via: to === 'EXPIRED' ? 'clock' : 'policy',
  });
  // The execution first: telling people can wait a moment, the release should not.
  await resume(ended, deps);
  await announceOutcome(ended, deps);
  return { approval: ended, ended: true, message: ended.outcome ?? to.toLowerCase() };
}

async function moveGate(
  approval: ApprovalRecord,
  to: ApprovalStatus,
  fields: Partial<ApprovalRecord>,
  deps: GateDeps,
): Promise<ApprovalRecord | undefined> {
  try {
    // From the status this writer read: of two writers ending the gate, only one moves it.
    return await deps.approvals.transitionApproval(approval.runId, to, fields, approval.status);
  } catch (error) {
    if (error instanceof InvalidTransitionError) return undefined;
    throw error;
  }
}

/** Tells the execution how its gate ended; recorded so that the sweep re-sends a failed one. */
async function resume(approval: ApprovalRecord, deps: DecideDeps): Promise<void> {
  if (!approval.taskToken || approval.resumedAt) return;
  const failure = approval.status === 'APPROVED' ? undefined : gateFailure(approval);
  const outcome = failure
    ? // SendTaskFailure's error and cause: the error's name, which the Catch matches, and its message.
      await deps.executions.fail(approval.taskToken, failure.name, failure.message)
    : await deps.executions.succeed(approval.taskToken, {
        status: 'APPROVED',
        riskClass: approval.risk.class,
        approvedBy: approval.approvedBy ?? [],
        ...(approval.override ? { override: approval.override } : {}),
      });
  await deps.approvals.markResumed(approval.runId, deps.now().toISOString());
  await audit(
    deps,
    approval.runId,
    'execution-resumed',
    outcome === 'resumed' ? `execution told: ${approval.status}` : `execution had ended already (${outcome})`,
    { via: 'policy' },
  );
}

/** The error a gate that ended without approval fails its Task with: rejected, or expired. */
function gateFailure(approval: ApprovalRecord): ApprovalRejectedError | ApprovalExpiredError {
  const reason = approval.outcome ?? approval.status;
  return approval.status === 'REJECTED' ? new ApprovalRejectedError(reason) : new ApprovalExpiredError(reason);
}

async function expire(approval: ApprovalRecord, deps: DecideDeps): Promise<void> {
  await end(approval, 'EXPIRED', { outcome: expiryOutcome(approval) }, deps);
}

/**
 * Why a gate expired: nobody decided, or it was approved and a freeze held it past the deadline (the
 * deadline is the wait's hard limit on AWS too: the Task's timeout).
 */
function expiryOutcome(approval: ApprovalRecord): string {
  if (approval.status === 'HELD')
    return `approved by ${(approval.approvedBy ?? []).join(', ')}, but held by freeze "${approval.heldBy?.freeze ?? ''}" past the deadline ${approval.deadline}`;
  return `nobody decided before the deadline ${approval.deadline}`;
}

/**
 * The schedule's round over open gates: expire the overdue, release the held whose window has come,
 * re-send resumes that failed. Returns what it did, by run.
 */
export async function sweepApprovals(deps: DecideDeps): Promise<Record<string, string>> {
  const done: Record<string, string> = {};
  const now = deps.now();
  let cursor: string | undefined;
  do {
    const page = await deps.runs.listActiveRuns({ limit: 50, cursor });
    for (const run of page.items) {
      // One gate's failure (its resume refused, a throttled write) does not keep the others waiting for the
      // next round: it is reported in the round's result, and the next round tries it again.
      try {
        const outcome = await sweepGate(run, now, deps);
        if (outcome) done[run.runId] = outcome;
      } catch (error) {
        done[run.runId] = `failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
      }
    }
    cursor = page.cursor;
  } while (cursor);
  return done;
}

/** One round of the sweep for one active run's gate: what it did, if anything. */
async function sweepGate(run: RunRecord, now: Date, deps: DecideDeps): Promise<string | undefined> {
  const approval = await deps.approvals.getApproval(run.runId);
  if (!approval) return undefined;
  if (!OPEN_APPROVAL_STATUSES.includes(approval.status)) {
    if (!approval.taskToken || approval.resumedAt) return undefined;
    await resume(approval, deps);
    return 'resumed';
  }
  if (Date.parse(approval.deadline) <= now.getTime()) {
    await expire(approval, deps);
    return 'expired';
  }
  if (approval.status === 'HELD') {
    const policy = (await deps.catalog.lookup(run.pipeline))?.approval;
    if (policy && !freezeInForce(policy, now)) {
      const result = await end(
        approval,
        'APPROVED',
        {
          outcome: `approved by ${(approval.approvedBy ?? []).join(', ')}; released when freeze "${approval.heldBy?.freeze}" ended`,
        },
        deps,
      );
      if (result.ended) {
        await audit(deps, run.runId, 'released-by-window', `freeze "${approval.heldBy?.freeze}" ended`, {
          via: 'clock',
        });
        return 'released';
      }
    }
  }
  return undefined;
}

/**
 * Records the gate's end when the execution ended it itself (the Task timed out before anyone
 * decided): the recorder calls this for an expired run.
 */
export async function closeExpiredGate(runId: string, deps: GateDeps): Promise<void> {
  const approval = await deps.approvals.getApproval(runId);
  if (!approval || !OPEN_APPROVAL_STATUSES.includes(approval.status)) return;
  const ended = await moveGate(
    approval,
    'EXPIRED',
    {
      decidedAt: deps.now().toISOString(),
      outcome: expiryOutcome(approval),
      // The execution ended it: there is nothing to resume.
      resumedAt: deps.now().toISOString(),
    },
    deps,
  );
  if (ended) await audit(deps, runId, 'expired', ended.outcome!, { via: 'clock' });
}

/** The gates waiting for a person, oldest first, with who may decide each (for `stepline approvals`). */
export async function openApprovals(deps: GateDeps): Promise<ApprovalRecord[]> {
  const open: ApprovalRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.runs.listActiveRuns({ limit: 50, cursor });
    for (const run of page.items) {
      const approval = await deps.approvals.getApproval(run.runId);
      if (approval && OPEN_APPROVAL_STATUSES.includes(approval.status)) open.push(approval);
    }
    cursor = page.cursor;
  } while (cursor);
  return open;
}

/** An approval as shown outside the platform: never its task token. */
export function publicView(approval: ApprovalRecord): Omit<ApprovalRecord, 'taskToken'> {
  const { taskToken: _token, ...shown } = approval;
  return shown;
}

async function announceOutcome(approval: ApprovalRecord, deps: DecideDeps): Promise<void> {
  const entry = await deps.catalog.lookup(approval.pipeline);
  const addressees = entry?.approval ? addresseesOf(entry.approval, approval.asked) : [];
  await recordDrafts(approval.runId, approvalOutcomeDrafts(approval, addressees, entry?.notifications), deps);
  // Best effort: the outcome is recorded; the notifier's retries deliver it when the event arrives.
  await deps.events
    .publish({ kind: 'ApprovalDecided', runId: approval.runId, pipeline: approval.pipeline })
    .catch(() => undefined);
}

async function recordDrafts(
  runId: string,
  drafts: ReturnType<typeof approvalRequestDrafts>,
  deps: { notifications: NotificationStore; now: Clock },
): Promise<void> {
  for (const draft of drafts) {
    await deps.notifications.recordNotification({
      runId,
      ...draft,
      status: 'PENDING',
      createdAt: deps.now().toISOString(),
      attempts: [],
    });
  }
}

function addresseesOf(policy: ApprovalPolicy, ids: readonly string[]): Addressee[] {
  return ids
    .map((id) => policy.approvers.find((a) => a.id === id))
    .filter((a): a is Approver => a !== undefined)
    .map((a) => ({ id: a.id, ...(a.name ? { name: a.name } : {}), email: a.emails[0]! }));
}

/**
 * Every change of a gate (opened, asked, a decision or a refusal, held, ended, resumed) is written to its audit trail
 * here, and told as GateChanged: best effort, as the gate's other announcements are (it never fails a decision).
 */
async function audit(
  deps: { approvals: ApprovalStore; now: Clock; events?: RunEventPublisher },
  runId: string,
  event: AuditEvent['event'],
  detail: string,
  who: Pick<AuditEvent, 'actor' | 'via'> = {},
): Promise<void> {
  await deps.approvals.appendAudit({ runId, at: deps.now().toISOString(), event, detail, ...who });
  const { events } = deps;
  if (!events) return;
  const pipeline = (await deps.approvals.getApproval(runId).catch(() => undefined))?.pipeline;
  if (pipeline) await events.publish({ kind: 'GateChanged', runId, pipeline }).catch(() => undefined);
}

/**
 * Two independent reads made at once; when both fail, the first one's error is thrown, as when they were
 * made one after the other.
 */
async function inOrder<A, B>(first: Promise<A>, second: Promise<B>): Promise<[A, B]> {
  const [a, b] = await Promise.allSettled([first, second]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  return [a.value, b.value];
}

async function requiredRun(runId: string, deps: GateDeps): Promise<RunRecord> {
  const run = await deps.runs.getRun(runId);
  if (!run) throw new DecisionRefusedError(404, `run ${runId} does not exist`);
  return run;
}

async function requiredApproval(runId: string, deps: GateDeps): Promise<ApprovalRecord> {
  const approval = await deps.approvals.getApproval(runId);
  if (!approval) throw new DecisionRefusedError(404, `run ${runId} has no release gate`);
  return approval;
}

async function pipelineOf(runId: string, deps: GateDeps): Promise<PipelineCatalogEntry & { approval: ApprovalPolicy }> {
  const run = await requiredRun(runId, deps);
  const entry = await deps.catalog.lookup(run.pipeline);
  if (!entry?.approval) throw new DecisionRefusedError(404, `pipeline ${run.pipeline} has no release gate`);
  return entry as PipelineCatalogEntry & { approval: ApprovalPolicy };
}
