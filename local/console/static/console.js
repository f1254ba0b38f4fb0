/* global document, EventSource, fetch, DOMParser, location */
// stepline console: live updates (server-sent events) and stage logs. Served as a file: the page's
// Content-Security-Policy admits no inline script. Every text inserted is set as text, never as markup.
'use strict';

/** Which of a run page's fragments a run event changes; the summary, graph and events change with each. */
const FRAGMENTS_BY_KIND = {
  StageChanged: ['stages'],
  GateChanged: ['gate'],
  ApprovalRequested: ['gate'],
  ApprovalDecided: ['gate'],
  DeploymentChanged: ['deployment'],
  RunStarted: ['stages', 'gate', 'deployment'],
  RunEnded: ['stages', 'gate', 'deployment'],
};
const ALWAYS = ['summary', 'graph', 'history'];

function setStatus(text) {
  const status = document.getElementById('live-status');
  if (status) status.textContent = text;
}

/** Follows a stage's log in its <details data-log> while it is open. */
function followLogs(root) {
  for (const details of root.querySelectorAll('details[data-log]')) {
    const pre = details.querySelector('pre.log-lines');
    let source;
    const start = () => {
      if (source || !details.open) return;
      pre.textContent = '';
      source = new EventSource(details.dataset.log);
      source.addEventListener('log', (event) => {
        pre.textContent += event.data + '\n';
        pre.scrollTop = pre.scrollHeight;
      });
      source.addEventListener('end', () => source.close());
    };
    details.addEventListener('toggle', start);
    start();
  }
}

async function refetchFragment(runId, name) {
  const section = document.getElementById('fragment-' + name);
  if (!section) return;
  const response = await fetch('/console/runs/' + encodeURIComponent(runId) + '/' + name, {
    credentials: 'same-origin',
  });
  if (!response.ok) return;
  // Keep what the reader opened (a stage's log, a state's input and output) open across the update.
  const open = new Set([...section.querySelectorAll('details[open]')].map(keyOf));
  const parsed = new DOMParser().parseFromString(await response.text(), 'text/html');
  section.replaceChildren(...parsed.body.childNodes);
  for (const details of section.querySelectorAll('details')) if (open.has(keyOf(details))) details.open = true;
  followLogs(section);
  document.body.dataset.updated = String(Number(document.body.dataset.updated || 0) + 1);
}

function keyOf(details) {
  return details.dataset.log || (details.closest('[id]') || {}).id || '';
}

async function refetchMain() {
  const response = await fetch(location.href, { credentials: 'same-origin' });
  if (!response.ok) return;
  const parsed = new DOMParser().parseFromString(await response.text(), 'text/html');
  const main = parsed.querySelector('main');
  if (main) document.querySelector('main').replaceChildren(...main.childNodes);
  document.body.dataset.updated = String(Number(document.body.dataset.updated || 0) + 1);
}

function live() {
  if (document.body.dataset.live !== 'on') return;
  const runId = document.body.dataset.run;
  const events = new EventSource('/console/events');
  events.addEventListener('open', () => setStatus('live'));
  events.addEventListener('error', () => setStatus('reconnecting…'));
  let queue = Promise.resolve();
  events.addEventListener('run', (message) => {
    const event = JSON.parse(message.data);
    if (runId) {
      if (event.runId !== runId) return;
      const names = [...ALWAYS, ...(FRAGMENTS_BY_KIND[event.kind] || [])];
      queue = queue.then(() => Promise.all(names.map((name) => refetchFragment(runId, name)))).catch(() => undefined);
    } else {
      queue = queue.then(refetchMain).catch(() => undefined);
    }
  });
}

document.addEventListener('DOMContentLoaded', () => {
  followLogs(document);
  live();
});
