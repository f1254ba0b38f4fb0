/**
 * The console's DORA page and the pipelines page's trends: the metrics of core/metrics/dora.ts over the releases
 * store/releases.ts reads, said as `stepline metrics` says them (core/metrics/summary.ts), with a chart per metric
 * drawn in the browser by Chart.js (static/metrics.js) from the weekly series `doraSeries` gives, and a small line
 * per metric and pipeline drawn here as SVG.
 */
import { dirname, join } from 'node:path';
import { doraMetrics, doraSeries, type SeriesPoint } from '../../core/metrics/dora';
import { metricSummaries } from '../../core/metrics/summary';
import type { RunStore } from '../../store/run-store';
import { readReleases } from '../../store/releases';
import { html, Html } from './html';

/** Chart.js's UMD build, served to the metrics page as a file of the console's own (its CSP admits no other). */
export const CHART_JS_FILE = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');

/** The windows the page offers, as `stepline metrics --since` names them, and their length. */
export const METRICS_WINDOWS = { '7d': 7, '30d': 30, '90d': 90 } as const;
export type MetricsWindowName = keyof typeof METRICS_WINDOWS;

const DAY_MS = 86_400_000;

/** Each charted metric: its title, its field in a series point, and its unit. */
const CHARTED: readonly { readonly title: string; readonly field: keyof SeriesPoint; readonly unit: string }[] = [
  { title: 'change lead time (median)', field: 'leadTimeMedianHours', unit: 'hours' },
  { title: 'deployment frequency', field: 'deploymentsPerDay', unit: 'per day' },
  { title: 'change fail rate', field: 'changeFailRate', unit: 'share' },
  { title: 'failed deployment recovery time (median)', field: 'recoveryMedianHours', unit: 'hours' },
  { title: 'deployment rework rate', field: 'reworkRate', unit: 'share' },
];

export async function metricsBody(
  store: RunStore,
  pipelines: readonly string[],
  windowName: MetricsWindowName,
  now: Date = new Date(),
): Promise<Html> {
  const window = { from: new Date(now.getTime() - METRICS_WINDOWS[windowName] * DAY_MS), to: now };
  const { releases } = await readReleases(store, pipelines, window);
  const report = doraMetrics(releases, window, pipelines);
  const series = doraSeries(releases, window, { bucketDays: windowName === '7d' ? 1 : 7 });
  const table = (scope: string, rows: ReturnType<typeof metricSummaries>) =>
    html`<h2>${scope}</h2>
      <table class="metrics" data-scope="${scope}">
        <thead>
          <tr>
            <th>metric</th>
            <th>value</th>
            <th>band</th>
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (row) =>
              html`<tr data-metric="${row.metric}">
                <td>${row.metric}</td>
                <td>${row.value}</td>
                <td>${row.band}</td>
              </tr>`,
          )}
        </tbody>
      </table>`;
  return html`<h1>DORA metrics</h1>
    <p>
      ${report.window.from.slice(0, 10)} to ${report.window.to.slice(0, 10)}:
      ${Object.keys(METRICS_WINDOWS).map(
        (name) =>
          html`<a href="/console/metrics?since=${name}" ${new Html(name === windowName ? ' aria-current="page"' : '')}
            >${name}</a
          > `,
      )}
      · bands: ${report.bandSource} · what each metric counts: docs/metrics.md
    </p>
    <section class="charts">
      ${CHARTED.map(
        (chart) =>
          html`<figure>
            <figcaption>${chart.title} (${chart.unit})</figcaption>
            <canvas
              class="metric-chart"
              data-title="${chart.title}"
              data-labels="${JSON.stringify(series.map((point) => point.to.slice(0, 10)))}"
              data-values="${JSON.stringify(series.map((point) => point[chart.field]))}"
            ></canvas>
          </figure>`,
      )}
    </section>
    ${table('all pipelines', metricSummaries(report.overall))}
    ${Object.entries(report.pipelines).map(([name, metrics]) => table(name, metricSummaries(metrics)))}`;
}

/**
 * A small line per metric of one pipeline over the last eight weeks, drawn as SVG here (no script): what the
 * pipelines page shows beside each pipeline.
 */
export async function pipelineTrends(
  store: RunStore,
  pipelines: readonly string[],
  now: Date = new Date(),
): Promise<ReadonlyMap<string, Html>> {
  const window = { from: new Date(now.getTime() - 56 * DAY_MS), to: now };
  const { releases } = await readReleases(store, pipelines, window);
  return new Map(
    pipelines.map((pipeline) => {
      const series = doraSeries(releases, window, { pipeline });
      const lines = CHARTED.map((chart) =>
        sparkline(
          chart.title,
          series.map((point) => point[chart.field]),
        ),
      );
      return [pipeline, html`<span class="trends">${lines}</span>`] as const;
    }),
  );
}

const SPARK = { width: 60, height: 16 } as const;

function sparkline(title: string, values: readonly (string | number | null)[]): Html {
  const numbers = values.map((value) => (typeof value === 'number' ? value : null));
  const known = numbers.filter((value): value is number => value !== null);
  const top = Math.max(...known, 0) || 1;
  const step = SPARK.width / Math.max(numbers.length - 1, 1);
  const points = numbers
    .map((value, index) =>
      value === null
        ? undefined
        : `${(index * step).toFixed(1)},${(SPARK.height - 1 - (value / top) * (SPARK.height - 2)).toFixed(1)}`,
    )
    .filter((point) => point !== undefined)
    .join(' ');
  return html`<svg class="sparkline" width="${SPARK.width}" height="${SPARK.height}" role="img" aria-label="${title}">
    <title>${title}${known.length ? '' : ': no data'}</title>
    <polyline points="${points}" fill="none" stroke="currentColor" stroke-width="1.5" />
  </svg>`;
}
