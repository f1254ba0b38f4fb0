/**
 * Deliveries of source events in local mode, and what became of each: a push to a local repository is
 * delivered as its source would deliver it (a CodeCommit event on the default bus, or a signed GitHub
 * webhook delivery to the local receiver), each run start the platform bus's run rule makes is kept by
 * its commit, and every event that starts no run leaves a trace (`<stateDir>/event-bus.log` and
 * onDeliveryProblem). The waits tests and the CLI use (`runsStartedFor`) read what is kept here.
 */
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { sourceOf, type PipelineConfig } from '../core/config/stepline-config';
import type { Clock } from '../core/ports';
import type { SourceChanged } from '../core/records';
import type { StartRunResult } from '../core/runs/start-run';
import { codeCommitEvent } from './codecommit';
import type { BusEvent, LocalEventBus } from './event-bus';
import { LocalGitSource, localRepositoryName, type RefUpdate } from './git-source';
import { pushDelivery } from './github-delivery';
import { localRouteOf } from './platform-functions';

/** Where a local repository's post-receive hook notifies local mode of a push. */
export const GIT_PUSH_ROUTE = '/_local/git-push';
/** Where local mode's GitHub webhook receiver listens, as the platform's function URL does on AWS. */
export const GITHUB_WEBHOOK_ROUTE = localRouteOf('githubWebhook');

/** An event that started no run, and why. */
export interface DeliveryProblem {
  /** `<repository> <ref> at <commit12>`. */
  readonly event: string;
  /** The CodeCommit event id or GitHub delivery id. */
  readonly deliveryId: string;
  readonly reason: string;
}

export const gitPushSchema = z.strictObject({
  repository: z.string().regex(/^[\w.-]{1,100}$/, 'repository must be a repository name'),
  lines: z.string().max(64 * 1024),
  /** Made once per hook run: a replay of the same request carries the same one. */
  delivery: z.uuid(),
});
export type GitPush = z.infer<typeof gitPushSchema>;

export interface LocalDeliveriesOptions {
  readonly pipelines: readonly PipelineConfig[];
  /** The default bus: where CodeCommit's events go. */
  readonly bus: LocalEventBus;
  readonly git: LocalGitSource;
  /** The secret local webhook deliveries are signed with. */
  readonly webhookSecret: string;
  /** The local endpoint's URL (the webhook receiver's route is on it). */
  readonly endpointUrl: string;
  readonly stateDir: string;
  readonly now: Clock;
  /** Called for each run a delivered event starts (not for duplicates). */
  readonly onRunStarted?: (run: StartRunResult) => void;
  /** Called for each event that starts no run, with the reason. */
  readonly onDeliveryProblem?: (problem: DeliveryProblem) => void;
}

export class LocalDeliveries {
  /** Deliveries of source events (CodeCommit events, GitHub webhooks) by the commit they name. */
  private readonly deliveries = new Map<string, Promise<unknown>[]>();
  /** Run starts by the commit their SourceChanged event names. */
  private readonly starts = new Map<
    string,
    { readonly pipeline: string; readonly deliveryId: string; readonly result: Promise<StartRunResult> }[]
  >();

  constructor(private readonly options: LocalDeliveriesOptions) {}

  /**
   * A git hook's notification: one event per updated ref. The event ids derive from the hook's
   * delivery id, so a replayed notification carries the same ids and starts nothing twice.
   */
  receivePush(push: GitPush): { events: number } {
    const updates = LocalGitSource.refUpdates(push.repository, push.lines);
    updates.forEach((update) => this.deliver(update, eventIdOf(push.delivery, update)));
    return { events: updates.length };
  }

  /** An invocation of the run starter (by a run rule) has begun: the start is kept by its commit. */
  started(input: SourceChanged, result: Promise<StartRunResult>): void {
    const commitId = String(input?.commitId);
    const start = { pipeline: input?.pipeline, deliveryId: input?.trigger?.deliveryId, result };
    this.starts.set(commitId, [...(this.starts.get(commitId) ?? []), start]);
    result.then(
      (run) => {
        if (run.refused && !run.duplicate)
          this.reportProblem(describe(input), `${run.refused.error}: ${run.refused.cause}`);
        if (!run.duplicate) this.options.onRunStarted?.(run);
      },
      (error: unknown) =>
        this.reportProblem(describe(input), `the run starter failed: ${String((error as Error)?.message ?? error)}`),
    );
  }

  /**
   * The start of the run that one delivery of a commit asked of a pipeline: the latest for that
   * delivery, so a repeated delivery is answered with its own (duplicate) start.
   */
  private startedBy(commitId: string, pipeline: string, deliveryId: string): Promise<StartRunResult> {
    const start = this.starts.get(commitId)?.findLast((s) => s.pipeline === pipeline && s.deliveryId === deliveryId);
    if (!start) throw new Error(`no run start for ${pipeline} at ${commitId} (delivery ${deliveryId})`);
    return start.result;
  }

  /**
   * The runs started by deliveries of this commit (resolves once every delivery has been taken and
   * every run rule's target has answered).
   */
  async runsStartedFor(commitId: string): Promise<StartRunResult[]> {
    await Promise.allSettled(this.deliveries.get(commitId) ?? []);
    return Promise.all((this.starts.get(commitId) ?? []).map((start) => start.result));
  }

  /**
   * Puts an event on the local default bus, as EventBridge would deliver it to the rules' targets, and
   * resolves with the run starts it made: one per pipeline the source-change publisher found following the
   * pushed repository (the push rule's answer), each through the run rule. A malformed event is refused
   * at once (thrown).
   */
  putEvent(event: unknown): Promise<StartRunResult[]> {
    const deliveries = this.options.bus.put(event);
    const valid = event as BusEvent;
    const commitId = String(valid.detail.commitId);
    const started = Promise.all(
      deliveries.map(async ({ result }) => {
        const { pipelines = [] } = ((await result) ?? {}) as { readonly pipelines?: readonly string[] };
        return Promise.all(pipelines.map((pipeline) => this.startedBy(commitId, pipeline, valid.id)));
      }),
    ).then((runs) => runs.flat());
    this.track(commitId, [started]);
    // Every event leaves a trace: one that starts no run is reported with the reason.
    if (deliveries.length === 0) {
      this.reportProblem(describe(valid), 'no pipeline follows this push (no rule matches it)');
      return started;
    }
    started.then(
      (runs) => {
        if (runs.length === 0) this.reportProblem(describe(valid), 'no pipeline follows this repository');
      },
      // Also reported to whoever awaits it; it must not crash the runtime.
      (error: unknown) =>
        this.reportProblem(
          describe(valid),
          `the push was not delivered: ${String((error as Error)?.message ?? error)}`,
        ),
    );
    return started;
  }

  /**
   * Delivers a GitHub webhook delivery to the local receiver, as GitHub would POST it to the
   * platform's function URL; resolves with the receiver's answer.
   */
  async deliverWebhook(delivery: { headers: Record<string, string>; body: Buffer }) {
    const response = await fetch(`${this.options.endpointUrl}${GITHUB_WEBHOOK_ROUTE}`, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /**
   * A deliberate re-run of a commit a branch has already: a new event for it, as pushing the same
   * commit again would be on CodeCommit with a new event.
   */
  redeliver(repository: string, branch: string, commitId: string): void {
    this.deliver({ repository, oldCommitId: commitId, commitId, ref: `refs/heads/${branch}` }, randomUUID());
  }

  private track(commitId: unknown, deliveries: Promise<unknown>[]): void {
    const key = String(commitId);
    this.deliveries.set(key, [...(this.deliveries.get(key) ?? []), ...deliveries]);
  }

  /** One ref update of a local repository, delivered as its source would: a CodeCommit event or a GitHub push. */
  private deliver(update: RefUpdate, deliveryId: string): void {
    const github = this.options.pipelines.find(
      (p) => p.source.type === 'github' && localRepositoryName(p) === update.repository,
    );
    if (!github) {
      this.putEvent(codeCommitEvent(update, new Date(), deliveryId));
      return;
    }
    const delivered = pushDelivery(
      this.options.git,
      sourceOf(github).repository,
      update,
      this.options.webhookSecret,
      deliveryId,
      process.env.USER ?? 'local',
    )
      .then((delivery) => this.deliverWebhook(delivery))
      .then((answer) => {
        if (answer.status >= 300)
          throw new Error(`the webhook answered ${answer.status}: ${String(answer.body.message)}`);
        if (!answer.body.pipelines)
          this.reportProblem({ event: `${update.repository} ${update.ref}`, deliveryId }, String(answer.body.message));
      })
      .catch((error: unknown) =>
        this.reportProblem(
          { event: `${update.repository} ${update.ref} at ${update.commitId.slice(0, 12)}`, deliveryId },
          `the push was not delivered: ${String((error as Error)?.message ?? error)}`,
        ),
      );
    this.track(update.commitId, [delivered]);
  }

  /** Writes why an event started no run to `<stateDir>/event-bus.log`, and tells onDeliveryProblem. */
  private reportProblem(event: Omit<DeliveryProblem, 'reason'>, reason: string): void {
    const problem: DeliveryProblem = { ...event, reason };
    appendFileSync(
      join(this.options.stateDir, 'event-bus.log'),
      `${JSON.stringify({ time: this.options.now(), ...problem })}\n`,
    );
    this.options.onDeliveryProblem?.(problem);
  }
}

/** What a delivery problem names: the repository, ref and commit of a CodeCommit event or a SourceChanged one. */
function describe(event: BusEvent | SourceChanged): Omit<DeliveryProblem, 'reason'> {
  if ('detail' in event) {
    const { repositoryName, referenceFullName, commitId } = event.detail as Record<string, string | undefined>;
    return {
      event: `${repositoryName ?? event.source} ${referenceFullName ?? event['detail-type']} at ${String(commitId ?? '').slice(0, 12)}`,
      deliveryId: event.id,
    };
  }
  const ref = `refs/${event.referenceType === 'tag' ? 'tags' : 'heads'}/${event.branch}`;
  return {
    event: `${event.repository} ${ref} at ${String(event.commitId).slice(0, 12)}`,
    deliveryId: event.trigger?.deliveryId,
  };
}

/** A UUID-shaped event id, the same for the same delivery and ref. */
function eventIdOf(delivery: string, update: RefUpdate): string {
  const hex = createHash('sha256').update(`${delivery}\n${update.ref}\n${update.commitId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
