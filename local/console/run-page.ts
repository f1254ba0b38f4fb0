/**
 * One run's page, in fragments a live page refetches on their own (`/console/runs/<run>/<fragment>`): the summary
 * with its controls, the state machine (graph and table, from the ASL and the execution's history), the stages with
 * their tests and logs, the release gate, the deployment's timeline, the execution's events. Every text from the push
 * (message, branch, author, test names and messages, inputs and outputs, reasons) goes through `html`, escaped.
 */
import type { ExecutionEvent } from '../../core/runs/execution-history';
import { stateTimeline, type ExecutionTimeline, type StateTimeline } from '../../core/runs/state-timeline';
import type { RunView } from '../../store/run-view';
import { deploymentChart } from './deployment-chart';
import { slug, stateGraph } from './graph';
import { badge, duration, html, time, type Html } from './html';

/** What a run page shows: the run as recorded, its execution's history, the definition it ran. */
export interface RunPageData {
  readonly view: RunView;
  readonly history: readonly ExecutionEvent[];
  readonly definition: unknown;
  /** The answer to the last action taken from this page, shown once. */
  readonly answer?: { readonly status: number; readonly message: string };
}

export const RUN_FRAGMENTS = ['summary', 'graph', 'stages', 'gate', 'deployment', 'history'] as const;
export type RunFragment = (typeof RUN_FRAGMENTS)[number];

export function runFragment(name: RunFragment, data: RunPageData, timeline = timelineOf(data)): Html {
  switch (name) {
    case 'summary':
      return summary(data);
    case 'graph':
      return graphAndTable(data, timeline);
    case 'stages':
      return stages(data);
    case 'gate':
      return gate(data);
    case 'deployment':
      return deployment(data);
    case 'history':
      return history(data);
  }
}

/** The whole page's body: every fragment in its own section, named for the live updates. */
export function runBody(data: RunPageData): Html {
  const timeline = timelineOf(data);
  return html`${RUN_FRAGMENTS.map(
    (name) =>
      html`<section class="fragment" id="fragment-${name}" data-fragment="${name}">
        ${runFragment(name, data, timeline)}
      </section>`,
  )}`;
}

function timelineOf(data: RunPageData): ExecutionTimeline {
  return stateTimeline(data.definition, data.history);
}

const runPath = (runId: string) => `/console/runs/${encodeURIComponent(runId)}`;

function summary({ view: { run }, answer }: RunPageData): Html {
  const commit = run.commit;
  const active = run.status === 'RUNNING' || run.status === 'QUEUED';
  const action = (name: string, label: string, withReason: boolean) =>
    html`<form method="post" action="${runPath(run.runId)}/${name}" class="action">
      ${withReason ? html`<input name="reason" placeholder="why" aria-label="reason for ${label}" required />` : ''}
      <button type="submit" name="action" value="${name}">${label}</button>
    </form>`;
  return html`<h1>run ${run.runId} ${badge(run.status)}</h1>
    ${answer ? html`<p class="answer answer-${answer.status < 300 ? 'ok' : 'refused'}" role="status">${answer.status < 300 ? '' : `refused (${answer.status}): `}${answer.message}</p>` : ''}
    <dl class="summary">
      <dt>pipeline</dt>
      <dd><a href="/console/runs?pipeline=${encodeURIComponent(run.pipeline)}">${run.pipeline}</a></dd>
      <dt>commit</dt>
      <dd>
        <code>${commit.id.slice(0, 12)}</code> on
        <span class="branch">${commit.branch}</span
        >${commit.author ? html` by <span class="author">${commit.author.name}</span>` : ''}
      </dd>
      <dt>message</dt>
      <dd class="commit-message">${commit.message ?? ''}</dd>
      <dt>trigger</dt>
      <dd>
        ${run.trigger.kind}${run.trigger.pushedBy ? ` by ${run.trigger.pushedBy}` : ''}${run.trigger.rerunOf ? html` · re-run of <a href="${runPath(run.trigger.rerunOf)}">${run.trigger.rerunOf}</a>` : ''}
      </dd>
      <dt>created</dt>
      <dd>${time(run.createdAt)}</dd>
      ${
        run.startedAt
          ? html`<dt>started</dt>
              <dd>${time(run.startedAt)}</dd>`
          : ''
      }
      ${
        run.endedAt
          ? html`<dt>ended</dt>
              <dd>${time(run.endedAt)} (${duration(run.durationMs)})</dd>`
          : ''
      }
      ${
        run.failure
          ? html`<dt>failure</dt>
              <dd class="failure">${run.failure.error}: ${run.failure.cause}</dd>`
          : ''
      }
      ${
        run.cancelled
          ? html`<dt>cancelled</dt>
              <dd>by ${run.cancelled.by} at ${time(run.cancelled.at)}: ${run.cancelled.reason}</dd>`
          : ''
      }
      ${
        run.skipReason
          ? html`<dt>skipped</dt>
              <dd>${run.skipReason}</dd>`
          : ''
      }
      ${
        run.executionArn
          ? html`<dt>execution</dt>
              <dd><code>${run.executionArn}</code></dd>`
          : ''
      }
      ${
        (run.redrives ?? []).length
          ? html`<dt>redrives</dt>
              <dd>
                ${(run.redrives ?? []).map((r) => html`<div>${time(r.at)} by ${r.by}, resumed at ${r.fromState}</div>`)}
              </dd>`
          : ''
      }
    </dl>
    <div class="actions">
      ${run.status === 'FAILED' ? action('redrive', 'Redrive', false) : ''}
      ${!active ? action('rerun', 'Re-run', false) : ''} ${active ? action('cancel', 'Cancel', true) : ''}
    </div>`;
}

function graphAndTable(data: RunPageData, timeline: ExecutionTimeline): Html {
  const rows = timeline.states.map((state) => stateRow(state));
  return html`<h2>state machine <span class="execution-status">${badge(timeline.status)}</span></h2>
    <div class="legend">
      ${['succeeded', 'caught', 'failed', 'running', 'not-reached'].map((s) => html`<span class="legend-item state-${s}"><span class="swatch"></span>${s}</span>`)}
    </div>
    <div class="graph">${stateGraph(data.definition, timeline.states)}</div>
    <h3>table</h3>
    <table class="states">
      <thead>
        <tr>
          <th>state</th>
          <th>type</th>
          <th>status</th>
          <th>entered</th>
          <th>duration</th>
          <th>input / output</th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
    ${
      timeline.nested.length
        ? html`<h3>inside Maps</h3>
            <table class="states">
              <thead>
                <tr>
                  <th>state</th>
                  <th>type</th>
                  <th>status</th>
                  <th>entries</th>
                </tr>
              </thead>
              <tbody>
                ${timeline.nested.map(
                  (s) =>
                    html`<tr>
                      <td>${s.name}</td>
                      <td>${s.type}</td>
                      <td>${badge(s.status)}</td>
                      <td>${s.entries}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
        : ''
    }`;
}

function stateRow(state: StateTimeline): Html {
  const io =
    state.input !== undefined || state.output !== undefined
      ? html`<details>
          <summary>show</summary>
          ${
            state.input !== undefined
              ? html`<h4>input</h4>
                  <pre class="json">${pretty(state.input)}</pre>`
              : ''
          }
          ${
            state.output !== undefined
              ? html`<h4>output</h4>
                  <pre class="json">${pretty(state.output)}</pre>`
              : ''
          }
          ${
            state.error
              ? html`<h4>error</h4>
                  <pre>${state.error}${state.cause ? `: ${state.cause}` : ''}</pre>`
              : ''
          }
        </details>`
      : state.error
        ? html`<pre>${state.error}${state.cause ? `: ${state.cause}` : ''}</pre>`
        : '';
  const iterations = state.iterations
    ? ` (iterations: ${state.iterations.succeeded}/${state.iterations.started} succeeded${state.iterations.failed ? `, ${state.iterations.failed} failed` : ''})`
    : '';
  return html`<tr id="state-${slug(state.name)}" data-state="${state.name}" data-status="${state.status}">
    <td>${state.name}</td>
    <td>${state.type}</td>
    <td>${badge(state.status)}${iterations}</td>
    <td>${time(state.enteredAt)}</td>
    <td>${duration(state.durationMs)}</td>
    <td>${io}</td>
  </tr>`;
}

/** JSON indented for reading; text that is not JSON as it is. */
function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function stages({ view }: RunPageData): Html {
  const { run } = view;
  if (view.stages.length === 0)
    return html`<h2>stages</h2>
      <p>no stage has started</p>`;
  return html`<h2>stages</h2>
    ${view.stages.map((stage) => {
      const tests = stage.tests;
      const failures = tests?.failures ?? stage.failure?.failedTests ?? [];
      return html`<article class="stage" id="stage-${slug(stage.name)}">
        <h3>${stage.name} ${badge(stage.status)} <span class="duration">${duration(stage.durationMs)}</span></h3>
        ${tests ? html`<p class="tests">tests: ${tests.passed} passed, ${tests.failed} failed, ${tests.skipped} skipped of ${tests.total}</p>` : ''}
        ${
          failures.length
            ? html`<table class="failing-tests">
                <thead>
                  <tr>
                    <th>failing test</th>
                    <th>suite</th>
                    <th>message</th>
                  </tr>
                </thead>
                <tbody>
                  ${failures.map(
                    (t) =>
                      html`<tr>
                        <td>${t.name}</td>
                        <td>${t.suite ?? ''}</td>
                        <td><pre>${t.message ?? ''}</pre></td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
            : ''
        }
        ${stage.failure ? html`<p class="failure">${stage.failure.error}: ${stage.failure.cause}</p>` : ''}
        <details
          class="log"
          data-log="${runPath(run.runId)}/logs/${encodeURIComponent(stage.name)}"
          ${stage.status === 'IN_PROGRESS' ? html` open` : ''}
        >
          <summary>log${stage.status === 'IN_PROGRESS' ? ' (live)' : ''}</summary>
          <pre class="log-lines"></pre>
        </details>
      </article>`;
    })}`;
}

function gate({ view }: RunPageData): Html {
  const approval = view.approval;
  if (!approval)
    return html`<h2>release gate</h2>
      <p>this run has no release gate${view.run.status === 'RUNNING' ? ' (yet)' : ''}</p>`;
  const open = approval.status === 'WAITING' || approval.status === 'HELD';
  const path = runPath(view.run.runId);
  return html`<h2>release gate ${badge(approval.status)}</h2>
    <dl class="summary">
      <dt>risk</dt>
      <dd>${approval.risk.class}: ${approval.risk.reasons.join('; ')}</dd>
      <dt>required</dt>
      <dd>
        ${approval.required.approvals}
        approval${approval.required.approvals === 1 ? '' : 's'}${approval.required.group ? ` from ${approval.required.group}` : ''}
      </dd>
      <dt>asked</dt>
      <dd>${approval.asked.join(', ') || 'nobody'}</dd>
      <dt>deadline</dt>
      <dd>${time(approval.deadline)}</dd>
      ${
        approval.outcome
          ? html`<dt>outcome</dt>
              <dd>${approval.outcome}</dd>`
          : ''
      }
    </dl>
    ${
      open
        ? html`<div class="actions gate-actions">
            <form method="post" action="${path}/approve" class="action">
              <button type="submit" name="action" value="approve">Approve</button>
            </form>
            <form method="post" action="${path}/reject" class="action">
              <input
                name="reason"
                placeholder="why reject"
                aria-label="reason for rejecting"
                required
                minlength="3"
              /><button type="submit" name="action" value="reject">Reject</button>
            </form>
          </div>`
        : ''
    }
    <h3>decisions</h3>
    ${
      view.decisions.length
        ? html`<ul class="decisions">
            ${view.decisions.map((d) => html`<li>${time(d.at)} ${d.approverId} ${d.decision} via ${d.via}${d.reason ? `: ${d.reason}` : ''}${d.demo ? ' (demo approver)' : ''}</li>`)}
          </ul>`
        : html`<p>none yet</p>`
    }
    <h3>audit trail</h3>
    <table class="audit">
      <thead>
        <tr>
          <th>at</th>
          <th>event</th>
          <th>who</th>
          <th>via</th>
          <th>detail</th>
        </tr>
      </thead>
      <tbody>
        ${view.audit.map(
          (a) =>
            html`<tr>
              <td>${time(a.at)}</td>
              <td>${a.event}</td>
              <td>${a.actor ?? ''}</td>
              <td>${a.via ?? ''}</td>
              <td>${a.detail}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

function deployment({ view }: RunPageData): Html {
  const d = view.deployment;
  if (!d)
    return html`<h2>deployment</h2>
      <p>this run has not deployed</p>`;
  type Row = { at: string; what: Html };
  const rows: Row[] = [
    { at: d.startedAt, what: html`started: ${d.function}:${d.alias} from version ${d.fromVersion}` },
    ...(d.stepsTaken ?? []).map((s) => ({
      at: s.at,
      what: html`<span class="weight">${Math.round(s.weight * 100)}%</span> of traffic on version ${d.toVersion ?? '?'}
        (step ${s.step})`,
    })),
    ...d.alarmsSeen.map((a) => ({
      at: a.at,
      what: html`alarm ${a.name} ${badge(a.state)}${a.reason ? `: ${a.reason}` : ''}`,
    })),
    ...d.interventions.map((i) => ({ at: i.at, what: html`${i.action} by ${i.by}: ${i.reason}` })),
    ...(d.endedAt ? [{ at: d.endedAt, what: html`ended ${d.status}${d.outcome ? `: ${d.outcome}` : ''}` }] : []),
  ].sort((a, b) => a.at.localeCompare(b.at));
  return html`<h2>deployment ${badge(d.status)}</h2>
    <p>
      ${d.function}:${d.alias}, version ${d.fromVersion} → ${d.toVersion ?? '(not published yet)'}; steps
      ${d.steps.map((s) => `${Math.round(s.weight * 100)}%`).join(' → ')}
    </p>
    ${deploymentChart(d)}
    <table class="deployment-timeline">
      <thead>
        <tr>
          <th>at</th>
          <th>what</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (r) =>
            html`<tr>
              <td>${time(r.at)}</td>
              <td>${r.what}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

function history({ history: events }: RunPageData): Html {
  if (events.length === 0)
    return html`<h2>events</h2>
      <p>no execution history</p>`;
  return html`<h2>events</h2>
    <details>
      <summary>${events.length} events</summary>
      <table class="history">
        <thead>
          <tr>
            <th>id</th>
            <th>at</th>
            <th>type</th>
            <th>state</th>
            <th>detail</th>
          </tr>
        </thead>
        <tbody>
          ${events.map((e) => {
            const state = e.stateEnteredEventDetails?.name ?? e.stateExitedEventDetails?.name ?? '';
            const failure =
              e.taskFailedEventDetails ?? e.executionFailedEventDetails ?? e.executionAbortedEventDetails ?? undefined;
            const iteration =
              e.mapIterationStartedEventDetails ??
              e.mapIterationSucceededEventDetails ??
              e.mapIterationFailedEventDetails;
            return html`<tr>
              <td>${e.id}</td>
              <td>${time(e.timestamp)}</td>
              <td>${e.type}</td>
              <td>${state || (iteration ? `${iteration.name ?? ''} #${iteration.index ?? ''}` : '')}</td>
              <td>${failure ? `${failure.error ?? ''}: ${failure.cause ?? ''}` : ''}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </details>`;
}
