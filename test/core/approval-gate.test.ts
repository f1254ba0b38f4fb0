/**
 * The release gate's rules (core/approval/gate.ts) as docs/governance.md states them, against the pure module: its
 * ports are in-memory fakes that behave as the run store and Step Functions do (a Map per kind of item, the
 * gate's transitions from core/records.ts, one decision slot per person, an audit trail in append order).
 * The gate is opened and waited on by the product's own assessRelease and awaitApproval, so every record a
 * decision meets is one the gate wrote.
 */
import { approvalPolicySchema, type ApprovalPolicyInput, type Principal } from '../../core/approval/policy';
import {
  assessRelease,
  awaitApproval,
  decide,
  sweepApprovals,
  type DecideDeps,
  type DecisionRequest,
} from '../../core/approval/gate';
import { DecisionRefusedError } from '../../core/approval/errors';
import type { PipelineCatalogEntry } from '../../core/catalog';
import { InvalidTransitionError } from '../../core/errors';
import type {
  ApprovalStore,
  ApprovalUpdate,
  NotificationStore,
  RunHistory,
  RunRepository,
  RunUpdate,
  TaskResumer,
} from '../../core/ports';
import {
  APPROVAL_TRANSITIONS,
  RUN_TRANSITIONS,
  predecessors,
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalStatus,
  type AuditEvent,
  type NotificationRecord,
  type RunEvent,
  type RunRecord,
  type RunStatus,
  type StageRecord,
} from '../../core/records';
import { queuedRun } from '../support/records';

/** Moves a record along its transition table as the run store's conditional write does. */
function transition<S extends string, R extends { status: S }>(
  record: R | undefined,
  table: Readonly<Record<S, readonly S[]>>,
  label: string,
  to: S,
  fields: object,
  from?: S,
): R {
  if (!record) throw new Error(`${label} does not exist`);
  // With `from`, the write holds from that status only (ApprovalStore.transitionApproval).
  if (from !== undefined && record.status !== from) throw new InvalidTransitionError(label, record.status, to);
  // The record is already where this write would take it: a retried task, not a conflict (as the store).
  if (record.status === to) return record;
  if (!predecessors(table, to).includes(record.status)) throw new InvalidTransitionError(label, record.status, to);
  const defined = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  return { ...record, ...defined, status: to };
}

/** The run store as the gate uses it, in memory. */
class MemoryStore implements RunRepository, RunHistory, ApprovalStore, NotificationStore {
  readonly runs = new Map<string, RunRecord>();
  readonly approvals = new Map<string, ApprovalRecord>();
  /** By `<runId>/<slot>/<approverId>`: approve and reject share a person's vote slot, an override has its own. */
  readonly decisions = new Map<string, ApprovalDecision>();
  readonly links = new Set<string>();
  readonly audit: AuditEvent[] = [];
  readonly notifications = new Map<string, NotificationRecord>();

  async createRun(run: RunRecord): Promise<RunRecord> {
    if (this.runs.has(run.runId)) throw new Error(`run ${run.runId} exists`);
    this.runs.set(run.runId, run);
    return run;
  }
  async getRun(runId: string): Promise<RunRecord | undefined> {
    return this.runs.get(runId);
  }
  async listStages(): Promise<StageRecord[]> {
    return [];
  }
  async transitionRun(runId: string, to: RunStatus, fields: RunUpdate = {}): Promise<RunRecord> {
    const moved = transition(this.runs.get(runId), RUN_TRANSITIONS, `run ${runId}`, to, fields);
    this.runs.set(runId, moved);
    return moved;
  }
  async transitionStage(): Promise<StageRecord> {
    throw new Error('the release gate records no stage');
  }
  async listRuns(pipeline: string): Promise<{ items: RunRecord[] }> {
    const items = [...this.runs.values()].filter((r) => r.pipeline === pipeline);
    return { items: items.sort((a, b) => b.createdAt.localeCompare(a.createdAt)) };
  }
  async listActiveRuns(): Promise<{ items: RunRecord[] }> {
    const items = [...this.runs.values()].filter((r) => r.status === 'QUEUED' || r.status === 'RUNNING');
    return { items: items.sort((a, b) => a.createdAt.localeCompare(b.createdAt)) };
  }

  async createApproval(approval: ApprovalRecord): Promise<ApprovalRecord> {
    const existing = this.approvals.get(approval.runId);
    if (existing) return existing;
    this.approvals.set(approval.runId, approval);
    return approval;
  }
  async getApproval(runId: string): Promise<ApprovalRecord | undefined> {
    return this.approvals.get(runId);
  }
  async transitionApproval(
    runId: string,
    to: ApprovalStatus,
    fields: ApprovalUpdate = {},
    from?: ApprovalStatus,
  ): Promise<ApprovalRecord> {
    const label = `release gate of run ${runId}`;
    const moved = transition(this.approvals.get(runId), APPROVAL_TRANSITIONS, label, to, fields, from);
    this.approvals.set(runId, moved);
    return moved;
  }
  async markResumed(runId: string, at: string): Promise<void> {
    const approval = this.approvals.get(runId);
    if (approval && !approval.resumedAt) this.approvals.set(runId, { ...approval, resumedAt: at });
  }
  async replaceTaskToken(runId: string, taskToken: string): Promise<ApprovalRecord> {
    const approval = this.approvals.get(runId);
    if (!approval || approval.status === 'PENDING') throw new Error(`the gate of ${runId} is not waiting`);
    const { resumedAt: _owed, ...rest } = approval;
    const replaced = { ...rest, taskToken };
    this.approvals.set(runId, replaced);
    return replaced;
  }
  async recordDecision(decision: ApprovalDecision): Promise<ApprovalDecision | undefined> {
    const slot = decision.decision === 'override' ? 'override' : 'vote';
    const key = `${decision.runId}/${slot}/${decision.approverId}`;
    const earlier = this.decisions.get(key);
    if (earlier) return earlier;
    this.decisions.set(key, decision);
    return undefined;
  }
  async listDecisions(runId: string): Promise<ApprovalDecision[]> {
    return [...this.decisions.values()].filter((d) => d.runId === runId).sort((a, b) => a.at.localeCompare(b.at));
  }
  async useLink(runId: string, nonce: string): Promise<boolean> {
    const key = `${runId}/${nonce}`;
    if (this.links.has(key)) return false;
    this.links.add(key);
    return true;
  }
  async appendAudit(event: AuditEvent): Promise<void> {
    this.audit.push(event);
  }
  async listAudit(runId: string): Promise<AuditEvent[]> {
    return this.audit.filter((e) => e.runId === runId);
  }

  async recordNotification(notification: NotificationRecord): Promise<NotificationRecord> {
    const key = `${notification.runId}/${notification.id}`;
    const existing = this.notifications.get(key);
    if (existing) return existing;
    this.notifications.set(key, notification);
    return notification;
  }
  async claimNotification(): Promise<boolean> {
    throw new Error('the release gate delivers no notification');
  }
  async recordAttempt(): Promise<void> {
    throw new Error('the release gate delivers no notification');
  }
  async listNotifications(runId: string): Promise<NotificationRecord[]> {
    return [...this.notifications.values()].filter((n) => n.runId === runId);
  }
}

/**
 * Step Functions' waiting tasks: a token resumes its task once (SendTaskSuccess / SendTaskFailure), after which
 * the task has ended; what each task was told is kept.
 */
class MemoryTasks implements TaskResumer {
  readonly told = new Map<
    string,
    { kind: 'succeeded'; output: Record<string, unknown> } | { kind: 'failed'; error: string; cause: string }
  >();
  private readonly waiting = new Set<string>();
  /** While true, Step Functions cannot be reached: every call fails, as a network error does. */
  unreachable = false;
  /** Tokens whose calls fail (one execution's resume refused while the others go through). */
  readonly failing = new Set<string>();

  wait(taskToken: string): void {
    this.waiting.add(taskToken);
  }
  async succeed(taskToken: string, output: Record<string, unknown>): Promise<'resumed' | 'ended'> {
    return this.end(taskToken, { kind: 'succeeded', output });
  }
  async fail(taskToken: string, error: string, cause: string): Promise<'resumed' | 'ended'> {
    return this.end(taskToken, { kind: 'failed', error, cause });
  }
  async heartbeat(taskToken: string): Promise<'resumed' | 'ended'> {
    return this.waiting.has(taskToken) ? 'resumed' : 'ended';
  }
  private end(taskToken: string, outcome: typeof this.told extends Map<string, infer O> ? O : never) {
    if (this.unreachable || this.failing.has(taskToken))
      throw new Error('connect ECONNREFUSED states.eu-west-1.amazonaws.com');
    if (!this.waiting.delete(taskToken)) return 'ended' as const;
    this.told.set(taskToken, outcome);
    return 'resumed' as const;
  }
}

const policyInput: ApprovalPolicyInput = {
  approvers: [
    { id: 'alice', emails: ['alice@example.com'], slack: 'UALICE001', github: 'alice-gh' },
    { id: 'bob', emails: ['bob@example.com'], iam: ['arn:aws:iam::111122223333:user/bob'] },
    { id: 'carol', emails: ['carol@example.com'] },
    { id: 'dave', emails: ['dave@example.com'] },
  ],
  groups: { cab: ['alice', 'bob', 'carol'] },
  classes: { normal: { approvals: 1 }, high: { approvals: 2, group: 'cab' } },
  rules: [{ class: 'high', paths: ['infra/**'], reason: 'changes infrastructure' }],
  freezes: [{ name: 'weekend', from: { day: 'fri', time: '16:00' }, to: { day: 'mon', time: '08:00' } }],
  emergencyApprovers: ['dave'],
  expiresAfterHours: 72,
};
const policy = approvalPolicySchema.parse(policyInput);
const entry: PipelineCatalogEntry = {
  stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:stepline-web',
  source: { kind: 'codecommit', repository: 'web' },
  stages: { build: { name: 'build', project: 'p-build' }, tests: [], testConcurrency: 0 },
  filters: { branches: ['main'], tags: false, skipMarkers: [] },
  executionMode: 'PARALLEL',
  approval: policy,
};

/** A Tuesday, far from the weekend freeze. */
const TUESDAY = '2026-11-24T10:00:00.000Z';
const HIGH = ['infra/stack.ts'];
const NORMAL = ['src/app.ts'];
/** The author of every change unless a test says otherwise: not an approver. */
const EVE = { name: 'Eve', email: 'eve@example.com' };

const byEmail = (address: string): Principal => ({ kind: 'email', address });

describe('the release gate (core/approval/gate.ts)', () => {
  let store: MemoryStore;
  let tasks: MemoryTasks;
  let published: RunEvent[];
  let clock: Date;
  let deps: DecideDeps;
  let runs: number;
  let catalog: Map<string, PipelineCatalogEntry>;

  beforeEach(() => {
    store = new MemoryStore();
    tasks = new MemoryTasks();
    published = [];
    clock = new Date(TUESDAY);
    runs = 0;
    catalog = new Map([['web', entry]]);
    deps = {
      runs: store,
      approvals: store,
      notifications: store,
      catalog: { lookup: async (pipeline) => catalog.get(pipeline) },
      executions: tasks,
      events: { publish: async (event) => void published.push(event) },
      now: () => new Date(clock),
    };
  });

  const at = (iso: string) => (clock = new Date(iso));

  /** A run of pipeline web whose tests passed, created now (overrides for its commit and pusher). */
  async function run(options: {
    files: readonly string[];
    author?: { name: string; email: string };
    pushedBy?: string;
    status?: RunRecord['status'];
    committedAt?: string;
  }): Promise<RunRecord> {
    runs += 1;
    const base = queuedRun();
    return store.createRun(
      queuedRun({
        runId: `web-run-${runs}`,
        status: options.status ?? 'RUNNING',
        commit: {
          ...base.commit,
          id: `${runs}`.repeat(40).slice(0, 40),
          author: options.author ?? EVE,
          ...(options.committedAt ? { committedAt: options.committedAt } : {}),
        },
        trigger: { ...base.trigger, ...(options.pushedBy ? { pushedBy: options.pushedBy } : {}) },
        changedFiles: [...options.files],
        createdAt: clock.toISOString(),
      }),
    );
  }

  /** Runs the two gate steps of the state machine for a new run: assess, then wait (its task token kept). */
  async function gate(options: Parameters<typeof run>[0]): Promise<ApprovalRecord> {
    const { runId } = await run(options);
    await assessRelease(runId, { ...deps, waitLength: (ms) => ms });
    const taskToken = `token-of-${runId}`;
    tasks.wait(taskToken);
    return awaitApproval(runId, taskToken, {
      ...deps,
      links: async () => ({
        forApprover: (id) => ({ approve: `https://x/${runId}/${id}/a`, reject: `https://x/${runId}/${id}/r` }),
      }),
    });
  }

  const decision = (runId: string, principal: Principal, rest: Partial<DecisionRequest> = {}) =>
    decide({ runId, principal, decision: 'approve', via: 'cli', ...rest }, deps);
  const approve = (runId: string, email: string) => decision(runId, byEmail(email));
  const statusOf = (runId: string) => store.approvals.get(runId)!.status;
  const auditOf = (runId: string) => store.audit.filter((e) => e.runId === runId);
  const eventsOf = (runId: string) => auditOf(runId).map((e) => e.event);

  async function refusal(
    deciding: Promise<unknown>,
  ): Promise<{ status: DecisionRefusedError['status']; message: string }> {
    const error: unknown = await deciding.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DecisionRefusedError);
    const { status, message } = error as DecisionRefusedError;
    return { status, message };
  }

  describe('separation of duties', () => {
    it("refuses the change's author as an approver, says why, audits it, and does not ask them", async () => {
      const { runId, asked } = await gate({ files: NORMAL, author: { name: 'Carol', email: 'Carol@Example.com' } });
      expect(asked).toEqual(['alice', 'bob', 'dave']);

      expect(await refusal(approve(runId, 'carol@example.com'))).toEqual({
        status: 403,
        message: expect.stringMatching(
          /^separation of duties: carol wrote commit 111111111111 of this change, and may not approve it; /,
        ),
      });
      expect(statusOf(runId)).toBe('WAITING');
      expect(await store.listDecisions(runId)).toEqual([]);
      expect(auditOf(runId).at(-1)).toMatchObject({ event: 'decision-refused', actor: 'carol', via: 'cli' });
    });

    it.each([
      ['their GitHub login', 'alice-gh', 'alice', 'alice@example.com'],
      ['their IAM ARN', 'arn:aws:iam::111122223333:user/bob', 'bob', 'bob@example.com'],
      [
        'the email naming their session',
        'arn:aws:sts::111122223333:assumed-role/Dev/carol@example.com',
        'carol',
        'carol@example.com',
      ],
    ])('refuses the pusher of a commit of the change, matched on %s', async (_how, pushedBy, id, email) => {
      const { runId, asked } = await gate({ files: NORMAL, pushedBy });
      expect(asked).not.toContain(id);

      expect(await refusal(approve(runId, email))).toMatchObject({
        status: 403,
        message: expect.stringMatching(new RegExp(`^separation of duties: ${id} pushed commit 111111111111 `)),
      });
      expect(statusOf(runId)).toBe('WAITING');
    });

    it('counts every commit since the last release, not only the head: an earlier run’s author may not approve', async () => {
      await run({ files: NORMAL, author: { name: 'Carol', email: 'carol@example.com' }, status: 'FAILED' });
      at('2026-11-24T10:05:00.000Z');
      const { runId, commits } = await gate({ files: NORMAL });
      expect(commits.map((c) => c.author?.email)).toEqual(['eve@example.com', 'carol@example.com']);

      expect((await refusal(approve(runId, 'carol@example.com'))).message).toMatch(
        /^separation of duties: carol wrote commit 111111111111 /,
      );
    });

    it("keeps each commit's commit and push time, where its lead time starts (docs/metrics.md)", async () => {
      const earlier = await run({ files: NORMAL, status: 'FAILED', committedAt: '2026-11-24T09:30:00.000Z' });
      at('2026-11-24T10:05:00.000Z');
      const { runId, commits } = await gate({ files: NORMAL });
      expect(commits).toEqual([
        expect.objectContaining({ runId, pushedAt: queuedRun().trigger.eventTime }),
        expect.objectContaining({
          runId: earlier.runId,
          committedAt: '2026-11-24T09:30:00.000Z',
          pushedAt: earlier.trigger.eventTime,
        }),
      ]);
      expect(commits[0]).not.toHaveProperty('committedAt');
    });

    it('leaves out the commits of runs up to the last release', async () => {
      const released = await gate({ files: NORMAL, author: { name: 'Carol', email: 'carol@example.com' } });
      await approve(released.runId, 'alice@example.com');
      expect(statusOf(released.runId)).toBe('APPROVED');
      at('2026-11-24T10:05:00.000Z');
      const { runId, commitRange } = await gate({ files: NORMAL });
      expect(commitRange.from).toBe(released.commitRange.to);

      expect((await approve(runId, 'carol@example.com')).ended).toBe(true);
      expect(statusOf(runId)).toBe('APPROVED');
    });

    it('lets an author reject their own change: withdrawing is always allowed', async () => {
      const { runId } = await gate({ files: NORMAL, author: { name: 'Alice', email: 'alice@example.com' } });

      const result = await decision(
        runId,
        { kind: 'slack', userId: 'UALICE001' },
        {
          decision: 'reject',
          reason: 'not ready after all',
          via: 'slack',
        },
      );
      expect(result.ended).toBe(true);
      expect(statusOf(runId)).toBe('REJECTED');
    });

    it('lets an author withdraw a change that needs a group they are not in', async () => {
      const { runId } = await gate({ files: HIGH, author: { name: 'Dave', email: 'dave@example.com' } });

      const result = await decision(runId, byEmail('dave@example.com'), { decision: 'reject', reason: 'withdrawn' });
      expect(result).toMatchObject({ ended: true, message: 'rejected by dave: withdrawn' });
      expect(statusOf(runId)).toBe('REJECTED');
      // Withdrawing is not approving: the same author is still refused an approval of their change.
      const other = await gate({ files: HIGH, author: { name: 'Dave', email: 'dave@example.com' } });
      expect(await refusal(approve(other.runId, 'dave@example.com'))).toMatchObject({ status: 403 });
    });

    it('refuses someone the policy does not list, naming them in the audit', async () => {
      const { runId } = await gate({ files: NORMAL });

      expect((await refusal(approve(runId, 'mallory@example.com'))).status).toBe(403);
      expect(auditOf(runId).at(-1)).toMatchObject({ event: 'decision-refused', actor: 'mallory@example.com' });
      expect(statusOf(runId)).toBe('WAITING');
    });
  });

  describe('distinct approvers, as many as the risk class needs', () => {
    it('a normal change passes with one approval from any approver, and resumes its execution once', async () => {
      const { runId, risk, required } = await gate({ files: NORMAL });
      expect([risk.class, required]).toEqual(['normal', { approvals: 1 }]);

      const result = await approve(runId, 'dave@example.com');
      expect(result).toMatchObject({ ended: true, message: 'approved by dave' });
      expect(store.approvals.get(runId)).toMatchObject({ status: 'APPROVED', approvedBy: ['dave'] });
      expect(tasks.told.get(`token-of-${runId}`)).toEqual({
        kind: 'succeeded',
        output: { status: 'APPROVED', riskClass: 'normal', approvedBy: ['dave'] },
      });
    });

    it('a high change needs two distinct members of its group: the same person approving twice counts once', async () => {
      const { runId, required } = await gate({ files: HIGH });
      expect(required).toEqual({ approvals: 2, group: 'cab' });

      expect(await approve(runId, 'alice@example.com')).toMatchObject({
        ended: false,
        message: 'approval recorded; 1 more distinct approval needed from group cab',
      });
      // Alice again, from another channel: the same person.
      const again = await decision(runId, { kind: 'slack', userId: 'UALICE001' }, { via: 'slack' });
      expect(again).toMatchObject({ ended: false, message: expect.stringMatching(/it counts once$/) });
      expect(statusOf(runId)).toBe('WAITING');
      expect(tasks.told.size).toBe(0);

      expect((await approve(runId, 'bob@example.com')).ended).toBe(true);
      expect(store.approvals.get(runId)).toMatchObject({ status: 'APPROVED', approvedBy: ['alice', 'bob'] });
      expect((await store.listDecisions(runId)).map((d) => [d.approverId, d.via])).toEqual([
        ['alice', 'cli'],
        ['bob', 'cli'],
      ]);
    });

    it('refuses an approver outside the group a high change needs', async () => {
      const { runId } = await gate({ files: HIGH });

      expect(await refusal(approve(runId, 'dave@example.com'))).toMatchObject({
        status: 403,
        message: expect.stringMatching(/^a high-risk change needs approvers from group "cab", and dave is not in it/),
      });
      expect(await store.listDecisions(runId)).toEqual([]);
    });

    // Only the writer that ends the gate resumes its execution (governance.md): the second is refused by the store.
    it('ends the gate once when two approvals that each satisfy it arrive together', async () => {
      const { runId } = await gate({ files: NORMAL });

      const results = await Promise.all([approve(runId, 'alice@example.com'), approve(runId, 'bob@example.com')]);
      expect(tasks.told.get(`token-of-${runId}`)).toMatchObject({ kind: 'succeeded' });
      expect(results.filter((r) => r.ended)).toHaveLength(1);
      expect(eventsOf(runId).filter((e) => e === 'approved' || e === 'execution-resumed')).toEqual([
        'approved',
        'execution-resumed',
      ]);
    });
  });

  describe('change windows: holds', () => {
    const FRIDAY_EVENING = '2026-11-27T17:00:00.000Z';
    const MONDAY_OPEN = '2026-11-30T08:00:00.000Z';

    it('holds a change approved during a freeze, and the sweep releases it when the window opens', async () => {
      at('2026-11-27T15:00:00.000Z');
      const { runId } = await gate({ files: NORMAL });
      at(FRIDAY_EVENING);

      const held = await approve(runId, 'alice@example.com');
      expect(held).toMatchObject({
        ended: false,
        message: `approved; the release is held by freeze "weekend" until ${MONDAY_OPEN}`,
      });
      expect(store.approvals.get(runId)).toMatchObject({
        status: 'HELD',
        approvedBy: ['alice'],
        heldBy: { freeze: 'weekend', until: MONDAY_OPEN },
      });
      expect(tasks.told.size).toBe(0);

      at('2026-11-30T07:59:00.000Z');
      expect(await sweepApprovals(deps)).toEqual({});
      expect(statusOf(runId)).toBe('HELD');

      at(MONDAY_OPEN);
      expect(await sweepApprovals(deps)).toEqual({ [runId]: 'released' });
      expect(store.approvals.get(runId)).toMatchObject({ status: 'APPROVED', approvedBy: ['alice'] });
      expect(tasks.told.get(`token-of-${runId}`)).toMatchObject({ kind: 'succeeded', output: { status: 'APPROVED' } });
      expect(eventsOf(runId).slice(-4)).toEqual([
        'held-for-window',
        'approved',
        'execution-resumed',
        'released-by-window',
      ]);
    });

    it('a further approval of a held change keeps it held', async () => {
      at(FRIDAY_EVENING);
      const { runId } = await gate({ files: NORMAL });
      await approve(runId, 'alice@example.com');

      expect(await approve(runId, 'bob@example.com')).toMatchObject({
        ended: false,
        message: 'approval recorded; the release is held for its change window',
      });
      expect(statusOf(runId)).toBe('HELD');
    });

    it('holds through freezes that touch, until none is in force', async () => {
      // The weekend ends Monday 08:00, and Monday is frozen all day: the window opens Tuesday 00:00.
      const freezes = [...policy.freezes, { name: 'release train', dates: ['2026-11-30'] }];
      catalog.set('web', { ...entry, approval: { ...policy, freezes, expiresAfterHours: 120 } });
      at(FRIDAY_EVENING);
      const { runId } = await gate({ files: NORMAL });
      await approve(runId, 'alice@example.com');
      expect(store.approvals.get(runId)!.heldBy).toEqual({ freeze: 'weekend', until: '2026-12-01T00:00:00.000Z' });

      at(MONDAY_OPEN);
      expect(await sweepApprovals(deps)).toEqual({});
      expect(statusOf(runId)).toBe('HELD');
      at('2026-12-01T00:00:00.000Z');
      expect(await sweepApprovals(deps)).toEqual({ [runId]: 'released' });
    });
  });

  describe('emergency overrides', () => {
    it('an emergency approver with a reason passes a waiting gate at once, flagged for review and audited', async () => {
      const { runId } = await gate({ files: HIGH });

      const result = await decision(runId, byEmail('dave@example.com'), {
        decision: 'override',
        reason: '  checkout is down: INC-42 ',
      });
      expect(result).toMatchObject({ ended: true, message: 'emergency override by dave: checkout is down: INC-42' });
      const override = { by: 'dave', reason: 'checkout is down: INC-42', at: TUESDAY };
      expect(store.approvals.get(runId)).toMatchObject({
        status: 'APPROVED',
        override,
        postImplementationReview: true,
      });
      expect(tasks.told.get(`token-of-${runId}`)).toMatchObject({ kind: 'succeeded', output: { override } });
      expect(auditOf(runId).slice(-3)).toMatchObject([
        { event: 'decision-recorded', actor: 'dave', detail: 'override: checkout is down: INC-42' },
        { event: 'override', detail: 'emergency override by dave: checkout is down: INC-42' },
        { event: 'execution-resumed' },
      ]);
    });

    it('passes a gate held by a freeze', async () => {
      at('2026-11-28T12:00:00.000Z');
      const { runId } = await gate({ files: NORMAL });
      await approve(runId, 'alice@example.com');
      expect(statusOf(runId)).toBe('HELD');

      await decision(runId, byEmail('dave@example.com'), { decision: 'override', reason: 'INC-43' });
      expect(store.approvals.get(runId)).toMatchObject({ status: 'APPROVED', override: { by: 'dave' } });
    });

    it.each(['', '  ', 'x'])('needs a reason (refused with %j)', async (reason) => {
      const { runId } = await gate({ files: HIGH });

      expect(
        await refusal(decision(runId, byEmail('dave@example.com'), { decision: 'override', reason })),
      ).toMatchObject({
        status: 400,
        message: 'an emergency override needs a reason',
      });
      expect(statusOf(runId)).toBe('WAITING');
      expect(auditOf(runId).at(-1)).toMatchObject({ event: 'decision-refused', actor: 'dave' });
    });

    it('is refused to an approver who is not an emergency approver', async () => {
      const { runId } = await gate({ files: HIGH });

      expect(
        await refusal(decision(runId, byEmail('alice@example.com'), { decision: 'override', reason: 'INC-44' })),
      ).toMatchObject({
        status: 403,
        message: expect.stringMatching(
          /^alice is not an emergency approver of pipeline web \(emergencyApprovers: dave\)/,
        ),
      });
      expect(statusOf(runId)).toBe('WAITING');
    });

    it('is refused to an emergency approver who wrote the change', async () => {
      const { runId } = await gate({ files: HIGH, author: { name: 'Dave', email: 'dave@example.com' } });

      expect(
        await refusal(decision(runId, byEmail('dave@example.com'), { decision: 'override', reason: 'INC-45' })),
      ).toMatchObject({ status: 403, message: expect.stringMatching(/^separation of duties: dave wrote commit /) });
      expect(statusOf(runId)).toBe('WAITING');
    });
  });

  describe('expiry', () => {
    const DEADLINE = '2026-11-27T10:00:00.000Z'; // 72 hours after TUESDAY

    it('refuses a decision at the deadline with 410, and expires the gate: the execution fails Approval.Expired', async () => {
      const { runId, deadline } = await gate({ files: NORMAL });
      expect(deadline).toBe(DEADLINE);
      at(DEADLINE);

      expect(await refusal(approve(runId, 'alice@example.com'))).toEqual({
        status: 410,
        message: `the gate expired at ${DEADLINE}`,
      });
      expect(await store.listDecisions(runId)).toEqual([]);
      expect(statusOf(runId)).toBe('EXPIRED');
      expect(tasks.told.get(`token-of-${runId}`)).toEqual({
        kind: 'failed',
        error: 'Approval.Expired',
        cause: `nobody decided before the deadline ${DEADLINE}`,
      });
    });

    it('takes a decision a moment before the deadline', async () => {
      const { runId } = await gate({ files: NORMAL });
      at('2026-11-27T09:59:59.999Z');

      expect((await approve(runId, 'alice@example.com')).ended).toBe(true);
    });

    it('expires an approved change a freeze holds past the deadline, saying so', async () => {
      at('2026-11-26T10:00:00.000Z'); // Thursday: the deadline falls on Sunday, inside the weekend freeze
      const { runId, deadline } = await gate({ files: NORMAL });
      at('2026-11-27T17:00:00.000Z');
      expect((await approve(runId, 'alice@example.com')).ended).toBe(false);
      expect(statusOf(runId)).toBe('HELD');

      at('2026-11-29T10:04:00.000Z');
      expect(await sweepApprovals(deps)).toEqual({ [runId]: 'expired' });
      const outcome = `approved by alice, but held by freeze "weekend" past the deadline ${deadline}`;
      expect(store.approvals.get(runId)).toMatchObject({ status: 'EXPIRED', outcome });
      expect(tasks.told.get(`token-of-${runId}`)).toEqual({
        kind: 'failed',
        error: 'Approval.Expired',
        cause: outcome,
      });
    });

    it('the sweep expires a gate past its deadline, and leaves one before it', async () => {
      const { runId } = await gate({ files: NORMAL });
      at('2026-11-27T09:59:00.000Z');
      expect(await sweepApprovals(deps)).toEqual({});
      expect(statusOf(runId)).toBe('WAITING');

      at('2026-11-27T10:04:00.000Z');
      expect(await sweepApprovals(deps)).toEqual({ [runId]: 'expired' });
      expect(store.approvals.get(runId)).toMatchObject({
        status: 'EXPIRED',
        outcome: `nobody decided before the deadline ${DEADLINE}`,
      });
      expect(tasks.told.get(`token-of-${runId}`)).toMatchObject({ kind: 'failed', error: 'Approval.Expired' });
      expect(auditOf(runId).slice(-2)).toMatchObject([
        { event: 'expired', via: 'clock' },
        { event: 'execution-resumed', detail: 'execution told: EXPIRED' },
      ]);
    });

    it('refuses any decision after the sweep expired the gate with 410 "the gate expired at …" (governance.md)', async () => {
      const { runId } = await gate({ files: NORMAL });
      at('2026-11-27T10:04:00.000Z');
      await sweepApprovals(deps);

      expect(await refusal(approve(runId, 'alice@example.com'))).toEqual({
        status: 410,
        message: `the gate expired at ${DEADLINE}`,
      });
    });
  });

  describe('rejection', () => {
    it('one rejection ends a gate that has approvals already: the execution fails Approval.Rejected', async () => {
      const { runId } = await gate({ files: HIGH });
      await approve(runId, 'alice@example.com');

      const result = await decision(runId, byEmail('bob@example.com'), {
        decision: 'reject',
        reason: 'the migration is not reversible',
      });
      expect(result).toMatchObject({ ended: true, message: 'rejected by bob: the migration is not reversible' });
      expect(statusOf(runId)).toBe('REJECTED');
      expect(tasks.told.get(`token-of-${runId}`)).toEqual({
        kind: 'failed',
        error: 'Approval.Rejected',
        cause: 'rejected by bob: the migration is not reversible',
      });
      expect(published.map((e) => e.kind).filter((kind) => kind !== 'GateChanged')).toEqual([
        'ApprovalRequested',
        'ApprovalDecided',
      ]);
      // Every change of the gate, each written to its audit trail, is told once to live consoles.
      expect(published.filter((e) => e.kind === 'GateChanged')).toEqual(
        auditOf(runId).map(() => ({ kind: 'GateChanged', runId, pipeline: store.approvals.get(runId)!.pipeline })),
      );
    });

    it('needs a reason', async () => {
      const { runId } = await gate({ files: NORMAL });

      expect(await refusal(decision(runId, byEmail('bob@example.com'), { decision: 'reject' }))).toEqual({
        status: 400,
        message: 'a rejection needs a reason',
      });
      expect(statusOf(runId)).toBe('WAITING');
    });

    it('a closed gate takes no further decision', async () => {
      const { runId } = await gate({ files: NORMAL });
      await decision(runId, byEmail('bob@example.com'), { decision: 'reject', reason: 'no' + ' thanks' });

      expect(await refusal(approve(runId, 'alice@example.com'))).toEqual({
        status: 409,
        message: `the gate is closed: the release was rejected at ${TUESDAY}`,
      });
    });

    it('a person decides once: who approved cannot then reject', async () => {
      const { runId } = await gate({ files: HIGH });
      await approve(runId, 'alice@example.com');

      const result = await decision(runId, byEmail('alice@example.com'), {
        decision: 'reject',
        reason: 'changed my mind',
      });
      expect(result).toMatchObject({
        ended: false,
        message: `your approve of ${TUESDAY} was counted already; it counts once`,
      });
      expect(statusOf(runId)).toBe('WAITING');
    });
  });

  it('the sweep re-sends a resume that failed, once', async () => {
    const { runId } = await gate({ files: NORMAL });
    tasks.unreachable = true;
    await expect(approve(runId, 'alice@example.com')).rejects.toThrow(/ECONNREFUSED/);
    expect(store.approvals.get(runId)).toMatchObject({ status: 'APPROVED' });
    expect(store.approvals.get(runId)!.resumedAt).toBeUndefined();

    tasks.unreachable = false;
    expect(await sweepApprovals(deps)).toEqual({ [runId]: 'resumed' });
    expect(tasks.told.get(`token-of-${runId}`)).toMatchObject({ kind: 'succeeded', output: { status: 'APPROVED' } });
    expect(await sweepApprovals(deps)).toEqual({});
    expect(eventsOf(runId).slice(-2)).toEqual(['approved', 'execution-resumed']);
  });

  it('the sweep goes on past a gate it cannot resume, reporting it, and tries it again next round', async () => {
    const stuck = await gate({ files: NORMAL });
    const overdue = await gate({ files: NORMAL });
    tasks.failing.add(`token-of-${stuck.runId}`);
    await expect(approve(stuck.runId, 'alice@example.com')).rejects.toThrow(/ECONNREFUSED/);
    at('2026-11-27T10:04:00.000Z');

    expect(await sweepApprovals(deps)).toEqual({
      [stuck.runId]: 'failed: Error: connect ECONNREFUSED states.eu-west-1.amazonaws.com',
      [overdue.runId]: 'expired',
    });
    expect(tasks.told.get(`token-of-${overdue.runId}`)).toMatchObject({ kind: 'failed', error: 'Approval.Expired' });

    tasks.failing.clear();
    expect(await sweepApprovals(deps)).toEqual({ [stuck.runId]: 'resumed' });
  });

  it('keeps the audit trail in the order things happened, with who and through which channel', async () => {
    const { runId } = await gate({ files: HIGH });
    await refusal(approve(runId, 'mallory@example.com'));
    await approve(runId, 'alice@example.com');
    await decision(runId, { kind: 'slack', userId: 'UALICE001' }, { via: 'slack' });
    await decision(runId, { kind: 'iam', arn: 'arn:aws:iam::111122223333:user/bob' });

    expect(auditOf(runId).map(({ event, actor, via }) => ({ event, actor, via }))).toEqual([
      { event: 'gate-opened', actor: undefined, via: 'policy' },
      { event: 'approval-requested', actor: undefined, via: 'policy' },
      { event: 'decision-refused', actor: 'mallory@example.com', via: 'cli' },
      { event: 'decision-recorded', actor: 'alice', via: 'cli' },
      { event: 'decision-repeated', actor: 'alice', via: 'slack' },
      { event: 'decision-recorded', actor: 'bob', via: 'cli' },
      { event: 'approved', actor: undefined, via: 'policy' },
      { event: 'execution-resumed', actor: undefined, via: 'policy' },
    ]);
    expect(auditOf(runId)[0]!.detail).toBe('risk high: changes infrastructure');
  });
});
