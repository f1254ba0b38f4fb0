/**
 * The five DORA software delivery metrics (DORA's 2024 definitions: change lead time, deployment frequency, failed
 * deployment recovery time, change fail rate, deployment rework rate), computed from a pipeline's releases as the run
 * store records them. Pure: the releases come in (store/releases.ts reads them), the numbers and their bands
 * (bands.ts) go out. Each definition, its denominator and its source is written in docs/metrics.md; a metric
 * without data is null ("no data"), never 0.
 */
import type { DeploymentRecord } from '../records';
import { BAND_SOURCE, failRateBand, frequencyBand, leadTimeBand, recoveryBand, type Band } from './bands';

/** One commit a release carried: the head commit of one of the pipeline's runs since its last release. */
export interface ReleasedCommit {
  readonly id: string;
  /** The run that carried it. */
  readonly runId: string;
  /** When it was committed (its committer date), when the source said. */
  readonly committedAt?: string;
  /** When it was pushed (the run's trigger time): lead time's start when the commit time is unknown. */
  readonly pushedAt?: string;
}

/**
 * A run's release to production: its deployment, and the commits it carried — its change record's (every run of
 * the pipeline since its last release, this one included), or the run's own commit when it had no release gate.
 */
export interface Release {
  readonly pipeline: string;
  readonly runId: string;
  readonly deployment: Pick<DeploymentRecord, 'status' | 'startedAt' | 'endedAt' | 'hotfix' | 'step'>;
  readonly commits: readonly ReleasedCommit[];
}

/** The window measured: releases ending at or after `from` and before `to`. */
export interface MetricsWindow {
  readonly from: Date;
  readonly to: Date;
}

/** What the change fail rate and the rework rate divide by, said with the numbers (open tools disagree on it). */
export const PRODUCTION_DEPLOYMENTS =
  'deployments that took production traffic in the window: SUCCEEDED, and ROLLED_BACK after at least one traffic step';

export interface LeadTime {
  readonly medianHours: number | null;
  readonly p90Hours: number | null;
  /** The commits measured: each commit released in the window, once. */
  readonly commits: number;
  /** Of those, the commits whose commit time was unknown, measured from their push instead. */
  readonly timedFromPush: number;
  /** Commits released in the window with neither time known: not measured. */
  readonly untimed: number;
  readonly band: Band | null;
}

export interface DeploymentFrequency {
  readonly perDay: number | null;
  readonly perWeek: number | null;
  /** SUCCEEDED deployments ending in the window. */
  readonly deployments: number;
  readonly days: number;
  readonly band: Band | null;
}

export interface ChangeFailRate {
  readonly rate: number | null;
  readonly failed: number;
  readonly rolledBack: number;
  readonly followedByHotfix: number;
  /** The denominator: PRODUCTION_DEPLOYMENTS. */
  readonly deployments: number;
  readonly denominator: typeof PRODUCTION_DEPLOYMENTS;
  readonly band: Band | null;
}

export interface RecoveryTime {
  readonly medianHours: number | null;
  readonly p90Hours: number | null;
  /** Failed deployments in the window that a later successful release recovered. */
  readonly recovered: number;
  /** Failed deployments in the window with no successful release of their pipeline after them yet. */
  readonly unrecovered: number;
  readonly band: Band | null;
}

export interface ReworkRate {
  readonly rate: number | null;
  readonly hotfixes: number;
  /** The denominator: PRODUCTION_DEPLOYMENTS. */
  readonly deployments: number;
  readonly denominator: typeof PRODUCTION_DEPLOYMENTS;
  /** The 2024 report gives rework rate no band. */
  readonly band: null;
}

export interface DoraMetrics {
  readonly changeLeadTime: LeadTime;
  readonly deploymentFrequency: DeploymentFrequency;
  readonly changeFailRate: ChangeFailRate;
  readonly failedDeploymentRecoveryTime: RecoveryTime;
  readonly deploymentReworkRate: ReworkRate;
}

export interface DoraReport {
  readonly window: { readonly from: string; readonly to: string; readonly days: number };
  readonly bandSource: typeof BAND_SOURCE;
  readonly overall: DoraMetrics;
  /** Per pipeline, by name. */
  readonly pipelines: Readonly<Record<string, DoraMetrics>>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The metrics over `window`, per pipeline (every name in `pipelines`, with or without releases) and overall.
 * `releases` may reach before the window: earlier releases place the commits a rollback left unreleased and tell
 * whether a release was followed by a hotfix; only what ends in the window is counted.
 */
export function doraMetrics(
  releases: readonly Release[],
  window: MetricsWindow,
  pipelines: readonly string[] = [...new Set(releases.map((r) => r.pipeline))],
): DoraReport {
  const byPipeline = groupByPipeline(releases);
  const outcomes = new Map(pipelines.map((p) => [p, outcomesOf(byPipeline.get(p) ?? [])] as const));
  const all = [...outcomes.values()];
  const days = (window.to.getTime() - window.from.getTime()) / DAY_MS;
  return {
    window: { from: window.from.toISOString(), to: window.to.toISOString(), days },
    bandSource: BAND_SOURCE,
    overall: measure(merge(all), window),
    pipelines: Object.fromEntries(
      [...outcomes].sort(([a], [b]) => a.localeCompare(b)).map(([p, o]) => [p, measure(o, window)]),
    ),
  };
}

/** What happened to each of a pipeline's deployments, over all the releases read; measured per window. */
interface PipelineOutcomes {
  /** Deployments that took production traffic, each with its end and what became of it. */
  readonly deployments: readonly DeploymentOutcome[];
  /** Each commit's lead time, at the successful release that first carried it to production. */
  readonly leadTimes: readonly CommitLeadTime[];
}

interface DeploymentOutcome {
  readonly endedAt: number;
  readonly succeeded: boolean;
  readonly hotfix: boolean;
  readonly failed: 'rolled-back' | 'followed-by-hotfix' | undefined;
  /** For a failed deployment: how long from the failure to the next successful release (undefined: none yet). */
  readonly recoveryMs?: number;
}

interface CommitLeadTime {
  readonly releasedAt: number;
  /** undefined: neither the commit's nor its push's time is known. */
  readonly leadTimeMs: number | undefined;
  readonly fromPush: boolean;
}

function outcomesOf(releases: readonly Release[]): PipelineOutcomes {
  // A deployment counts once it took production traffic and ended: SUCCEEDED (all traffic), or ROLLED_BACK after
  // at least one step put the new version in front of callers. One that was refused or rolled back before any
  // traffic moved never reached production.
  const ended = releases
    .filter(
      ({ deployment }) =>
        deployment.endedAt !== undefined &&
        (deployment.status === 'SUCCEEDED' || (deployment.status === 'ROLLED_BACK' && deployment.step >= 0)),
    )
    .map((release) => ({
      release,
      startedAt: time(release.deployment.startedAt),
      endedAt: time(release.deployment.endedAt!),
      succeeded: release.deployment.status === 'SUCCEEDED',
    }))
    .sort((a, b) => a.startedAt - b.startedAt || a.release.runId.localeCompare(b.release.runId));
  const successes = ended
    .filter((d) => d.succeeded)
    .map((d) => d.endedAt)
    .sort((a, b) => a - b);
  const nextSuccessAfter = (at: number) => successes[firstAtOrAfter(successes, at)];

  const deployments = ended.map(({ release, endedAt, succeeded }, at): DeploymentOutcome => {
    const next = ended[at + 1];
    const failed =
      release.deployment.status === 'ROLLED_BACK'
        ? 'rolled-back'
        : next?.release.deployment.hotfix
          ? 'followed-by-hotfix'
          : undefined;
    // The failure starts when it is known: a rollback when it ended (the bad version left production, the change
    // still unreleased); a release followed by a hotfix when the hotfix started with its alarms firing (the first
    // moment the run store knows of the incident; when it began before that, no record says).
    const failedAt = failed === 'rolled-back' ? endedAt : failed ? next!.startedAt : undefined;
    const recoveredAt = failedAt === undefined ? undefined : nextSuccessAfter(failedAt);
    return {
      endedAt,
      succeeded,
      hotfix: release.deployment.hotfix !== undefined,
      failed,
      ...(recoveredAt !== undefined && failedAt !== undefined ? { recoveryMs: recoveredAt - failedAt } : {}),
    };
  });

  // Lead time: each commit from its time to the first successful release that carried it. A rolled-back release's
  // commits stay on the branch and reach production with the next successful release (whose change record starts
  // after the rolled-back run, whose gate approved); a commit carried again later counts once, with the first.
  const leadTimes: CommitLeadTime[] = [];
  const released = new Set<string>();
  let waiting = new Map<string, { start: number | undefined; fromPush: boolean }>();
  for (const { release, endedAt, succeeded } of [...ended].sort((a, b) => a.endedAt - b.endedAt)) {
    for (const commit of release.commits) {
      if (released.has(commit.id)) continue;
      const start = commit.committedAt ?? commit.pushedAt;
      const timed = { start: start === undefined ? undefined : time(start), fromPush: !commit.committedAt && !!start };
      const known = waiting.get(commit.id);
      if (!known || (timed.start ?? Infinity) < (known.start ?? Infinity)) waiting.set(commit.id, timed);
    }
    if (!succeeded) continue;
    for (const [id, { start, fromPush }] of waiting) {
      released.add(id);
      leadTimes.push({
        releasedAt: endedAt,
        // A commit dated after its release (a skewed clock) took no time, not negative time.
        leadTimeMs: start === undefined ? undefined : Math.max(0, endedAt - start),
        fromPush,
      });
    }
    waiting = new Map();
  }
  return { deployments, leadTimes };
}

function measure(outcomes: PipelineOutcomes, window: MetricsWindow): DoraMetrics {
  const from = window.from.getTime();
  const to = window.to.getTime();
  const inWindow = (at: number) => at >= from && at < to;
  const days = (to - from) / DAY_MS;

  const commits = outcomes.leadTimes.filter((c) => inWindow(c.releasedAt));
  const timed = commits.filter((c) => c.leadTimeMs !== undefined).map((c) => c.leadTimeMs! / HOUR_MS);
  const leadMedian = percentile(timed, 0.5);

  const deployments = outcomes.deployments.filter((d) => inWindow(d.endedAt));
  const succeeded = deployments.filter((d) => d.succeeded).length;
  const perDay = succeeded && days > 0 ? succeeded / days : null;

  const failed = deployments.filter((d) => d.failed);
  const failRate = deployments.length ? failed.length / deployments.length : null;
  const recoveries = failed.filter((d) => d.recoveryMs !== undefined).map((d) => d.recoveryMs! / HOUR_MS);
  const recoveryMedian = percentile(recoveries, 0.5);
  const hotfixes = deployments.filter((d) => d.hotfix).length;

  return {
    changeLeadTime: {
      medianHours: leadMedian,
      p90Hours: percentile(timed, 0.9),
      commits: timed.length,
      timedFromPush: commits.filter((c) => c.leadTimeMs !== undefined && c.fromPush).length,
      untimed: commits.length - timed.length,
      band: leadTimeBand(leadMedian),
    },
    deploymentFrequency: {
      perDay,
      perWeek: perDay === null ? null : perDay * 7,
      deployments: succeeded,
      days,
      band: frequencyBand(perDay),
    },
    changeFailRate: {
      rate: failRate,
      failed: failed.length,
      rolledBack: failed.filter((d) => d.failed === 'rolled-back').length,
      followedByHotfix: failed.filter((d) => d.failed === 'followed-by-hotfix').length,
      deployments: deployments.length,
      denominator: PRODUCTION_DEPLOYMENTS,
      band: failRateBand(failRate),
    },
    failedDeploymentRecoveryTime: {
      medianHours: recoveryMedian,
      p90Hours: percentile(recoveries, 0.9),
      recovered: recoveries.length,
      unrecovered: failed.length - recoveries.length,
      band: recoveryBand(recoveryMedian),
    },
    deploymentReworkRate: {
      rate: deployments.length ? hotfixes / deployments.length : null,
      hotfixes,
      deployments: deployments.length,
      denominator: PRODUCTION_DEPLOYMENTS,
      band: null,
    },
  };
}

function merge(outcomes: readonly PipelineOutcomes[]): PipelineOutcomes {
  return {
    deployments: outcomes.flatMap((o) => o.deployments),
    leadTimes: outcomes.flatMap((o) => o.leadTimes),
  };
}

/**
 * The p-quantile of `values` by linear interpolation between the closest ranks (the default of numpy and of
 * spreadsheets' PERCENTILE.INC): the median of an even count is the mean of its middle two. null when empty.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = p * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

function groupByPipeline(releases: readonly Release[]): Map<string, Release[]> {
  const groups = new Map<string, Release[]>();
  for (const release of releases) {
    const group = groups.get(release.pipeline);
    if (group) group.push(release);
    else groups.set(release.pipeline, [release]);
  }
  return groups;
}

/** The index of the first of `sorted` at or after `at` (binary search); `sorted.length` when none is. */
function firstAtOrAfter(sorted: readonly number[], at: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (sorted[middle]! < at) low = middle + 1;
    else high = middle;
  }
  return low;
}

function time(iso: string): number {
  return Date.parse(iso);
}

/** One bucket of a chart: each metric's headline number over the bucket (null: no data in it). */
export interface SeriesPoint {
  readonly from: string;
  readonly to: string;
  readonly leadTimeMedianHours: number | null;
  /** SUCCEEDED deployments ending in the bucket (a count, 0 in a quiet bucket); the rate is null then. */
  readonly deployments: number;
  readonly deploymentsPerDay: number | null;
  readonly changeFailRate: number | null;
  readonly recoveryMedianHours: number | null;
  readonly reworkRate: number | null;
}

/**
 * Chart-ready series: the window cut into buckets of `bucketDays` (7: weekly) counted back from its end, the first
 * one cut short at the window's start, each bucket measured as a window of its own — of one pipeline, or overall.
 */
export function doraSeries(
  releases: readonly Release[],
  window: MetricsWindow,
  options: { readonly bucketDays?: number; readonly pipeline?: string } = {},
): SeriesPoint[] {
  const bucketMs = (options.bucketDays ?? 7) * DAY_MS;
  const byPipeline = groupByPipeline(releases);
  const chosen = options.pipeline === undefined ? [...byPipeline.values()] : [byPipeline.get(options.pipeline) ?? []];
  const outcomes = merge(chosen.map(outcomesOf));
  const points: SeriesPoint[] = [];
  for (let end = window.to.getTime(); end > window.from.getTime(); end -= bucketMs) {
    const bucket = { from: new Date(Math.max(window.from.getTime(), end - bucketMs)), to: new Date(end) };
    const metrics = measure(outcomes, bucket);
    points.unshift({
      from: bucket.from.toISOString(),
      to: bucket.to.toISOString(),
      leadTimeMedianHours: metrics.changeLeadTime.medianHours,
      deployments: metrics.deploymentFrequency.deployments,
      deploymentsPerDay: metrics.deploymentFrequency.perDay,
      changeFailRate: metrics.changeFailRate.rate,
      recoveryMedianHours: metrics.failedDeploymentRecoveryTime.medianHours,
      reworkRate: metrics.deploymentReworkRate.rate,
    });
  }
  return points;
}
