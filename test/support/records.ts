import type { RunRecord } from '../../core/records';

/** A QUEUED run as the run starter creates it. */
export function queuedRun(overrides: Partial<RunRecord> = {}): RunRecord {
  const runId = overrides.runId ?? 'web-0123456789ab-0badcafe';
  return {
    runId,
    pipeline: 'web',
    status: 'QUEUED',
    commit: { repository: 'web', branch: 'main', id: '0123456789abcdef0123456789abcdef01234567' },
    trigger: { kind: 'codecommit', deliveryId: 'event-1', eventTime: '2026-11-25T09:00:00Z' },
    executionName: runId,
    stageNames: ['build', 'unit'],
    createdAt: '2026-11-25T09:00:01.000Z',
    ...overrides,
  };
}
