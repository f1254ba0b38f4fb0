/**
 * `stepline metrics [--pipeline P] [--since 30d] [--json]`: the five DORA metrics (core/metrics/dora.ts) of the
 * pipelines' releases over a window ending now, per pipeline and overall, read from the run store wherever it is
 * (cli/run-store-access.ts: a running local mode, a stopped one's files, or with --aws the deployed table). Plain
 * text: a table per scope with each metric, its value and its band; --json: the whole report. docs/metrics.md says
 * what each metric counts.
 */
import { doraMetrics, type DoraMetrics, type DoraReport } from '../core/metrics/dora';
import { formatNumber, metricSummaries } from '../core/metrics/summary';
import { forTerminal } from '../core/text';
import { openRunStore } from './run-store-access';
import { EXIT } from './args';
import { readReleases } from '../store/releases';

export interface MetricsCommand {
  readonly pipeline?: string;
  /** How far back the window reaches: `<N>h`, `<N>d` or `<N>w`. */
  readonly since: string;
  readonly json: boolean;
  readonly aws: boolean;
  readonly stateDir: string;
  readonly configFile: string;
}

const UNIT_MS = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/** The window's length from `--since` (`30d`, `12h`, `2w`), or undefined when it is not one. */
export function sinceMs(since: string): number | undefined {
  const match = /^([1-9]\d{0,4})([hdw])$/.exec(since);
  return match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : undefined;
}

export async function runMetricsCommand(options: MetricsCommand, print = console.log): Promise<number> {
  const length = sinceMs(options.since);
  if (length === undefined) {
    console.error(
      `stepline metrics: --since must be a whole number of hours, days or weeks (e.g. 12h, 30d, 8w), got ${options.since}`,
    );
    return EXIT.usage;
  }
  const access = await openRunStore({ aws: options.aws, stateDir: options.stateDir, configFile: options.configFile });
  try {
    const known = await access.pipelines();
    if (options.pipeline !== undefined && !known.includes(options.pipeline)) {
      console.error(
        forTerminal.line(
          `stepline metrics: no pipeline ${options.pipeline} in ${access.source}; its pipelines: ${known.join(', ') || 'none'}`,
        ),
      );
      return EXIT.failed;
    }
    const pipelines = options.pipeline === undefined ? known : [options.pipeline];
    const to = new Date();
    const window = { from: new Date(to.getTime() - length), to };
    const { releases } = await readReleases(access.store, pipelines, window);
    const report = doraMetrics(releases, window, pipelines);
    if (options.json) print(JSON.stringify({ source: access.source, ...report }, null, 2));
    else reportLines(report, access.source, options.pipeline).forEach((line) => print(forTerminal.line(line)));
    return EXIT.ok;
  } finally {
    await access.close();
  }
}

/** The report as text: the window, then a table per scope (all pipelines, then each one). */
export function reportLines(report: DoraReport, source: string, pipeline?: string): string[] {
  const lines = [
    `DORA metrics from ${report.window.from} to ${report.window.to} (${formatNumber(report.window.days)} days), runs in ${source}`,
    `bands: ${report.bandSource}; what each metric counts: docs/metrics.md`,
  ];
  const scopes: [string, DoraMetrics][] =
    pipeline === undefined
      ? [
          [`all pipelines (${Object.keys(report.pipelines).join(', ') || 'none'})`, report.overall],
          ...Object.entries(report.pipelines),
        ]
      : [[pipeline, report.overall]];
  for (const [name, metrics] of scopes) lines.push('', name, ...table(metrics));
  return lines;
}

function table(metrics: DoraMetrics): string[] {
  const rows = metricSummaries(metrics);
  const widths = [Math.max(...rows.map((row) => row.metric.length)), Math.max(...rows.map((row) => row.value.length))];
  return rows.map(({ metric, value, band }) => `  ${metric.padEnd(widths[0]!)}  ${value.padEnd(widths[1]!)}  ${band}`);
}
