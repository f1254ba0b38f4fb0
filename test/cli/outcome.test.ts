/** What the CLI says became of a run's change, from its run, gate and deployment records. */
import type { DeploymentRecord } from '../../core/records';
import type { ApprovalRecord } from '../../core/records';
import { releaseOutcome } from '../../cli/outcome';
import { queuedRun } from '../support/records';

const gate = (fields: Partial<ApprovalRecord>) =>
  ({ runId: 'web-1', pipeline: 'web', deadline: '2026-11-28T09:00:00.000Z', ...fields }) as ApprovalRecord;
const deployment = (fields: Partial<DeploymentRecord>) =>
  ({ runId: 'web-1', function: 'hello', alias: 'live', toVersion: '3', ...fields }) as DeploymentRecord;

describe('releaseOutcome', () => {
  it('a rejection names who rejected and why, and that nothing was released', () => {
    const run = queuedRun({ status: 'REJECTED' });
    expect(releaseOutcome(run, gate({ status: 'REJECTED', outcome: 'rejected by bob: breaks the API' }))).toEqual({
      kind: 'rejected',
      text: 'rejected at its release gate (rejected by bob: breaks the API); nothing was released',
    });
  });

  it('an expired gate says so, with its deadline', () => {
    const run = queuedRun({ status: 'EXPIRED' });
    const outcome = releaseOutcome(
      run,
      gate({ status: 'EXPIRED', outcome: 'nobody decided before the deadline 2026-11-28T09:00:00.000Z' }),
    );
    expect(outcome).toEqual({
      kind: 'expired',
      text: 'not released: its release gate expired (nobody decided before the deadline 2026-11-28T09:00:00.000Z)',
    });
  });

  it('a rollback says why (the alarm and its reason, as the deployment recorded it)', () => {
    const run = queuedRun({ status: 'FAILED', failure: { error: 'Deploy.RolledBack', cause: '…', stage: 'deploy' } });
    const outcome = releaseOutcome(
      run,
      gate({ status: 'APPROVED', outcome: 'approved by alice' }),
      deployment({ status: 'ROLLED_BACK', outcome: 'alarm stepline-web-errors is in ALARM (5 errors)' }),
    );
    expect(outcome).toEqual({
      kind: 'rolled-back',
      text: 'rolled back: alarm stepline-web-errors is in ALARM (5 errors)',
    });
  });

  it('a release says which version took the traffic; a run with a gate and no deployment is released when it succeeds', () => {
    const done = deployment({ status: 'SUCCEEDED', outcome: 'version 3 takes all traffic of hello:live' });
    expect(releaseOutcome(queuedRun({ status: 'SUCCEEDED' }), undefined, done)).toEqual({
      kind: 'released',
      text: 'released: version 3 takes all traffic of hello:live',
    });
    expect(
      releaseOutcome(queuedRun({ status: 'SUCCEEDED' }), gate({ status: 'APPROVED', outcome: 'approved by alice' })),
    ).toEqual({
      kind: 'released',
      text: 'released: approved by alice at its release gate',
    });
  });

  it('a run that failed before its release says where it stopped', () => {
    const run = queuedRun({
      status: 'FAILED',
      failure: { error: 'States.TaskFailed', cause: 'exit 1', stage: 'unit' },
    });
    expect(releaseOutcome(run)).toEqual({
      kind: 'not-released',
      text: 'not released: its run ended FAILED at stage unit (States.TaskFailed)',
    });
  });
});
