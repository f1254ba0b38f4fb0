/**
 * `stepline runs` and `stepline run` over a seeded store (local mode stopped): filters across two pipelines, newest
 * first, paged past one page of the byPipeline index; a run with a release gate and a deployment shown whole; text
 * from a push printed inert wherever it is shown.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openRunStore } from '../../cli/run-store-access';
import { RUNS_PAGE_SIZE } from '../../store/run-listing';
import { parseConfig } from '../../core/config/stepline-config';
import type { RunRecord, RunStatus } from '../../core/records';
import { LocalRuntime } from '../../local/runtime';
import type { RunView } from '../../store/run-view';
import { ROOT, TSX_CLI, type CliResult } from '../support/cli';
import { actingCharacters, HOSTILE_LINE, HOSTILE_TEXT } from '../support/hostile-text';
import { queuedRun } from '../support/records';

async function stepline(args: readonly string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [TSX_CLI, 'cli/stepline.ts', ...args], {
      cwd: ROOT,
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as CliResult;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const STATUSES: RunStatus[] = ['SUCCEEDED', 'FAILED', 'RUNNING', 'CANCELLED'];

describe('stepline runs and run over a seeded store', () => {
  let dir: string;
  let stateDir: string;
  let configFile: string;
  /** Every seeded run, oldest first. */
  const seeded: RunRecord[] = [];
  const where = () => ['--state-dir', stateDir, '--config', configFile];
  const ids = (result: CliResult) => (JSON.parse(result.stdout) as RunRecord[]).map((run) => run.runId);
  const newestFirst = (runs: RunRecord[]) => [...runs].reverse().map((run) => run.runId);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-reads-seeded-'));
    stateDir = join(dir, 'state');
    configFile = join(dir, 'config.json');
    const pipeline = (name: string) => ({
      name,
      source: { type: 'codecommit', repository: name, branch: 'main' },
      build: { buildspec: 'build.yml' },
    });
    const input = { pipelines: [pipeline('demo'), pipeline('other')] };
    await writeFile(configFile, JSON.stringify(input));
    // A local mode that ran once, then stopped: its store's files are there to read.
    await (await LocalRuntime.start({ config: parseConfig(input), stateDir, persistStore: true })).close();

    // More of demo's runs than one page; every fourth run is other's; statuses and branches vary.
    const access = await openRunStore({ stateDir, configFile });
    try {
      for (let i = 0; i < RUNS_PAGE_SIZE + 20; i++) {
        const pipelineName = i % 4 === 3 ? 'other' : 'demo';
        const run = queuedRun({
          runId: `${pipelineName}-${String(i).padStart(3, '0')}`,
          pipeline: pipelineName,
          status: STATUSES[i % STATUSES.length],
          commit: { repository: pipelineName, branch: i % 3 === 0 ? 'feature' : 'main', id: `${i}`.padEnd(40, 'a') },
          createdAt: new Date(Date.UTC(2026, 11, 1, 9, 0, i)).toISOString(),
        });
        seeded.push(await access.store.createRun(run));
      }
      await seedGatedRun(access.store);
    } finally {
      await access.close();
    }
  }, 120_000);
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  test('newest first across both pipelines, 20 by default, and every run past a page with --limit', async () => {
    const all = seeded;
    const byDefault = await stepline(['runs', '--json', ...where()]);
    expect(byDefault.code).toBe(0);
    expect(ids(byDefault)).toEqual([GATED, ...newestFirst(all)].slice(0, 20));

    const everything = await stepline(['runs', '--limit', '1000', '--json', ...where()]);
    expect(ids(everything)).toEqual([GATED, ...newestFirst(all)]);
  }, 60_000);

  test("--pipeline pages through one pipeline's runs; --status and --branch filter while paging until the limit is filled", async () => {
    const demo = await stepline(['runs', '--pipeline', 'demo', '--limit', '1000', '--json', ...where()]);
    const demoRuns = seeded.filter((run) => run.pipeline === 'demo');
    expect(demoRuns.length).toBeGreaterThan(RUNS_PAGE_SIZE);
    expect(ids(demo)).toEqual([GATED, ...newestFirst(demoRuns)]);

    const failedOnFeature = await stepline([
      'runs',
      '--status',
      'FAILED',
      '--branch',
      'feature',
      '--limit',
      '3',
      ...where(),
      '--json',
    ]);
    const expected = seeded.filter((run) => run.status === 'FAILED' && run.commit.branch === 'feature');
    expect(expected.length).toBeGreaterThan(3);
    expect(ids(failedOnFeature)).toEqual(newestFirst(expected).slice(0, 3));

    const otherCancelled = await stepline([
      'runs',
      '--pipeline',
      'other',
      '--status',
      'CANCELLED',
      '--json',
      ...where(),
    ]);
    expect(ids(otherCancelled)).toEqual(
      newestFirst(seeded.filter((run) => run.pipeline === 'other' && run.status === 'CANCELLED')),
    );

    const none = await stepline(['runs', '--branch', 'nowhere', ...where()]);
    expect(none).toMatchObject({ code: 0, stdout: `no runs in local mode (stopped) for branch nowhere\n` });
  }, 90_000);

  test('run shows the gate (risk, decisions with channel and who, the audit trail) and the deployment (steps, traffic, alarms)', async () => {
    const json = await stepline(['run', GATED, '--json', ...where()]);
    const view = JSON.parse(json.stdout) as RunView;
    expect(view.approval).toMatchObject({ status: 'APPROVED', risk: { class: 'high' } });
    expect(view.decisions.map((d) => [d.approverId, d.decision, d.via])).toEqual([['alice', 'approve', 'cli']]);
    expect(view.audit.map((e) => e.event)).toEqual(['gate-opened', 'decision-recorded', 'approved']);
    expect(view.deployment).toMatchObject({ status: 'ROLLED_BACK' });

    const text = (await stepline(['run', GATED, ...where()])).stdout;
    expect(text).toContain('release gate  APPROVED');
    expect(text).toContain('  risk       high: touches infra/');
    expect(text).toContain('  requires   2 approval(s) from release-managers');
    expect(text).toMatch(/approve {2}alice via cli \(arn:aws:iam::111122223333:user\/alice\)/);
    expect(text).toMatch(/gate-opened via policy: /);
    expect(text).toContain('deployment  ROLLED_BACK  web:live from version 3 to 4');
    expect(text).toContain('  steps      10% for 300s, then 100%');
    expect(text).toMatch(/10% to the new version/);
    expect(text).toMatch(/stepline-web-errors ALARM: Threshold Crossed/);
    expect(text).toMatch(/abort by bob: /);
    expect(text).toContain(`re-run of demo-001`);
    expect(text).toContain(
      `console    https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:eu-west-1:111122223333:execution:stepline-demo:${GATED}`,
    );
    expect(text).toContain('cancelled  by carol');
  }, 60_000);

  test('text from a push — commit message, branch, author, test names, reasons, audit details — is printed inert', async () => {
    for (const args of [['run', GATED], ['runs']]) {
      const { code, stdout } = await stepline([...args, ...where()]);
      expect(code).toBe(0);
      expect(actingCharacters(stdout)).toEqual([]);
      expect(stdout).not.toMatch(/https?:\/\/evil|www\.evil/);
    }
  }, 60_000);
});

const GATED = 'demo-999-gated';

/** A run that went through a gate and a rolled-back deployment, whose every pushed text is hostile. */
async function seedGatedRun(store: Awaited<ReturnType<typeof openRunStore>>['store']): Promise<void> {
  const at = (minute: number) => new Date(Date.UTC(2026, 11, 2, 10, minute)).toISOString();
  await store.createRun(
    queuedRun({
      runId: GATED,
      pipeline: 'demo',
      status: 'CANCELLED',
      commit: {
        repository: 'demo',
        branch: HOSTILE_LINE,
        id: 'f'.repeat(40),
        author: { name: HOSTILE_LINE, email: 'mallory@example.com' },
        message: HOSTILE_TEXT,
      },
      trigger: { kind: 'manual', deliveryId: 'd', eventTime: at(0), pushedBy: 'dave', rerunOf: 'demo-001' },
      executionArn: `arn:aws:states:eu-west-1:111122223333:execution:stepline-demo:${GATED}`,
      stageNames: ['build', 'unit'],
      createdAt: at(0),
      cancelled: { by: 'carol', reason: HOSTILE_LINE, at: at(30) },
    }),
  );
  await store.transitionStage(GATED, 'unit', 'FAILED', {
    startedAt: at(1),
    endedAt: at(2),
    durationMs: 60_000,
    tests: {
      total: 2,
      passed: 1,
      failed: 1,
      skipped: 0,
      other: 0,
      durationMs: 10,
      reports: [],
      failures: [{ name: HOSTILE_LINE, suite: HOSTILE_LINE, status: 'FAILED', message: HOSTILE_TEXT }],
    },
  });
  await store.createApproval({
    runId: GATED,
    pipeline: 'demo',
    branch: 'main',
    commitRange: { to: 'f'.repeat(40) },
    commits: [],
    tests: [],
    risk: { class: 'high', reasons: ['touches infra/'] },
    required: { approvals: 2, group: 'release-managers' },
    asked: ['alice', 'bob'],
    openedAt: at(3),
    deadline: at(59),
    status: 'APPROVED',
    outcome: HOSTILE_LINE,
  });
  await store.recordDecision({
    runId: GATED,
    approverId: 'alice',
    decision: 'approve',
    reason: HOSTILE_LINE,
    via: 'cli',
    principal: 'arn:aws:iam::111122223333:user/alice',
    at: at(4),
  });
  for (const [event, minute] of [
    ['gate-opened', 3],
    ['decision-recorded', 4],
    ['approved', 5],
  ] as const)
    await store.appendAudit({ runId: GATED, at: at(minute), event, via: 'policy', detail: HOSTILE_LINE });
  await store.createDeployment({
    runId: GATED,
    pipeline: 'demo',
    function: 'web',
    alias: 'live',
    fromVersion: '3',
    toVersion: '4',
    steps: [{ weight: 0.1, bakeSeconds: 300 }],
    step: 0,
    status: 'ROLLED_BACK',
    alarms: ['stepline-web-errors'],
    alarmsSeen: [{ name: 'stepline-web-errors', state: 'ALARM', reason: 'Threshold Crossed', at: at(7) }],
    interventions: [{ action: 'abort', by: 'bob', reason: HOSTILE_LINE, at: at(8) }],
    stepsTaken: [{ step: 0, weight: 0.1, at: at(6) }],
    startedAt: at(6),
    endedAt: at(9),
    outcome: HOSTILE_LINE,
  });
}
