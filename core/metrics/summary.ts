/**
 * The DORA metrics said in words, one row per metric (its value with what it counts, and its band): what
 * `stepline metrics` prints and the console's metrics page shows, written once.
 */
import type { Band } from './bands';
import type { DoraMetrics } from './dora';

export interface MetricSummary {
  readonly metric: string;
  readonly value: string;
  /** Where the value falls among the report's clusters; empty when it has no band. */
  readonly band: string;
}

export function metricSummaries(metrics: DoraMetrics): MetricSummary[] {
  const { changeLeadTime: lead, deploymentFrequency: frequency, changeFailRate: fail } = metrics;
  const { failedDeploymentRecoveryTime: recovery, deploymentReworkRate: rework } = metrics;
  return [
    {
      metric: 'change lead time',
      value:
        lead.medianHours === null
          ? `no data${lead.untimed ? ` (${lead.untimed} commits without a time)` : ''}`
          : `median ${hours(lead.medianHours)}, p90 ${hours(lead.p90Hours!)} (${lead.commits} commits${lead.timedFromPush ? `, ${lead.timedFromPush} timed from their push` : ''})`,
      band: bandText(lead.band),
    },
    {
      metric: 'deployment frequency',
      value:
        frequency.perDay === null
          ? 'no data (no deployment succeeded)'
          : `${formatNumber(frequency.perDay)}/day, ${formatNumber(frequency.perWeek!)}/week (${frequency.deployments} deployments)`,
      band: bandText(frequency.band),
    },
    {
      metric: 'change fail rate',
      value:
        fail.rate === null
          ? 'no data (no deployment took production traffic)'
          : `${percent(fail.rate)}: ${fail.failed} of ${fail.deployments} deployments that took production traffic (${fail.rolledBack} rolled back, ${fail.followedByHotfix} followed by a hotfix)`,
      band: bandText(fail.band),
    },
    {
      metric: 'failed deployment recovery time',
      value:
        recovery.medianHours === null
          ? `no data${recovery.unrecovered ? ` (${recovery.unrecovered} not recovered yet)` : ''}`
          : `median ${hours(recovery.medianHours)}, p90 ${hours(recovery.p90Hours!)} (${recovery.recovered} recovered${recovery.unrecovered ? `, ${recovery.unrecovered} not yet` : ''})`,
      band: bandText(recovery.band),
    },
    {
      metric: 'deployment rework rate',
      value:
        rework.rate === null
          ? 'no data'
          : `${percent(rework.rate)}: ${rework.hotfixes} hotfixes of ${rework.deployments} deployments that took production traffic`,
      band: 'no band in the 2024 report',
    },
  ];
}

function bandText(fits: Band | null): string {
  return fits === null ? '' : fits.text;
}

function hours(value: number): string {
  if (value < 1) return `${Math.round(value * 60)} min`;
  if (value < 48) return `${formatNumber(value)} h`;
  return `${formatNumber(value / 24)} days`;
}

function percent(rate: number): string {
  return `${formatNumber(rate * 100)}%`;
}

/** At most one decimal (two below 1), no trailing zeros. */
export function formatNumber(value: number): string {
  return String(Number(value.toFixed(value < 1 ? 2 : 1)));
}
