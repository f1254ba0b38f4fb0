import { failRateBand, frequencyBand, leadTimeBand, recoveryBand } from '../../core/metrics/bands';
import { doraMetrics, doraSeries, percentile, type Release, type ReleasedCommit } from '../../core/metrics/dora';

/**
 * A seeded month of releases. Every answer below is worked out by hand in the comments, from these records alone.
 *
 * web:
 *   r0  SUCCEEDED 10-20 11:00 (before the window)                       commit c0
 *   r1  SUCCEEDED 11-03 12:00, three pushes in one release              c1 (11-02 09:00), c2 (11-02 12:00), c3 (11-03 06:00)
 *   r2  ROLLED_BACK 11-10 11:00 after taking traffic                    c4 (11-10 08:00)
 *   r3  SUCCEEDED 11-10 15:00, the fix (its change record starts after r2, whose gate approved)   c5 (11-10 13:00)
 *   r4  SUCCEEDED 11-20 10:30, commit time unknown: pushed 11-20 09:00  c6; c5 again (a re-run of it)
 *   r5  SUCCEEDED 11-21 09:45, a hotfix (started 09:00 with alarms firing)   c7 (11-21 08:00)
 *   r6  ROLLED_BACK 11-25 before any traffic moved (never in production)     c8
 * api:
 *   a1  SUCCEEDED 11-05 12:00                                           a1 (11-05 00:00)
 */
const at = (day: string, time: string) => `2026-${day}T${time}:00.000Z`;
const commit = (id: string, committedAt?: string, pushedAt?: string): ReleasedCommit => ({
  id,
  runId: `run-${id}`,
  ...(committedAt ? { committedAt } : {}),
  ...(pushedAt ? { pushedAt } : {}),
});
function release(
  pipeline: string,
  runId: string,
  status: 'SUCCEEDED' | 'ROLLED_BACK',
  startedAt: string,
  endedAt: string,
  commits: ReleasedCommit[],
  extra: { hotfix?: true; noTraffic?: true } = {},
): Release {
  return {
    pipeline,
    runId,
    deployment: {
      status,
      startedAt,
      endedAt,
      step: extra.noTraffic ? -1 : 0,
      ...(extra.hotfix ? { hotfix: { firing: ['stepline-web-errors'] } } : {}),
    },
    commits,
  };
}

const web: Release[] = [
  release('web', 'r0', 'SUCCEEDED', at('10-20', '10:00'), at('10-20', '11:00'), [commit('c0', at('10-20', '08:00'))]),
  release('web', 'r1', 'SUCCEEDED', at('11-03', '10:00'), at('11-03', '12:00'), [
    commit('c3', at('11-03', '06:00')),
    commit('c2', at('11-02', '12:00')),
    commit('c1', at('11-02', '09:00')),
  ]),
  release('web', 'r2', 'ROLLED_BACK', at('11-10', '10:00'), at('11-10', '11:00'), [commit('c4', at('11-10', '08:00'))]),
  release('web', 'r3', 'SUCCEEDED', at('11-10', '14:00'), at('11-10', '15:00'), [commit('c5', at('11-10', '13:00'))]),
  release('web', 'r4', 'SUCCEEDED', at('11-20', '10:00'), at('11-20', '10:30'), [
    commit('c6', undefined, at('11-20', '09:00')),
    commit('c5', at('11-10', '13:00')),
  ]),
  release('web', 'r5', 'SUCCEEDED', at('11-21', '09:00'), at('11-21', '09:45'), [commit('c7', at('11-21', '08:00'))], {
    hotfix: true,
  }),
  release(
    'web',
    'r6',
    'ROLLED_BACK',
    at('11-25', '10:00'),
    at('11-25', '10:05'),
    [commit('c8', at('11-25', '09:00'))],
    {
      noTraffic: true,
    },
  ),
];
const api: Release[] = [
  release('api', 'a1', 'SUCCEEDED', at('11-05', '11:00'), at('11-05', '12:00'), [commit('a1', at('11-05', '00:00'))]),
];
const november = { from: new Date(at('11-01', '00:00')), to: new Date(at('12-01', '00:00')) };

describe('doraMetrics', () => {
  const report = doraMetrics([...web, ...api], november, ['api', 'web', 'idle']);
  const webMetrics = report.pipelines.web!;

  it('measures change lead time per commit, a multi-push release counting each of its commits once', () => {
    // r1: c1 11-02 09:00 → 11-03 12:00 = 27 h; c2 11-02 12:00 → 24 h; c3 11-03 06:00 → 6 h.
    // r3 carries c5 (13:00 → 15:00 = 2 h) and c4, which r2's rollback left unreleased (08:00 → 15:00 = 7 h).
    // r4: c6 from its push (09:00 → 10:30 = 1.5 h); c5 was released by r3 already and is not counted again.
    // r5: c7 08:00 → 09:45 = 1.75 h. c0 (before the window) and c8 (never in production) are not counted.
    // Sorted: 1.5, 1.75, 2, 6, 7, 24, 27 (n = 7): median = the 4th = 6 h;
    // p90: rank 0.9 × 6 = 5.4 → 24 + (27 − 24) × 0.4 = 25.2 h.
    expect(webMetrics.changeLeadTime).toEqual({
      medianHours: 6,
      p90Hours: expect.closeTo(25.2, 10),
      commits: 7,
      timedFromPush: 1,
      untimed: 0,
      band: { clusters: ['elite'], text: 'elite (less than one day)' },
    });
  });

  it('counts SUCCEEDED deployments per day and per week', () => {
    // r1, r3, r4, r5 succeeded in 30 days: 4 / 30 = 0.1333/day (× 7 = 0.9333/week), between 1/30 and 1/7: medium.
    expect(webMetrics.deploymentFrequency).toEqual({
      perDay: expect.closeTo(4 / 30, 10),
      perWeek: expect.closeTo(28 / 30, 10),
      deployments: 4,
      days: 30,
      band: { clusters: ['medium'], text: 'medium (between once per week and once per month)' },
    });
  });

  it('counts a rollback and a release followed by a hotfix as failed, over the deployments that took traffic', () => {
    // Took production traffic: r1, r2, r3, r4, r5 (r6 rolled back before any, r0 is before the window) = 5.
    // Failed: r2 (rolled back), r4 (the next release, r5, is a hotfix) = 2. 2 / 5 = 0.4: nearest low's 40%.
    expect(webMetrics.changeFailRate).toMatchObject({
      rate: 0.4,
      failed: 2,
      rolledBack: 1,
      followedByHotfix: 1,
      deployments: 5,
      band: { clusters: ['low'] },
    });
    expect(webMetrics.changeFailRate.denominator).toContain(
      'SUCCEEDED, and ROLLED_BACK after at least one traffic step',
    );
  });

  it('measures recovery from the failure to the next successful release', () => {
    // r2: rolled back at 11-10 11:00, recovered by r3 at 15:00 = 4 h.
    // r4: the incident known when the hotfix r5 started (11-21 09:00), recovered when r5 ended (09:45) = 0.75 h.
    // Median of 0.75 and 4 = 2.375 h; p90: 0.75 + (4 − 0.75) × 0.9 = 3.675 h: less than a day, high and medium.
    expect(webMetrics.failedDeploymentRecoveryTime).toEqual({
      medianHours: 2.375,
      p90Hours: expect.closeTo(3.675, 10),
      recovered: 2,
      unrecovered: 0,
      band: { clusters: ['high', 'medium'], text: 'high/medium (less than one day)' },
    });
  });

  it('measures rework as the share of hotfixes, with no band (the 2024 report has none)', () => {
    // r5 is the one hotfix among the 5 deployments that took traffic: 1 / 5 = 0.2.
    expect(webMetrics.deploymentReworkRate).toMatchObject({ rate: 0.2, hotfixes: 1, deployments: 5, band: null });
  });

  it('adds the pipelines up overall', () => {
    // api adds a1: a deployment that succeeded, lead time 00:00 → 12:00 = 12 h.
    // Lead times 1.5, 1.75, 2, 6, 7, 12, 24, 27 (n = 8): median (6 + 7) / 2 = 6.5 h; p90 rank 6.3 → 24 + 3 × 0.3 = 24.9 h.
    // 5 succeeded / 30 days = 0.1667/day ≥ 1/7: high. Failed 2 / 6 = 0.333: nearest low (0.067 away; high's 0.133).
    // Rework 1 / 6.
    expect(report.overall.changeLeadTime).toMatchObject({
      medianHours: 6.5,
      p90Hours: expect.closeTo(24.9, 10),
      commits: 8,
    });
    expect(report.overall.deploymentFrequency).toMatchObject({ deployments: 5, band: { clusters: ['high'] } });
    expect(report.overall.changeFailRate).toMatchObject({
      rate: 2 / 6,
      failed: 2,
      deployments: 6,
      band: { clusters: ['low'] },
    });
    expect(report.overall.deploymentReworkRate.rate).toBeCloseTo(1 / 6, 10);
    expect(Object.keys(report.pipelines)).toEqual(['api', 'idle', 'web']);
  });

  it('says "no data" (null), never 0, for a pipeline without releases', () => {
    const idle = report.pipelines.idle!;
    expect(idle.changeLeadTime).toMatchObject({ medianHours: null, p90Hours: null, commits: 0, band: null });
    expect(idle.deploymentFrequency).toMatchObject({ perDay: null, perWeek: null, deployments: 0, band: null });
    expect(idle.changeFailRate).toMatchObject({ rate: null, deployments: 0, band: null });
    expect(idle.failedDeploymentRecoveryTime).toMatchObject({ medianHours: null, recovered: 0, unrecovered: 0 });
    expect(idle.deploymentReworkRate.rate).toBeNull();
  });

  it('leaves out releases before the window, yet uses them to place commits and hotfixes', () => {
    // 11-15 to 12-01 (16 days): r4 and r5 took traffic; r4 failed (r5 is a hotfix). c4 and c5 were released in r3,
    // before the window: only c6 (1.5 h) and c7 (1.75 h) count: median 1.625 h. 2 / 16 = 0.125/day: medium.
    // Recovery 0.75 h: elite (less than one hour).
    const late = doraMetrics(web, { from: new Date(at('11-15', '00:00')), to: november.to });
    expect(late.pipelines.web!.changeLeadTime).toMatchObject({ medianHours: 1.625, commits: 2, timedFromPush: 1 });
    expect(late.pipelines.web!.deploymentFrequency).toMatchObject({ perDay: 0.125, days: 16 });
    expect(late.pipelines.web!.changeFailRate).toMatchObject({ rate: 0.5, failed: 1, deployments: 2 });
    expect(late.pipelines.web!.failedDeploymentRecoveryTime).toMatchObject({
      medianHours: 0.75,
      band: { clusters: ['elite'] },
    });
  });

  it('counts a failure nothing recovered yet as unrecovered, and a commit with no time as untimed', () => {
    const open = [
      release('web', 'x1', 'ROLLED_BACK', at('11-10', '10:00'), at('11-10', '11:00'), [commit('x1')]),
      release('web', 'x2', 'SUCCEEDED', at('11-09', '10:00'), at('11-09', '11:00'), [commit('x2')]),
    ];
    const metrics = doraMetrics(open, november).pipelines.web!;
    expect(metrics.failedDeploymentRecoveryTime).toMatchObject({ medianHours: null, recovered: 0, unrecovered: 1 });
    expect(metrics.changeLeadTime).toMatchObject({ medianHours: null, commits: 0, untimed: 1 });
  });
});

describe('doraSeries', () => {
  it('cuts the window into weeks counted back from its end, each measured on its own', () => {
    const series = doraSeries([...web, ...api], november, { pipeline: 'web' });
    // Weeks back from 12-01: [11-24, 12-01), [11-17, 11-24), [11-10, 11-17), [11-03, 11-10), and [11-01, 11-03).
    expect(series.map((p) => p.from.slice(5, 10))).toEqual(['11-01', '11-03', '11-10', '11-17', '11-24']);
    expect(series[0]).toMatchObject({ deployments: 0, deploymentsPerDay: null, leadTimeMedianHours: null });
    // [11-03, 11-10): r1 alone: 1 / 7 per day, lead times 6, 24, 27 → median 24; no failure: 0 of 1.
    expect(series[1]).toMatchObject({ deployments: 1, leadTimeMedianHours: 24, changeFailRate: 0 });
    expect(series[1]!.deploymentsPerDay).toBeCloseTo(1 / 7, 10);
    // [11-10, 11-17): r2 rolled back, r3 fixed it in 4 h; lead times 2 and 7 → 4.5.
    expect(series[2]).toMatchObject({
      changeFailRate: 0.5,
      recoveryMedianHours: 4,
      leadTimeMedianHours: 4.5,
      reworkRate: 0,
    });
    // [11-17, 11-24): r4 and its hotfix r5.
    expect(series[3]).toMatchObject({ changeFailRate: 0.5, recoveryMedianHours: 0.75, reworkRate: 0.5 });
    expect(series[4]).toMatchObject({ deployments: 0, changeFailRate: null, reworkRate: null });
  });
});

describe('percentile', () => {
  it('interpolates between the closest ranks', () => {
    expect(percentile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(percentile([10], 0.9)).toBe(10);
    expect(percentile([], 0.5)).toBeNull();
  });
});

describe('bands (the 2024 clusters)', () => {
  it('places a value in a range, between two clusters, or beyond them all', () => {
    // Once a day is high's ("between once per day and once per week"); elite is more than that.
    expect(frequencyBand(1)?.clusters).toEqual(['high']);
    expect(frequencyBand(1.5)?.clusters).toEqual(['elite']);
    // Two days: past high and medium's "less than one day", short of low's one week.
    expect(recoveryBand(48)).toEqual({
      clusters: [],
      text: 'between the clusters (high/medium: less than one day; low: between one week and one month)',
    });
    // A lead time of a year: past low's six months.
    expect(leadTimeBand(365 * 24)).toEqual({
      clusters: [],
      text: 'beyond every cluster (low: between one month and six months)',
    });
    // 15% is 5 points from both high's 20% and medium's 10%: a tie goes to the better cluster, high.
    expect(failRateBand(0.15)?.clusters).toEqual(['high']);
    expect(failRateBand(0)?.clusters).toEqual(['elite']);
    expect(leadTimeBand(null)).toBeNull();
  });
});
