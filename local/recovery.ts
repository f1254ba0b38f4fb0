/**
 * What local mode does about a session that ended: its runs that were active when it stopped (or was
 * killed) are recorded as ended, but for those waiting at a release gate, whose executions resume.
 */
import type { Clock } from '../core/ports';
import type { RunStore } from '../store/run-store';

/**
 * A run that was active when local mode stopped has no execution any more (aborted on a stop, lost
 * with the process on a kill). Recording it FAILED keeps the store truthful (and its active index
 * empty): at a stop, and at the next start for a local mode that could not stop.
 */
export async function failInterruptedRuns(
  store: RunStore,
  now: Clock,
  resumable: ReadonlySet<string>,
): Promise<string[]> {
  const failure = {
    error: 'LocalModeStopped',
    cause: 'local mode stopped while this run was in progress; local executions do not survive a restart',
  };
  const interrupted: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listActiveRuns({ cursor });
    for (const run of page.items) {
      if (run.executionName && resumable.has(run.executionName)) continue;
      for (const stage of await store.listStages(run.runId)) {
        if (stage.status === 'IN_PROGRESS') {
          await store.transitionStage(run.runId, stage.name, 'FAILED', { endedAt: now().toISOString(), failure });
        }
      }
      await store.transitionRun(run.runId, 'FAILED', { endedAt: now().toISOString(), failure });
      interrupted.push(run.runId);
    }
    cursor = page.cursor;
  } while (cursor);
  return interrupted;
}
