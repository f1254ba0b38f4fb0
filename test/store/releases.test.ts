import { doraMetrics, type Release } from '../../core/metrics/dora';
import type { ApprovalRecord, ChangeCommit, DeploymentRecord, RunRecord, RunStatus } from '../../core/records';
import { readReleases } from '../../store/releases';
import type { RunStore } from '../../store/run-store';
import { queuedRun } from '../support/records';
import { useRunStore } from '../support/store';

const at = (day: string, time: string) => `2026-${day}T${time}:00.000Z`;
const november = { from: new Date(at('11-01', '00:00')), to: new Date(at('12-01', '00:00')) };

/** A run as recorded, its commit made at `committedAt` (absent: unknown) and pushed at `created`. */
function run(pipeline: string, id: string, status: RunStatus, created: string, committedAt?: string): RunRecord {
  return queuedRun({
    runId: `${pipeline}-${id}`,
    pipeline,
    status,
    commit: { repository: pipeline, branch: 'main', id: `commit-${id}`, ...(committedAt ? { committedAt } : {}) },
    trigger: { kind: 'codecommit', deliveryId: `event-${id}`, eventTime: created },
    createdAt: created,
  });
}

function deployment(
  of: RunRecord,
  status: DeploymentRecord['status'],
  startedAt: string,
  endedAt?: string,
  extra: Partial<DeploymentRecord> = {},
): DeploymentRecord {
  return {
    runId: of.runId,
    pipeline: of.pipeline,
    function: `${of.pipeline}-fn`,
    alias: 'live',
    fromVersion: '1',
    toVersion: '2',
    steps: [{ weight: 1, bakeSeconds: 0 }],
    step: status === 'IN_PROGRESS' ? -1 : 0,
    status,
    alarms: [],
    alarmsSeen: [],
    interventions: [],
    startedAt,
    ...(endedAt ? { endedAt } : {}),
    ...extra,
  };
}

/**
 * The gate of `of`, approved, its change record listing `carried` (the runs since the last release, newest first):
 * as the gate writes it now, with each commit's times (`timed`), or as it wrote it before, without.
 */
function approval(of: RunRecord, carried: RunRecord[], timed = false): ApprovalRecord {
  const commits: ChangeCommit[] = carried.map((r) => ({
    runId: r.runId,
    id: r.commit.id,
    ...(timed && r.commit.committedAt ? { committedAt: r.commit.committedAt } : {}),
    ...(timed ? { pushedAt: r.trigger.eventTime } : {}),
  }));
  return {
    runId: of.runId,
    pipeline: of.pipeline,
    branch: 'main',
    commitRange: { to: of.commit.id },
    commits,
    tests: [],
    risk: { class: 'standard', reasons: ['small'] },
    required: { approvals: 0 },
    asked: [],
    openedAt: of.createdAt,
    deadline: at('12-31', '00:00'),
    status: 'APPROVED',
  };
}

// web: three pushes (w1 superseded, w2 rejected, w3 released), a rollback (w4) and its fix (w5), a deployment still
// under way (w6), and a hotfix (w7) whose change record also lists w0, a run from long before the window.
// api: no release gate: its release (a1) carries its own commit, whose time is unknown (its push time counts).
const w0 = run('web', 'w0', 'FAILED', at('09-01', '00:00'), at('09-01', '00:00'));
const w1 = run('web', 'w1', 'SUPERSEDED', at('11-02', '09:00'), at('11-02', '08:00'));
const w2 = run('web', 'w2', 'REJECTED', at('11-02', '12:00'));
const w3 = run('web', 'w3', 'SUCCEEDED', at('11-03', '06:00'), at('11-03', '05:00'));
const w4 = run('web', 'w4', 'FAILED', at('11-10', '08:00'), at('11-10', '07:00'));
const w5 = run('web', 'w5', 'SUCCEEDED', at('11-10', '13:00'), at('11-10', '13:00'));
const w6 = run('web', 'w6', 'RUNNING', at('11-29', '09:00'), at('11-29', '08:00'));
const w7 = run('web', 'w7', 'SUCCEEDED', at('11-20', '09:00'), at('11-20', '08:00'));
const a1 = run('api', 'a1', 'SUCCEEDED', at('11-05', '10:00'));
const deployments = [
  deployment(w3, 'SUCCEEDED', at('11-03', '10:00'), at('11-03', '12:00')),
  deployment(w4, 'ROLLED_BACK', at('11-10', '10:00'), at('11-10', '11:00')),
  deployment(w5, 'SUCCEEDED', at('11-10', '14:00'), at('11-10', '15:00')),
  deployment(w6, 'IN_PROGRESS', at('11-29', '10:00')),
  deployment(w7, 'SUCCEEDED', at('11-20', '10:00'), at('11-20', '10:30'), {
    hotfix: { firing: ['stepline-web-errors'] },
  }),
  deployment(a1, 'SUCCEEDED', at('11-05', '11:00'), at('11-05', '12:00')),
];
const approvals = [
  approval(w3, [w3, w2, w1]),
  approval(w4, [w4]),
  approval(w5, [w5]),
  approval(w6, [w6]),
  approval(w7, [w7, w0]),
];

async function seed(store: RunStore): Promise<void> {
  for (const r of [w0, w1, w2, w3, w4, w5, w6, w7, a1]) await store.createRun(r);
  for (const d of deployments) await store.createDeployment(d);
  for (const a of approvals) await store.createApproval(a);
}

/** The same releases written by hand: what the store must hand the core. */
const byHand: Release[] = [
  {
    pipeline: 'web',
    runId: w3.runId,
    deployment: { status: 'SUCCEEDED', startedAt: at('11-03', '10:00'), endedAt: at('11-03', '12:00'), step: 0 },
    commits: [
      { id: 'commit-w3', runId: w3.runId, committedAt: at('11-03', '05:00'), pushedAt: at('11-03', '06:00') },
      { id: 'commit-w2', runId: w2.runId, pushedAt: at('11-02', '12:00') },
      { id: 'commit-w1', runId: w1.runId, committedAt: at('11-02', '08:00'), pushedAt: at('11-02', '09:00') },
    ],
  },
  {
    pipeline: 'web',
    runId: w4.runId,
    deployment: { status: 'ROLLED_BACK', startedAt: at('11-10', '10:00'), endedAt: at('11-10', '11:00'), step: 0 },
    commits: [{ id: 'commit-w4', runId: w4.runId, committedAt: at('11-10', '07:00'), pushedAt: at('11-10', '08:00') }],
  },
  {
    pipeline: 'web',
    runId: w5.runId,
    deployment: { status: 'SUCCEEDED', startedAt: at('11-10', '14:00'), endedAt: at('11-10', '15:00'), step: 0 },
    commits: [{ id: 'commit-w5', runId: w5.runId, committedAt: at('11-10', '13:00'), pushedAt: at('11-10', '13:00') }],
  },
  {
    pipeline: 'web',
    runId: w7.runId,
    deployment: {
      status: 'SUCCEEDED',
      startedAt: at('11-20', '10:00'),
      endedAt: at('11-20', '10:30'),
      step: 0,
      hotfix: { firing: ['stepline-web-errors'] },
    },
    commits: [
      { id: 'commit-w7', runId: w7.runId, committedAt: at('11-20', '08:00'), pushedAt: at('11-20', '09:00') },
      { id: 'commit-w0', runId: w0.runId, committedAt: at('09-01', '00:00'), pushedAt: at('09-01', '00:00') },
    ],
  },
  {
    pipeline: 'api',
    runId: a1.runId,
    deployment: { status: 'SUCCEEDED', startedAt: at('11-05', '11:00'), endedAt: at('11-05', '12:00'), step: 0 },
    commits: [{ id: 'commit-a1', runId: a1.runId, pushedAt: at('11-05', '10:00') }],
  },
];

const byRun = (a: Release, b: Release) => a.runId.localeCompare(b.runId);

describe('readReleases (dynalite, real SDK v3)', () => {
  const runStore = useRunStore();

  it("reads each ended deployment with its change record's commits, timed from the runs that carried them", async () => {
    await seed(runStore.store);
    const { releases, read } = await readReleases(runStore.store, ['web', 'api'], november);
    // w6's deployment is still under way: not a release. w0 is older than the margin: read by key for its time.
    expect([...releases].sort(byRun)).toEqual([...byHand].sort(byRun));
    expect(read).toEqual({ runs: 9, deployments: 6, changes: 5 });
  });

  it('gives the core the same numbers as the releases written by hand', async () => {
    await seed(runStore.store);
    const { releases } = await readReleases(runStore.store, ['web', 'api'], november);
    const fromStore = doraMetrics(releases, november, ['web', 'api']);
    expect(fromStore).toEqual(doraMetrics(byHand, november, ['web', 'api']));
    // web's commits: c1 08:00 → 11-03 12:00 = 28 h, c2 from its push 12:00 → 24 h, c3 05:00 → 7 h; c4 (rolled back,
    // released by w5) 07:00 → 15:00 = 8 h, c5 2 h; c7 08:00 → 10:30 = 2.5 h; c0 09-01 00:00 → 11-20 10:30 = 80 days
    // 10.5 h = 1930.5 h. Sorted 2, 2.5, 7, 8, 24, 28, 1930.5: median 8 h.
    expect(fromStore.pipelines.web!.changeLeadTime).toMatchObject({ medianHours: 8, commits: 7, timedFromPush: 1 });
    // w4 rolled back, w5 followed by the hotfix w7: 2 of the 4 deployments that took traffic (w3, w4, w5, w7).
    expect(fromStore.pipelines.web!.changeFailRate).toMatchObject({ rate: 0.5, deployments: 4 });
    // Recovery: w4 11:00 → w5 15:00 = 4 h; w5 from w7's start 10:00 to its end 10:30 = 0.5 h: median 2.25 h.
    expect(fromStore.pipelines.web!.failedDeploymentRecoveryTime.medianHours).toBe(2.25);
    // api: its own commit, from its push 10:00 to 12:00 = 2 h.
    expect(fromStore.pipelines.api!.changeLeadTime).toMatchObject({ medianHours: 2, timedFromPush: 1 });
  });

  it('reads no run when the change records time their commits', async () => {
    const store = runStore.store;
    for (const r of [w0, w1, w2, w3, w4, w5, w6, w7]) await store.createRun(r);
    for (const d of deployments.filter((d) => d.pipeline === 'web')) await store.createDeployment(d);
    for (const [of, carried] of [
      [w3, [w3, w2, w1]],
      [w4, [w4]],
      [w5, [w5]],
      [w7, [w7, w0]],
    ] as const)
      await store.createApproval(approval(of, [...carried], true));
    const { releases, read } = await readReleases(store, ['web'], november);
    expect([...releases].sort(byRun)).toEqual(byHand.filter((r) => r.pipeline === 'web').sort(byRun));
    expect(read).toEqual({ runs: 0, deployments: 5, changes: 4 });
  });

  it('reads nothing of a pipeline before the margin, and nothing of other pipelines', async () => {
    await seed(runStore.store);
    const late = await readReleases(runStore.store, ['web'], { from: new Date(at('11-19', '00:00')) });
    // Back to 11-12 (7 days' margin): w6 and w7 and their deployments; w7's change record lists w0 (read by key).
    expect(late.releases.map((r) => r.runId)).toEqual([w7.runId]);
    expect(late.read).toEqual({ runs: 3, deployments: 2, changes: 2 });
  });
});
