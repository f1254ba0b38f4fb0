/**
 * Runs newest first across pipelines, filtered: what `stepline runs` and the console's runs page list. Each
 * pipeline's runs are read a page at a time through the byPipeline index (`<created>#<run id>`, newest first) and
 * merged in that order, so a page is read only when its runs are next; filters apply as runs are read.
 */
import type { RunRecord, RunStatus } from '../core/records';
import type { RunStore } from './run-store';

/** How many runs one query of the byPipeline index asks for. */
export const RUNS_PAGE_SIZE = 50;

export interface RunFilter {
  readonly status?: RunStatus;
  readonly branch?: string;
  /** A commit id's prefix (any case). */
  readonly commit?: string;
}

/**
 * At most `limit` runs of `pipelines` that match `filter`, newest first. `scanLimit` bounds how many runs are read
 * in all (a filter nothing matches would otherwise read every run): what a page answering at once needs.
 */
export async function listRunsNewestFirst(
  store: RunStore,
  pipelines: readonly string[],
  filter: RunFilter,
  options: { readonly limit: number; readonly scanLimit?: number },
): Promise<RunRecord[]> {
  const commit = filter.commit?.toLowerCase();
  const matches = (run: RunRecord) =>
    (!filter.status || run.status === filter.status) &&
    (filter.branch === undefined || run.commit.branch === filter.branch) &&
    (!commit || run.commit.id.startsWith(commit));
  const streams = pipelines.map((pipeline) => pipelineRuns(store, pipeline)[Symbol.asyncIterator]());
  const heads = await Promise.all(streams.map((stream) => stream.next()));
  const found: RunRecord[] = [];
  let scanned = 0;
  while (found.length < options.limit && scanned < (options.scanLimit ?? Infinity)) {
    // The newest of the pipelines' next runs, in the index's own order.
    let newest = -1;
    heads.forEach((head, i) => {
      if (!head.done && (newest === -1 || sortKey(head.value) > sortKey(heads[newest]!.value as RunRecord))) newest = i;
    });
    if (newest === -1) break;
    const run = heads[newest]!.value as RunRecord;
    heads[newest] = await streams[newest]!.next();
    scanned++;
    if (matches(run)) found.push(run);
  }
  await Promise.all(streams.map((stream) => stream.return?.(undefined)));
  return found;
}

const sortKey = (run: RunRecord) => `${run.createdAt}#${run.runId}`;

/** A pipeline's runs newest first, a page at a time as they are read. */
async function* pipelineRuns(store: RunStore, pipeline: string): AsyncGenerator<RunRecord> {
  let cursor: string | undefined;
  do {
    const page = await store.listRuns(pipeline, { limit: RUNS_PAGE_SIZE, cursor });
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}
