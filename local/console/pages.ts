/**
 * The console's list pages: the pipelines with their last run, the runs (filtered by pipeline, status and branch,
 * searched by commit prefix), the gates waiting for a person. Read through the run store's own indexes: a pipeline's
 * runs newest first (byPipeline), the active runs (active).
 */
import { OPEN_APPROVAL_STATUSES, RUN_STATUSES, type ApprovalRecord, type RunRecord } from '../../core/records';
import { listRunsNewestFirst, type RunFilter as RunListingFilter } from '../../store/run-listing';
import type { RunStore } from '../../store/run-store';
import { badge, duration, html, time, type Html } from './html';

const runLink = (runId: string) => html`<a href="/console/runs/${encodeURIComponent(runId)}">${runId}</a>`;

/** Each pipeline's last run, and beside it a small line per DORA metric over the last eight weeks (`trends`). */
export async function pipelinesBody(
  store: RunStore,
  pipelines: readonly string[],
  trends: ReadonlyMap<string, Html>,
): Promise<Html> {
  const rows = await Promise.all(
    pipelines.map(async (name) => {
      const last = (await store.listRuns(name, { limit: 1 })).items[0];
      return html`<tr data-pipeline="${name}">
        <td><a href="/console/runs?pipeline=${encodeURIComponent(name)}">${name}</a></td>
        <td>${last ? runLink(last.runId) : 'no run yet'}</td>
        <td>${last ? badge(last.status) : ''}</td>
        <td>${last ? html`<code>${last.commit.id.slice(0, 12)}</code> ${firstLineOf(last.commit.message)}` : ''}</td>
        <td>${last ? time(last.createdAt) : ''}</td>
        <td>${trends.get(name)}</td>
      </tr>`;
    }),
  );
  return html`<h1>pipelines</h1>
    <table class="pipelines">
      <thead>
        <tr>
          <th>pipeline</th>
          <th>last run</th>
          <th>status</th>
          <th>commit</th>
          <th>created</th>
          <th
            title="change lead time, deployment frequency, change fail rate, recovery time, rework rate; weekly, last 8 weeks"
          >
            trends
          </th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>`;
}

/** The runs page's filter: a pipeline, and what store/run-listing.ts filters by. */
export interface RunFilter extends RunListingFilter {
  readonly pipeline?: string;
}

/** How many runs the runs page reads at most (it answers at once), and shows at most. */
const RUNS_SCANNED = 2000;
const RUNS_SHOWN = 100;

/** The runs that match, newest first, across the pipelines asked for. */
export function matchingRuns(store: RunStore, pipelines: readonly string[], filter: RunFilter): Promise<RunRecord[]> {
  const names = filter.pipeline ? pipelines.filter((p) => p === filter.pipeline) : pipelines;
  return listRunsNewestFirst(store, names, filter, { limit: RUNS_SHOWN, scanLimit: RUNS_SCANNED });
}

export function runsBody(runs: readonly RunRecord[], pipelines: readonly string[], filter: RunFilter): Html {
  const option = (value: string, chosen: string | undefined) =>
    html`<option value="${value}" ${value === chosen ? html` selected` : ''}>${value || 'any'}</option>`;
  return html`<h1>runs</h1>
    <form method="get" action="/console/runs" class="filters">
      <label
        >pipeline
        <select name="pipeline">
          ${['', ...pipelines].map((p) => option(p, filter.pipeline ?? ''))}
        </select></label
      >
      <label
        >status
        <select name="status">
          ${['', ...RUN_STATUSES].map((s) => option(s, filter.status ?? ''))}
        </select></label
      >
      <label>branch <input name="branch" value="${filter.branch ?? ''}" /></label>
      <label>commit <input name="commit" value="${filter.commit ?? ''}" placeholder="prefix" /></label>
      <button type="submit">filter</button>
    </form>
    ${runs.length === 0 ? html`<p>no run matches</p>` : ''}
    <table class="runs">
      <thead>
        <tr>
          <th>run</th>
          <th>pipeline</th>
          <th>status</th>
          <th>branch</th>
          <th>commit</th>
          <th>author</th>
          <th>created</th>
          <th>duration</th>
        </tr>
      </thead>
      <tbody>
        ${runs.map(
          (run) =>
            html`<tr data-run="${run.runId}">
              <td>${runLink(run.runId)}</td>
              <td>${run.pipeline}</td>
              <td>${badge(run.status)}</td>
              <td class="branch">${run.commit.branch}</td>
              <td>
                <code>${run.commit.id.slice(0, 12)}</code>
                <span class="commit-message">${firstLineOf(run.commit.message)}</span>
              </td>
              <td class="author">${run.commit.author?.name ?? ''}</td>
              <td>${time(run.createdAt)}</td>
              <td>${duration(run.durationMs)}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

/** The gates waiting for a person (through the active runs: a waiting run is RUNNING), oldest first. */
export async function openGates(store: RunStore): Promise<ApprovalRecord[]> {
  const open: ApprovalRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listActiveRuns({ limit: 50, cursor });
    for (const run of page.items) {
      const approval = await store.getApproval(run.runId);
      if (approval && OPEN_APPROVAL_STATUSES.includes(approval.status)) open.push(approval);
    }
    cursor = page.cursor;
  } while (cursor);
  return open.sort((a, b) => a.openedAt.localeCompare(b.openedAt));
}

export function approvalsBody(gates: readonly ApprovalRecord[]): Html {
  return html`<h1>approvals</h1>
    ${gates.length === 0 ? html`<p>no release waits for a decision</p>` : ''}
    <table class="approvals">
      <thead>
        <tr>
          <th>run</th>
          <th>pipeline</th>
          <th>status</th>
          <th>risk</th>
          <th>needs</th>
          <th>asked</th>
          <th>deadline</th>
        </tr>
      </thead>
      <tbody>
        ${gates.map(
          (g) =>
            html`<tr data-run="${g.runId}">
              <td>${runLink(g.runId)}</td>
              <td>${g.pipeline}</td>
              <td>${badge(g.status)}</td>
              <td>${g.risk.class}</td>
              <td>${g.required.approvals}${g.required.group ? ` from ${g.required.group}` : ''}</td>
              <td>${g.asked.join(', ') || 'nobody eligible'}</td>
              <td>${time(g.deadline)}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

function firstLineOf(message: string | undefined): string {
  return (message ?? '').split('\n')[0]!.slice(0, 120);
}

/** What a request without the console's cookie or token is told. */
export function unauthorizedPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>stepline console: open it from its address</title></head>
<body><h1>401: this console needs its address</h1>
<p>Open the console through the address local mode printed when it started with <code>npm start -- --serve</code>:
the line <code>console: http://127.0.0.1:&lt;port&gt;/console/?token=…</code>. The token changes at every start.</p></body></html>`;
}
