/**
 * `stepline metrics` as a user runs it (a child process) against a stopped local mode's state directory, its run
 * store seeded through the real store (dynalite on the directory's files, as local mode keeps them).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApprovalRecord, DeploymentRecord, RunRecord, RunStatus } from '../../core/records';
import { LOCAL_TABLE_NAME } from '../../local/constants';
import { startStoreServer } from '../../local/store-server';
import { RunStore } from '../../store/run-store';
import { stepline } from '../support/cli';
import { demoPipeline } from '../support/pipeline-fixture';

describe('stepline metrics', () => {
  let dir: string;
  let stateDir: string;
  let configFile: string;
  const now = Date.now();
  const hoursAgo = (hours: number) => new Date(now - hours * 3_600_000).toISOString();
  const run = (id: string, status: RunStatus, createdHoursAgo: number, committedHoursAgo: number): RunRecord => ({
    runId: `demo-${id}`,
    pipeline: 'demo',
    status,
    commit: { repository: 'demo', branch: 'main', id: `commit-${id}`, committedAt: hoursAgo(committedHoursAgo) },
    trigger: { kind: 'codecommit', deliveryId: `event-${id}`, eventTime: hoursAgo(createdHoursAgo) },
    executionName: `demo-${id}`,
    stageNames: ['build', 'unit', 'lint'],
    createdAt: hoursAgo(createdHoursAgo),
  });
  const released = (
    of: RunRecord,
    status: 'SUCCEEDED' | 'ROLLED_BACK',
    startedHoursAgo: number,
    endedHoursAgo: number,
  ): DeploymentRecord => ({
    runId: of.runId,
    pipeline: 'demo',
    function: 'demo-fn',
    alias: 'live',
    fromVersion: '1',
    toVersion: '2',
    steps: [{ weight: 1, bakeSeconds: 0 }],
    step: 0,
    status,
    alarms: [],
    alarmsSeen: [],
    interventions: [],
    startedAt: hoursAgo(startedHoursAgo),
    endedAt: hoursAgo(endedHoursAgo),
  });
  const gate = (of: RunRecord, carried: RunRecord[]): ApprovalRecord => ({
    runId: of.runId,
    pipeline: 'demo',
    branch: 'main',
    commitRange: { to: of.commit.id },
    commits: carried.map((r) => ({ runId: r.runId, id: r.commit.id })),
    tests: [],
    risk: { class: 'standard', reasons: ['small'] },
    required: { approvals: 0 },
    asked: [],
    openedAt: of.createdAt,
    deadline: hoursAgo(-72),
    status: 'APPROVED',
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-metrics-'));
    stateDir = join(dir, 'state');
    configFile = join(dir, 'config.json');
    await writeFile(configFile, JSON.stringify({ pipelines: [demoPipeline(join(dir, 'seed'))] }));
    // d0 released 40 days ago (outside the window); d1 and d2 pushed, then released together; d3 rolled back;
    // d4 released the fix.
    const d0 = run('d0', 'SUCCEEDED', 960, 961);
    const d1 = run('d1', 'SUPERSEDED', 50, 52);
    const d2 = run('d2', 'SUCCEEDED', 49, 49.5);
    const d3 = run('d3', 'FAILED', 30, 31);
    const d4 = run('d4', 'SUCCEEDED', 27, 27);
    const server = await startStoreServer({ tableName: LOCAL_TABLE_NAME, path: join(stateDir, 'store') });
    const store = new RunStore(server.client, LOCAL_TABLE_NAME);
    for (const r of [d0, d1, d2, d3, d4]) await store.createRun(r);
    await store.createDeployment(released(d0, 'SUCCEEDED', 959, 958));
    await store.createDeployment(released(d2, 'SUCCEEDED', 48, 47));
    await store.createDeployment(released(d3, 'ROLLED_BACK', 29, 28));
    await store.createDeployment(released(d4, 'SUCCEEDED', 26.5, 26));
    for (const [of, carried] of [
      [d0, [d0]],
      [d2, [d2, d1]],
      [d3, [d3]],
      [d4, [d4]],
    ] as const)
      await store.createApproval(gate(of, [...carried]));
    await server.close();
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('answers --json with local mode stopped: the numbers, the denominators and the counts', async () => {
    const result = await stepline(['metrics', '--json', '--state-dir', stateDir, '--config', configFile]);
    expect(result).toMatchObject({ code: 0, stderr: expect.not.stringContaining('Error') });
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ source: 'local mode (stopped)', window: { days: 30 } });
    const demo = report.pipelines.demo;
    // Lead times: d1 52 h → 47 h ago = 5 h, d2 49.5 → 47 = 2.5 h, d3 31 → 26 (released by d4) = 5 h, d4 27 → 26 = 1 h.
    // Sorted 1, 2.5, 5, 5: median (2.5 + 5) / 2 = 3.75 h; p90 rank 2.7 → 5 h. d0 is before the window.
    expect(demo.changeLeadTime).toMatchObject({ medianHours: 3.75, p90Hours: 5, commits: 4, timedFromPush: 0 });
    // d2 and d4 succeeded in 30 days: 2 / 30 a day, between once a month and once a week: medium.
    expect(demo.deploymentFrequency).toMatchObject({ deployments: 2, band: { clusters: ['medium'] } });
    expect(demo.deploymentFrequency.perDay).toBeCloseTo(2 / 30, 10);
    // d3 rolled back: 1 of the 3 that took production traffic. Recovered by d4: 28 h ago → 26 h ago = 2 h.
    expect(demo.changeFailRate).toMatchObject({ failed: 1, deployments: 3, rolledBack: 1 });
    expect(demo.changeFailRate.denominator).toMatch(/^deployments that took production traffic/);
    expect(demo.failedDeploymentRecoveryTime).toMatchObject({ medianHours: 2, recovered: 1 });
    expect(demo.deploymentReworkRate).toMatchObject({ rate: 0, hotfixes: 0, deployments: 3, band: null });
    expect(report.overall).toEqual(demo);
  });

  it('says "no data" (null in JSON) for a window with no release', async () => {
    const result = await stepline([
      'metrics',
      '--json',
      '--since',
      '12h',
      '--state-dir',
      stateDir,
      '--config',
      configFile,
    ]);
    expect(result.code).toBe(0);
    const demo = JSON.parse(result.stdout).pipelines.demo;
    expect(demo.changeLeadTime.medianHours).toBeNull();
    expect(demo.deploymentFrequency.perDay).toBeNull();
    expect(demo.changeFailRate.rate).toBeNull();
  });

  it('prints a table of each metric, its value and its band', async () => {
    const result = await stepline(['metrics', '--pipeline', 'demo', '--state-dir', stateDir, '--config', configFile]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /change lead time\s+median 3\.8 h, p90 5 h \(4 commits\)\s+elite \(less than one day\)/,
    );
    expect(result.stdout).toMatch(/change fail rate\s+33\.3%: 1 of 3 deployments that took production traffic/);
    expect(result.stdout).toContain('deployment rework rate');
  });

  it('refuses a window it cannot read, and a pipeline there is not', async () => {
    const since = await stepline(['metrics', '--since', '30x', '--state-dir', stateDir, '--config', configFile]);
    expect(since).toMatchObject({ code: 2, stderr: expect.stringContaining('--since must be a whole number') });
    const pipeline = await stepline(['metrics', '--pipeline', 'nope', '--state-dir', stateDir, '--config', configFile]);
    expect(pipeline).toMatchObject({ code: 1, stderr: expect.stringContaining('no pipeline nope') });
  });
});
