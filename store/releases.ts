/**
 * The releases the DORA metrics are computed from (core/metrics/dora.ts), read from the run store in range queries
 * on the byPipeline index (store/schema.ts), every pipeline at once, each back to a margin before the window: a
 * pipeline's deployments and its change records' commits, with their commit and push times. A pipeline whose
 * releases' commits some change record does not time (no gate; records from before change records kept times) has
 * its runs' times listed too, and runs older than the margin that a change lists are read by key. No read per run:
 * over 10,000 runs, reading each run's deployment and gate by key took seconds (docs/metrics.md).
 */
import type { Release, ReleasedCommit } from '../core/metrics/dora';
import type { ApprovalRecord } from '../core/records';
import type { Page } from './table';
import type { DeploymentEnd, RunStore, RunTimes } from './run-store';

/**
 * How far before the window the store is read. A deployment ending in the window may have started days earlier
 * (a paused deployment holds up to a day), a change record's runs were pushed before its gate opened (a gate waits
 * up to its deadline), and a rollback shortly before the window leaves its commits to the first successful release
 * in it.
 */
export const MARGIN_DAYS = 7;

/** How many reads by key are in flight at once. */
const CONCURRENCY = 16;

export interface ReleasesRead {
  readonly releases: Release[];
  /** Items read: runs (listed, and read by key for a change's older commits), deployments, change records. */
  readonly read: { readonly runs: number; readonly deployments: number; readonly changes: number };
}

export async function readReleases(
  store: RunStore,
  pipelines: readonly string[],
  window: { readonly from: Date },
): Promise<ReleasesRead> {
  const since = new Date(window.from.getTime() - MARGIN_DAYS * 24 * 3_600_000).toISOString();
  const perPipeline = await Promise.all(pipelines.map((pipeline) => readPipeline(store, pipeline, since)));
  const ended = perPipeline.flatMap((p) => p.ended);
  const changes = new Map(perPipeline.flatMap((p) => p.changes.map((c) => [c.runId, c] as const)));
  const runs = new Map<string, RunTimes>(perPipeline.flatMap((p) => p.runs.map((r) => [r.runId, r] as const)));
  const listedRuns = runs.size;

  // The runs whose times neither a change record nor the listing gave (a change listing runs from before the
  // margin): read by key.
  const unlisted = [
    ...new Set(
      ended.flatMap(
        (d) =>
          changes
            .get(d.runId)
            ?.commits.filter((c) => c.pushedAt === undefined)
            .map((c) => c.runId) ?? [d.runId],
      ),
    ),
  ].filter((runId) => !runs.has(runId));
  for (const run of await inParallel(unlisted, (runId) => store.getRun(runId))) if (run) runs.set(run.runId, run);

  return {
    releases: ended.map((deployment) => releaseOf(deployment, changes.get(deployment.runId), runs)),
    read: {
      runs: listedRuns + unlisted.length,
      deployments: perPipeline.reduce((sum, p) => sum + p.deployments, 0),
      changes: changes.size,
    },
  };
}

/**
 * One pipeline's ended deployments and change records since `since`, and — only when some release's commits are
 * not timed by its change record (a pipeline without a gate, or records from before change records kept times) —
 * its runs' times too.
 */
async function readPipeline(store: RunStore, pipeline: string, since: string) {
  const [deployments, changes] = await Promise.all([
    all((cursor) => store.listDeploymentEnds(pipeline, since, { cursor })),
    all((cursor) => store.listChangeCommits(pipeline, since, { cursor })),
  ]);
  const ended = deployments.filter(
    (d) => d.endedAt !== undefined && (d.status === 'SUCCEEDED' || d.status === 'ROLLED_BACK'),
  );
  const changeOf = new Map(changes.map((c) => [c.runId, c]));
  const untimed = ended.some((d) => changeOf.get(d.runId)?.commits.some((c) => c.pushedAt === undefined) ?? true);
  const runs = untimed ? await all((cursor) => store.listRunTimes(pipeline, since, { cursor })) : [];
  return { ended, changes, runs, deployments: deployments.length };
}

/** Every page of a paged read. */
async function all<T>(page: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const next = await page(cursor);
    items.push(...next.items);
    cursor = next.cursor;
  } while (cursor);
  return items;
}

function releaseOf(
  deployment: DeploymentEnd,
  change: Pick<ApprovalRecord, 'commits'> | undefined,
  runs: ReadonlyMap<string, RunTimes>,
): Release {
  // Without a gate there is no change record: the release carries its run's own commit.
  const own = runs.get(deployment.runId);
  const listed = change?.commits ?? (own ? [{ runId: own.runId, id: own.commit.id }] : []);
  return {
    pipeline: deployment.pipeline,
    runId: deployment.runId,
    deployment: {
      status: deployment.status,
      startedAt: deployment.startedAt,
      step: deployment.step,
      ...(deployment.endedAt ? { endedAt: deployment.endedAt } : {}),
      ...(deployment.hotfix ? { hotfix: deployment.hotfix } : {}),
    },
    commits: listed.map((commit): ReleasedCommit => {
      if (commit.pushedAt !== undefined)
        return {
          id: commit.id,
          runId: commit.runId,
          ...(commit.committedAt ? { committedAt: commit.committedAt } : {}),
          pushedAt: commit.pushedAt,
        };
      const carrier = runs.get(commit.runId);
      const committedAt = carrier?.commit.id === commit.id ? carrier.commit.committedAt : undefined;
      return {
        id: commit.id,
        runId: commit.runId,
        ...(committedAt ? { committedAt } : {}),
        ...(carrier ? { pushedAt: carrier.trigger.eventTime } : {}),
      };
    }),
  };
}

/** `read` of each item, at most CONCURRENCY at once, in the items' order. */
async function inParallel<T, R>(items: readonly T[], read: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const at = next++;
      results[at] = await read(items[at]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return results;
}
