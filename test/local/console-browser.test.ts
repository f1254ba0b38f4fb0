/**
 * The web console in a real headless Chromium: a finished run's graph coloured by what its states did, a live run's
 * page following it to its end without a reload (server-sent events), and an approval given from the run page
 * resuming the run (as the git identity, through the CLI's decision route). The run page of the approved run is kept
 * as docs/images/console-run.png. A failed run is redriven from its page once its cause is fixed, and the metrics page
 * draws a chart per DORA metric from the store's releases.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { DeploymentRecord } from '../../core/records';
import { queuedRun } from '../support/records';
import { gateIn } from '../support/approvals';
import { useBrowser } from '../support/browser';
import { buildspecs, passingSeed, startFixture, type Fixture } from '../support/pipeline-fixture';

const SCREENSHOT = join(__dirname, '..', '..', 'docs', 'images', 'console-run.png');

/** The fill a state's box is drawn with (console.css): what a reader sees of its status. */
const FILLS = {
  succeeded: 'rgb(218, 251, 225)',
  failed: 'rgb(255, 235, 233)',
  caught: 'rgb(255, 248, 197)',
  notReached: 'rgb(246, 248, 250)',
};

async function fillOf(page: Page, state: string): Promise<string> {
  const fills = await page.evaluate(
    `[...document.querySelectorAll('svg.state-graph a[data-state]')].map((a) => [a.dataset.state, getComputedStyle(a.querySelector('rect')).fill])`,
  );
  return Object.fromEntries(fills as [string, string][])[state]!;
}

describe('the web console in a browser', () => {
  const { page } = useBrowser();
  let fixture: Fixture;
  afterEach(() => fixture?.close());

  /** Opens the console's address (its token becomes the page's cookie), then the run's page. */
  async function openRun(runId: string): Promise<void> {
    const entered = await page().goto(fixture.runtime.consoleUrl);
    expect(entered?.status()).toBe(200);
    expect(page().url()).not.toContain('token=');
    await page().goto(`${new URL(fixture.runtime.consoleUrl).origin}/console/runs/${runId}`);
  }

  it("colours a failed run's graph: the failed state red, the states it passed green, the rest grey", async () => {
    fixture = await startFixture({ retryIntervalOverrides: { '*': 0 } });
    const commit = await fixture.push({ ...passingSeed, 'build.yml': buildspecs.ok(['echo broken', 'exit 3']) });
    const [started] = await fixture.runtime.runsStartedFor(commit);
    expect((await fixture.runtime.waitForRun(started!.runId)).status).toBe('FAILED');

    await openRun(started!.runId);
    expect(await fillOf(page(), 'Run failed')).toBe(FILLS.failed);
    expect(await fillOf(page(), 'Build')).toBe(FILLS.caught);
    for (const passed of ['Record run started', 'Record build started', 'Record build failure', 'Record run failed'])
      expect(await fillOf(page(), passed)).toBe(FILLS.succeeded);
    for (const after of ['Record build result', 'Run test stages', 'Assess release risk', 'Record run succeeded'])
      expect(await fillOf(page(), after)).toBe(FILLS.notReached);
    expect(await page().textContent('#fragment-stages')).toContain('FAILED');
  });

  it('follows a running run to its end without a reload', async () => {
    fixture = await startFixture({ retryIntervalOverrides: { '*': 0 } });
    const slow = { ...passingSeed, 'build.yml': buildspecs.ok(['echo compiling', 'sleep 4', 'echo built']) };
    const [started] = await fixture.runtime.runsStartedFor(await fixture.push(slow));
    const runId = started!.runId;

    await openRun(runId);
    await page().evaluate('window.notReloaded = true');
    expect(await page().getAttribute('#fragment-summary .badge', 'class')).toMatch(/status-(running|queued)/);
    // Its stage's log, live: the build's own lines arrive while it runs.
    await page().evaluate("document.querySelector('#stage-build details.log').open = true");
    await page().locator('#stage-build pre.log-lines', { hasText: 'compiling' }).waitFor({ timeout: 30_000 });

    await page().waitForSelector('svg.state-graph a[data-state="Record run succeeded"][data-status="succeeded"]', {
      timeout: 60_000,
    });
    await page().waitForSelector('#fragment-summary .badge.status-succeeded', { timeout: 30_000 });
    expect(await page().evaluate('window.notReloaded')).toBe(true);
    expect(await page().textContent('#live-status')).toBe('live');
    expect((await fixture.runtime.waitForRun(runId)).status).toBe('SUCCEEDED');
  });

  it('approves from the run page as the git identity, and the run goes on to its end', async () => {
    const approval = {
      approvers: [
        { id: 'alice', name: 'Alice', emails: ['alice@example.com'] },
        { id: 'bob', name: 'Bob', emails: ['bob@example.com'] },
      ],
    };
    fixture = await startFixture({ retryIntervalOverrides: { '*': 0 } }, { approval });
    const [started] = await fixture.runtime.runsStartedFor(
      await fixture.push(passingSeed, 'feat: a change to release'),
    );
    const runId = started!.runId;
    await gateIn(fixture.runtime, runId, 'WAITING');

    // The console acts as `git config user.email`, read as the CLI reads it (git's own environment variables here).
    const saved = { ...process.env };
    Object.assign(process.env, {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'user.email',
      GIT_CONFIG_VALUE_0: 'alice@example.com',
    });
    try {
      await openRun(runId);
      expect(await page().textContent('#fragment-gate')).toContain('alice, bob');
      await Promise.all([page().waitForURL(/answer=/), page().click('#fragment-gate button[value="approve"]')]);
    } finally {
      for (const key of ['GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0']) delete process.env[key];
      Object.assign(process.env, saved);
    }
    expect(await page().textContent('.answer')).toContain('approved by alice');
    expect((await fixture.runtime.waitForRun(runId)).status).toBe('SUCCEEDED');
    expect(await fixture.runtime.store.listDecisions(runId)).toEqual([
      expect.objectContaining({ approverId: 'alice', decision: 'approve', via: 'cli' }),
    ]);

    // The page followed the run to its end; kept as the console's picture.
    await page().waitForSelector('svg.state-graph a[data-state="Record run succeeded"][data-status="succeeded"]', {
      timeout: 60_000,
    });
    expect(await page().textContent('#fragment-gate')).toContain('execution-resumed');
    // The summary, the gate's answer and the graph: the top of the page.
    await page().setViewportSize({ width: 1280, height: 1500 });
    await page().screenshot({ path: SCREENSHOT });
  });

  /** Acts on the run page as `git config user.email` = `email` (git's own environment variables). */
  async function asGitUser<T>(email: string, act: () => Promise<T>): Promise<T> {
    const names = ['GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0'];
    Object.assign(process.env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'user.email', GIT_CONFIG_VALUE_0: email });
    try {
      return await act();
    } finally {
      for (const name of names) delete process.env[name];
    }
  }

  it('redrives a failed run from its page once the cause is fixed: it resumes at the failed stage and succeeds', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'stepline-console-outside-'));
    try {
      fixture = await startFixture({ retryIntervalOverrides: { '*': 0 } });
      const ready = join(outside, 'ready');
      const commit = await fixture.push({ ...passingSeed, 'unit.yml': buildspecs.ok([`test -f ${ready}`]) });
      const [started] = await fixture.runtime.runsStartedFor(commit);
      const runId = started!.runId;
      expect((await fixture.runtime.waitForRun(runId)).status).toBe('FAILED');

      await writeFile(ready, '');
      await openRun(runId);
      await asGitUser('ana@example.com', () =>
        Promise.all([page().waitForURL(/answer=/), page().click('#fragment-summary button[value="redrive"]')]),
      );
      // The page follows the redriven run to its end, live.
      await page().waitForSelector('#fragment-summary .badge.status-succeeded', { timeout: 90_000 });
      const run = (await fixture.runtime.store.getRun(runId))!;
      expect(run).toMatchObject({ status: 'SUCCEEDED', redrives: [{ fromState: 'Run test stages' }] });
      expect(run.redrives![0]!.by).toContain('ana@example.com');
      expect(await page().textContent('#fragment-summary')).toContain('resumed at Run test stages');
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it("draws a chart per DORA metric from the store's releases, and says each metric as the CLI does", async () => {
    fixture = await startFixture({ retryIntervalOverrides: { '*': 0 } });
    const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
    // Two releases in the window: one took all traffic, the next rolled back after its first step.
    const deployment = (
      runId: string,
      status: 'SUCCEEDED' | 'ROLLED_BACK',
      endedHoursAgo: number,
    ): DeploymentRecord => ({
      runId,
      pipeline: 'demo',
      function: 'demo-fn',
      alias: 'live',
      fromVersion: '1',
      toVersion: '2',
      steps: [
        { weight: 0.1, bakeSeconds: 60 },
        { weight: 1, bakeSeconds: 0 },
      ],
      step: status === 'SUCCEEDED' ? 1 : 0,
      status,
      alarms: [],
      alarmsSeen: [],
      interventions: [],
      startedAt: hoursAgo(endedHoursAgo + 1),
      endedAt: hoursAgo(endedHoursAgo),
    });
    for (const [runId, status, ended] of [
      ['demo-released', 'SUCCEEDED', 48],
      ['demo-rolled-back', 'ROLLED_BACK', 24],
    ] as const) {
      await fixture.runtime.store.createRun(
        queuedRun({ runId, pipeline: 'demo', executionName: runId, createdAt: hoursAgo(ended + 2) }),
      );
      await fixture.runtime.store.createDeployment(deployment(runId, status, ended));
    }

    const entered = await page().goto(fixture.runtime.consoleUrl);
    expect(entered?.status()).toBe(200);
    await page().goto(`${new URL(fixture.runtime.consoleUrl).origin}/console/metrics?since=30d`);
    await page().waitForSelector('body[data-charts="5"]');
    const drawn = await page().evaluate(
      `[...document.querySelectorAll('canvas.metric-chart')].map((canvas) => Boolean(Chart.getChart(canvas)))`,
    );
    expect(drawn).toEqual([true, true, true, true, true]);
    expect(await page().textContent('table[data-scope="all pipelines"] tr[data-metric="change fail rate"]')).toContain(
      '50%: 1 of 2 deployments that took production traffic (1 rolled back, 0 followed by a hotfix)',
    );
    expect(await page().textContent('table[data-scope="demo"] tr[data-metric="deployment frequency"]')).toContain(
      '(1 deployments)',
    );
    // The pipelines page: a small line per metric beside the pipeline.
    await page().goto(`${new URL(fixture.runtime.consoleUrl).origin}/console/`);
    expect(await page().locator('tr[data-pipeline="demo"] svg.sparkline').count()).toBe(5);
  });
});
