/**
 * Local CloudWatch metrics: the samples the local Lambda runtime publishes (namespace `AWS/Lambda`), kept in memory
 * so that local mode can evaluate a deployment's alarms on them with core/alarms/evaluator.ts, as CloudWatch would.
 *
 * A metric is identified as CloudWatch identifies it: namespace, name and the exact set of dimensions. A query for
 * `{FunctionName}` does not see the samples published under `{FunctionName, Resource}` — those are another metric.
 * Memory is bounded by time: samples older than the retention are dropped, and a metric with none left is forgotten.
 */
import type { MetricSample } from '../../core/alarms/evaluator';

export interface MetricDatum {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
  /** Epoch ms. */
  readonly timestamp: number;
}

/** Three hours: longer than any alarm's evaluation range a local deployment uses, short enough to stay small. */
const DEFAULT_RETENTION_MS = 3 * 60 * 60 * 1000;
/** How often every metric is swept, so that one nobody publishes to any more is dropped too. */
const SWEEP_INTERVAL_MS = 60 * 1000;

export class LocalMetrics {
  /** Each metric's samples, ordered by timestamp. */
  private readonly series = new Map<string, MetricSample[]>();
  private readonly retentionMs: number;
  private readonly now: () => number;
  private lastSweep = 0;

  /**
   * @param options.retentionMs how long a sample is kept @default 3 hours
   * @param options.now the clock retention is measured against (epoch ms) @default Date.now
   */
  constructor(options: { retentionMs?: number; now?: () => number } = {}) {
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.now = options.now ?? Date.now;
  }

  put(datum: MetricDatum): void {
    const cutoff = this.now() - this.retentionMs;
    if (datum.timestamp < cutoff) return;
    const key = metricKey(datum.namespace, datum.metricName, datum.dimensions);
    let samples = this.series.get(key);
    if (!samples) this.series.set(key, (samples = []));
    // Samples arrive nearly in order (an invocation publishes at its end, stamped with its start).
    let at = samples.length;
    while (at > 0 && samples[at - 1]!.timestamp > datum.timestamp) at--;
    samples.splice(at, 0, { timestamp: datum.timestamp, value: datum.value });
    dropBefore(samples, cutoff);
    if (this.now() - this.lastSweep >= SWEEP_INTERVAL_MS) this.sweep(cutoff);
  }

  /** The samples of one metric (exact dimension set) with `fromMs <= timestamp < toMs`, oldest first. */
  samples(
    namespace: string,
    metricName: string,
    dimensions: Readonly<Record<string, string>>,
    fromMs: number,
    toMs: number,
  ): MetricSample[] {
    const samples = this.series.get(metricKey(namespace, metricName, dimensions)) ?? [];
    const cutoff = Math.max(fromMs, this.now() - this.retentionMs);
    return samples.filter((sample) => sample.timestamp >= cutoff && sample.timestamp < toMs);
  }

  private sweep(cutoff: number): void {
    this.lastSweep = this.now();
    for (const [key, samples] of this.series) {
      dropBefore(samples, cutoff);
      if (samples.length === 0) this.series.delete(key);
    }
  }
}

/** Dimension order does not matter to CloudWatch, so the key sorts them. */
function metricKey(namespace: string, metricName: string, dimensions: Readonly<Record<string, string>>): string {
  const sorted = Object.entries(dimensions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([namespace, metricName, sorted]);
}

function dropBefore(samples: MetricSample[], cutoff: number): void {
  let expired = 0;
  while (expired < samples.length && samples[expired]!.timestamp < cutoff) expired++;
  if (expired) samples.splice(0, expired);
}
