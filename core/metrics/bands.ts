/**
 * The performance bands the DORA metrics are read against: the four software delivery performance clusters of
 * the 2024 Accelerate State of DevOps report (DORA, Google Cloud, October 2024, "Software delivery performance
 * levels": https://dora.dev/research/2024/dora-report/). The 2025 report replaced the clusters with seven team
 * archetypes and per-metric buckets, so these are the last clusters the report published. The 2024 report gives no
 * cluster value for deployment rework rate (it introduced the metric but formed its clusters on the other four),
 * so rework rate has no band here. docs/metrics.md quotes each cluster.
 */

export const BAND_SOURCE = 'DORA, Accelerate State of DevOps report 2024, software delivery performance levels';

export type Cluster = 'elite' | 'high' | 'medium' | 'low';

/** Where a measured value falls among the report's clusters. */
export interface Band {
  /** The clusters whose description the value fits: none when it falls between or beyond them, two where they overlap. */
  readonly clusters: readonly Cluster[];
  /** What the report says of those clusters, or where the value falls when it fits none. */
  readonly text: string;
}

const HOUR = 1;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** A month and six months as the report's ranges use them (30 days, half a 365-day year). */
const MONTH = 30 * DAY;
const SIX_MONTHS = 182.5 * DAY;

interface Range {
  readonly cluster: Cluster;
  /** Inclusive lower and exclusive upper bound, in the metric's unit. */
  readonly from: number;
  readonly to: number;
  readonly says: string;
}

/** Change lead time, in hours (the 2024 clusters). */
const LEAD_TIME: readonly Range[] = [
  { cluster: 'elite', from: 0, to: DAY, says: 'less than one day' },
  { cluster: 'high', from: DAY, to: WEEK, says: 'between one day and one week' },
  { cluster: 'medium', from: WEEK, to: MONTH, says: 'between one week and one month' },
  { cluster: 'low', from: MONTH, to: SIX_MONTHS, says: 'between one month and six months' },
];

/** Deployment frequency, in deployments per day (the 2024 clusters). */
const FREQUENCY: readonly Range[] = [
  // Once per day is high's; elite is more than that (1 + Number.EPSILON is the next number after 1).
  { cluster: 'elite', from: 1 + Number.EPSILON, to: Infinity, says: 'on demand, multiple deploys per day' },
  { cluster: 'high', from: 1 / 7, to: 1 + Number.EPSILON, says: 'between once per day and once per week' },
  { cluster: 'medium', from: 1 / 30, to: 1 / 7, says: 'between once per week and once per month' },
  { cluster: 'low', from: 1 / 182.5, to: 1 / 30, says: 'between once per month and once every six months' },
];

/**
 * Failed deployment recovery time, in hours (the 2024 clusters). High and medium share "less than one day"; none
 * covers one day to one week.
 */
const RECOVERY: readonly Range[] = [
  { cluster: 'elite', from: 0, to: HOUR, says: 'less than one hour' },
  { cluster: 'high', from: HOUR, to: DAY, says: 'less than one day' },
  { cluster: 'medium', from: HOUR, to: DAY, says: 'less than one day' },
  { cluster: 'low', from: WEEK, to: MONTH, says: 'between one week and one month' },
];

/**
 * Change fail rate: the 2024 report gives each cluster one typical rate, not a range, and they do not rise with
 * the clusters (high's 20% is above medium's 10%: the clusters are formed on all four metrics together). A rate
 * is placed with the cluster whose rate is nearest (the better cluster on a tie), and says so.
 */
const FAIL_RATES: readonly { readonly cluster: Cluster; readonly rate: number }[] = [
  { cluster: 'elite', rate: 0.05 },
  { cluster: 'high', rate: 0.2 },
  { cluster: 'medium', rate: 0.1 },
  { cluster: 'low', rate: 0.4 },
];

export function leadTimeBand(medianHours: number | null): Band | null {
  return medianHours === null ? null : inRanges(LEAD_TIME, medianHours);
}

export function frequencyBand(perDay: number | null): Band | null {
  return perDay === null ? null : inRanges(FREQUENCY, perDay);
}

export function recoveryBand(medianHours: number | null): Band | null {
  return medianHours === null ? null : inRanges(RECOVERY, medianHours);
}

export function failRateBand(rate: number | null): Band | null {
  if (rate === null) return null;
  // A tie (within rounding: 0.15 is as near 0.1 as 0.2) goes to the better cluster, the one listed first.
  const distance = (cluster: (typeof FAIL_RATES)[number]) => Math.abs(cluster.rate - rate);
  const nearest = FAIL_RATES.reduce((best, next) => (distance(next) < distance(best) - 1e-9 ? next : best));
  const all = FAIL_RATES.map((c) => `${c.cluster} ${c.rate * 100}%`).join(', ');
  return { clusters: [nearest.cluster], text: `nearest ${nearest.cluster} (the clusters' typical rates: ${all})` };
}

function inRanges(ranges: readonly Range[], value: number): Band {
  const fits = ranges.filter((range) => value >= range.from && value < range.to);
  const describe = (group: readonly Range[]) => `${group.map((r) => r.cluster).join('/')}: ${group[0]!.says}`;
  if (fits.length) return { clusters: fits.map((r) => r.cluster), text: `${describe(fits).replace(': ', ' (')})` };
  // The clusters the value lies between (the nearest ranges on each side), or the ones it lies beyond.
  const nearestBelow = Math.max(...ranges.filter((r) => r.to <= value).map((r) => r.to));
  const nearestAbove = Math.min(...ranges.filter((r) => r.from > value).map((r) => r.from));
  const below = ranges.filter((r) => r.to === nearestBelow);
  const above = ranges.filter((r) => r.from === nearestAbove);
  if (below.length && above.length)
    return { clusters: [], text: `between the clusters (${describe(below)}; ${describe(above)})` };
  return { clusters: [], text: `beyond every cluster (${describe(below.length ? below : above)})` };
}
