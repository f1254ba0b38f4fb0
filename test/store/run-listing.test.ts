/**
 * Runs newest first across pipelines, filtered, against dynalite: the pipelines' pages merged in the index's order,
 * a commit searched by prefix in any case, and a bound on how many runs are read for a filter nothing matches.
 */
import type { RunRecord } from '../../core/records';
import { listRunsNewestFirst, RUNS_PAGE_SIZE } from '../../store/run-listing';
import { queuedRun } from '../support/records';
import { useRunStore } from '../support/store';

describe('listing runs newest first', () => {
  const runs = useRunStore();
  /** Run n of a pipeline, created n minutes after 09:00, its commit id starting with the pipeline's letter. */
  const run = (pipeline: 'api' | 'web', n: number, overrides: Partial<RunRecord> = {}): RunRecord =>
    queuedRun({
      runId: `${pipeline}-${String(n).padStart(3, '0')}`,
      pipeline,
      createdAt: new Date(Date.UTC(2026, 11, 3, 9, n)).toISOString(),
      commit: {
        repository: pipeline,
        branch: 'main',
        id: `${pipeline === 'api' ? 'a' : 'b'}${String(n).padStart(39, '0')}`,
      },
      ...overrides,
    });

  beforeEach(async () => {
    // api at even minutes, web at odd ones, past one page each.
    for (let n = 0; n < RUNS_PAGE_SIZE + 10; n++) {
      await runs.store.createRun(run('api', 2 * n));
      await runs.store.createRun(
        run(
          'web',
          2 * n + 1,
          n === 3
            ? { commit: { repository: 'web', branch: 'hotfix', id: 'C0FFEE'.toLowerCase() + '0'.repeat(34) } }
            : {},
        ),
      );
    }
  });

  it("merges the pipelines' pages in the index's order, past a page", async () => {
    const listed = await listRunsNewestFirst(runs.store, ['api', 'web'], {}, { limit: RUNS_PAGE_SIZE + 5 });
    const newest = 2 * (RUNS_PAGE_SIZE + 10) - 1;
    expect(listed.map((r) => r.runId)).toEqual(
      Array.from({ length: RUNS_PAGE_SIZE + 5 }, (_, i) => {
        const minute = newest - i;
        return `${minute % 2 ? 'web' : 'api'}-${String(minute).padStart(3, '0')}`;
      }),
    );
  });

  it('finds a commit by its prefix in any case, and a branch, wherever the run is', async () => {
    expect(
      (await listRunsNewestFirst(runs.store, ['api', 'web'], { commit: 'C0FFEE' }, { limit: 10 })).map((r) => r.runId),
    ).toEqual(['web-007']);
    expect(
      (await listRunsNewestFirst(runs.store, ['api', 'web'], { branch: 'hotfix' }, { limit: 10 })).map((r) => r.runId),
    ).toEqual(['web-007']);
  });

  it('reads no more than its scan limit for a filter nothing matches', async () => {
    const listed = await listRunsNewestFirst(
      runs.store,
      ['api', 'web'],
      { status: 'SUCCEEDED' },
      { limit: 10, scanLimit: 30 },
    );
    expect(listed).toEqual([]);
    const withinBound = await listRunsNewestFirst(
      runs.store,
      ['api', 'web'],
      { commit: 'a000' },
      { limit: 10, scanLimit: 30 },
    );
    // The 30 newest runs hold 15 of api's; their ids start a000… (minutes 90 to 118).
    expect(withinBound).toHaveLength(10);
    const beyond = await listRunsNewestFirst(
      runs.store,
      ['api', 'web'],
      { commit: 'C0FFEE' },
      { limit: 10, scanLimit: 30 },
    );
    // web-007 is the 113th newest: beyond the bound.
    expect(beyond).toEqual([]);
  });
});
