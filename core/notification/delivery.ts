/**
 * The notifier: a run event (RunStarted, RunEnded) becomes the messages its pipeline asks for
 * (core/notification/messages.ts), each recorded in the run's partition before it is sent, claimed with a
 * conditional write before each attempt, and delivered with a few quick retries. What is not
 * delivered is left FAILED and the call fails, so that the caller (Lambda's retries of the
 * asynchronous invocation, then its dead-letter queue) tries again later; a delivered message is
 * never sent again. Nothing here writes to the run or its stages: a notification cannot fail a run.
 */
import { DeliveryError, NotificationsUndeliveredError } from './errors';
import { notificationsFor, type RunLinks } from './messages';
import type {
  Clock,
  NotificationSender,
  NotificationStore,
  PipelineCatalog,
  RunHistory,
  RunRepository,
} from '../ports';
import {
  ACTIVE_RUN_STATUSES,
  type NotificationRecord,
  type NotificationSettings,
  type RunEvent,
  type RunRecord,
} from '../records';

export interface NotifyDeps {
  readonly catalog: PipelineCatalog;
  readonly runs: RunRepository & RunHistory;
  readonly notifications: NotificationStore;
  readonly sender: NotificationSender;
  /** Where a reader opens a run: the Step Functions console on AWS, the local run's files locally. */
  readonly links: (run: RunRecord) => RunLinks;
  readonly now: Clock;
  readonly sleep: (ms: number) => Promise<void>;
}

/** Tries within one call, and in all (over the caller's retries) before a notification is given up. */
const ATTEMPTS_PER_CALL = 3;
const MAX_ATTEMPTS = 9;
/** How long a claim lasts: a sender that crashed mid-send is assumed gone after this. */
const CLAIM_MS = 60_000;
const BACKOFF_MS = [250, 1000];
const MAX_RETRY_AFTER_MS = 5000;

export interface NotifyResult {
  readonly delivered: readonly string[];
  /** Delivered before (a repeated event), or being sent by another call. */
  readonly skipped: readonly string[];
}

export async function notify(event: RunEvent, deps: NotifyDeps): Promise<NotifyResult> {
  // A stage's, gate's or deployment's change is for live consoles; nobody is notified of it.
  if (
    event.kind !== 'RunStarted' &&
    event.kind !== 'RunEnded' &&
    event.kind !== 'ApprovalRequested' &&
    event.kind !== 'ApprovalDecided'
  )
    return { delivered: [], skipped: [] };
  const settings = (await deps.catalog.lookup(event.pipeline))?.notifications;
  const run = await deps.runs.getRun(event.runId);
  if (!settings || !run) return { delivered: [], skipped: [] };
  // The recorder announces a run's end only after recording it; a RunEnded that finds the run active
  // is out of order, and the end's own announcement follows.
  if (event.kind === 'RunEnded' && ACTIVE_RUN_STATUSES.includes(run.status)) return { delivered: [], skipped: [] };
  const records =
    event.kind === 'ApprovalRequested' || event.kind === 'ApprovalDecided'
      ? await gateMessages(run.runId, event.kind, deps)
      : await recordDrafts(event.kind, run, settings, deps);

  const delivered: string[] = [];
  const skipped: string[] = [];
  const failures: string[] = [];
  for (const record of records) {
    const outcome = await deliver(record, settings, deps);
    if (outcome === 'DELIVERED') delivered.push(record.id);
    else if (outcome === 'SKIPPED') skipped.push(record.id);
    else failures.push(`${record.id}: ${outcome.error}`);
  }
  if (failures.length) throw new NotificationsUndeliveredError(failures);
  return { delivered, skipped };
}

async function recordDrafts(
  event: 'RunStarted' | 'RunEnded',
  run: RunRecord,
  settings: NotificationSettings,
  deps: NotifyDeps,
): Promise<NotificationRecord[]> {
  const stages = await deps.runs.listStages(run.runId);
  const previous = event === 'RunEnded' ? await previousEndedRun(run, deps.runs) : undefined;
  const records: NotificationRecord[] = [];
  for (const draft of notificationsFor(event, run, stages, previous, settings, deps.links(run))) {
    records.push(
      await deps.notifications.recordNotification({
        runId: run.runId,
        ...draft,
        status: 'PENDING',
        createdAt: deps.now().toISOString(),
        attempts: [],
      }),
    );
  }
  return records;
}

/**
 * The release gate's messages: recorded by the gate itself (its links are signed where the key is),
 * so the notifier only delivers them — the requests, or the outcome.
 */
async function gateMessages(
  runId: string,
  event: 'ApprovalRequested' | 'ApprovalDecided',
  deps: NotifyDeps,
): Promise<NotificationRecord[]> {
  const outcome = (id: string) => id.endsWith(':approval:outcome');
  return (await deps.notifications.listNotifications(runId)).filter(
    (n) => /^(slack|email):approval(:|$)/.test(n.id) && outcome(n.id) === (event === 'ApprovalDecided'),
  );
}

type Outcome = 'DELIVERED' | 'SKIPPED' | { readonly error: string };

async function deliver(record: NotificationRecord, settings: NotificationSettings, deps: NotifyDeps): Promise<Outcome> {
  let tried = record.attempts.length;
  for (let attempt = 0; attempt < ATTEMPTS_PER_CALL; attempt++) {
    const now = deps.now();
    const claimed = await deps.notifications.claimNotification(
      record.runId,
      record.id,
      now,
      new Date(now.getTime() + CLAIM_MS),
      MAX_ATTEMPTS,
    );
    // Delivered already, being sent by another call, or given up after MAX_ATTEMPTS.
    if (!claimed) return tried >= MAX_ATTEMPTS ? { error: `given up after ${tried} attempts` } : 'SKIPPED';
    tried++;
    try {
      await deps.sender.send(record, settings);
      await deps.notifications.recordAttempt(record.runId, record.id, { at: now.toISOString(), outcome: 'DELIVERED' });
      return 'DELIVERED';
    } catch (error) {
      const failure =
        error instanceof DeliveryError ? error : new DeliveryError(String((error as Error)?.message ?? error), true);
      await deps.notifications.recordAttempt(record.runId, record.id, {
        at: now.toISOString(),
        outcome: 'FAILED',
        error: failure.message,
      });
      if (!failure.retryable || attempt === ATTEMPTS_PER_CALL - 1) return { error: failure.message };
      await deps.sleep(Math.min(failure.retryAfterMs ?? BACKOFF_MS[attempt]!, MAX_RETRY_AFTER_MS));
    }
  }
  return { error: 'not delivered' };
}

/** The pipeline's run that ended (SUCCEEDED or FAILED) before this one was created, if any. */
async function previousEndedRun(run: RunRecord, history: RunHistory): Promise<RunRecord | undefined> {
  let cursor: string | undefined;
  for (let page = 0; page < 4; page++) {
    const runs = await history.listRuns(run.pipeline, { limit: 25, cursor });
    const found = runs.items.find(
      (r) =>
        r.runId !== run.runId && r.createdAt < run.createdAt && (r.status === 'SUCCEEDED' || r.status === 'FAILED'),
    );
    if (found) return found;
    cursor = runs.cursor;
    if (!cursor) return undefined;
  }
  return undefined;
}
