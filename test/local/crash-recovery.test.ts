/**
 * What a crash of local mode keeps: local mode runs in a process of its own and is killed with kill -9
 * (its whole process group, as a laptop crash or an OOM kill would end it) while a run waits at its
 * release gate, or while its release bakes; then local mode starts again on the same state directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../core/config/stepline-config';
import { LOCAL_MODE_STOPPED } from '../../local/recovery';
import { LocalRuntime } from '../../local/runtime';
import { emailLinks } from '../support/approvals';
import type { LocalModeProgress } from '../support/local-mode-process';
import { demoPipeline, passingSeed } from '../support/pipeline-fixture';
import { until } from '../support/until';

const root = join(__dirname, '..', '..');

/** The seed's commits are authored by local@stepline.invalid, who is no approver. */
const policy = {
  approvers: [
    { id: 'alice', name: 'Alice', emails: ['alice@example.com'] },
    { id: 'bob', name: 'Bob', emails: ['bob@example.com'] },
  ],
  classes: { normal: { approvals: 1 } },
};
const notifications = { email: { from: 'ci@example.com', to: ['team@example.com'] } };
/** A build whose artifact is a working handler. */
const build = `version: 0.2\nphases:\n  build:\n    commands:\n      - mkdir -p dist\n      - ${JSON.stringify(`echo 'exports.handler = async () => ({ ok: true });' > dist/index.js`)}\nartifacts:\n  files:\n    - '**/*'\n  base-directory: dist\n`;
/** A canary whose one step bakes long enough to be interrupted. */
const deploy = { function: 'hello', strategy: { type: 'canary', steps: [50], bakeSeconds: 300 } };

/** An email link, pointed at the endpoint local mode listens on now (each start may take another port). */
function at(endpointUrl: string, link: string): { url: string; token: string } {
  const url = new URL(link);
  return { url: `${endpointUrl}${url.pathname}`, token: url.searchParams.get('token')! };
}

/** Decides as a person does who opened the link and pressed the button: a POST of its token. */
function decide(link: { url: string; token: string }, decision: 'approve' | 'reject') {
  return fetch(link.url, { method: 'POST', body: new URLSearchParams({ token: link.token, decision }) });
}

describe('killing local mode with kill -9, and starting it again', () => {
  let dir: string;
  let stateDir: string;
  let child: ChildProcess | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-crash-'));
    stateDir = join(dir, 'state');
  });

  afterEach(async () => {
    if (child?.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  /** Local mode in its own process group, running the seed's change through `pipeline`. */
  async function startLocalMode(pipeline: Record<string, unknown>, seed: Record<string, string>) {
    const seedDir = join(dir, 'seed');
    await mkdir(seedDir);
    for (const [name, content] of Object.entries(seed)) await writeFile(join(seedDir, name), content);
    const config = { pipelines: [{ ...demoPipeline(), ...pipeline }] };
    const progressFile = join(dir, 'progress.json');
    await writeFile(join(dir, 'options.json'), JSON.stringify({ config, stateDir, seedDir, progressFile }));
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/local-mode-process.ts', join(dir, 'options.json')],
      {
        cwd: root,
        stdio: 'ignore',
        detached: true,
      },
    );
    const progress = () =>
      existsSync(progressFile) ? (JSON.parse(readFileSync(progressFile, 'utf8')) as LocalModeProgress) : undefined;
    return {
      config: parseConfig(config),
      /** Waits until what the run has reached passes `test`. */
      reached: (what: string, test: (p: LocalModeProgress) => boolean) =>
        until(what, () => {
          const now = progress();
          return now && test(now) ? now : undefined;
        }),
      /** kill -9 of local mode's process group. */
      kill: async () => {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        process.kill(-child!.pid!, 'SIGKILL');
        await exited;
      },
    };
  }

  it('a gate WAITING survives: the run stays RUNNING, the gate waits again and is decided by a link emailed before the crash', async () => {
    const localMode = await startLocalMode({ approval: policy, notifications }, passingSeed);
    const before = await localMode.reached(
      'the gate to wait, its requests emailed',
      (p) => p.approval === 'WAITING' && p.delivered.includes('email:approval:bob'),
    );
    const { runId } = before;
    const link = emailLinks({ stateDir }, runId, 'bob').approve;
    await localMode.kill();

    const runtime = await LocalRuntime.start({ config: localMode.config, stateDir, persistStore: true });
    try {
      expect(runtime.interruptedRuns).toEqual([]);
      expect(runtime.resumedExecutions).toEqual([runId]);
      expect((await runtime.store.getRun(runId))!.status).toBe('RUNNING');
      // The resumed Task asked for a new token; the old one is dead.
      for (let i = 0; i < 200 && (await runtime.store.getApproval(runId))!.taskToken === before.taskToken; i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await runtime.store.getApproval(runId)).toMatchObject({ status: 'WAITING' });
      expect((await runtime.store.getApproval(runId))!.taskToken).not.toBe(before.taskToken);

      const answer = await decide(at(runtime.endpoint.url, link), 'approve');
      expect(answer.status).toBe(200);
      expect(await answer.text()).toContain('approved by bob');
      const run = await runtime.waitForRun(runId);
      expect(run.status).toBe('SUCCEEDED');
      expect(await runtime.store.getApproval(runId)).toMatchObject({ status: 'APPROVED', approvedBy: ['bob'] });
    } finally {
      await runtime.close();
    }
  });

  it('a gate HELD by a freeze survives: approved by a link before the crash, it goes out when the window opens after it', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const freezes = [{ name: 'today', dates: [today] }];
    const localMode = await startLocalMode({ approval: { ...policy, freezes }, notifications }, passingSeed);
    const waiting = await localMode.reached(
      'the gate to wait, its requests emailed',
      (p) => p.approval === 'WAITING' && p.delivered.includes('email:approval:alice'),
    );
    const { runId } = waiting;
    const approved = await decide(at(waiting.endpointUrl, emailLinks({ stateDir }, runId, 'alice').approve), 'approve');
    expect(await approved.text()).toContain('the release is held by freeze');
    const held = await localMode.reached('the gate to be held', (p) => p.approval === 'HELD');
    await localMode.kill();

    let now = new Date();
    const runtime = await LocalRuntime.start({
      config: localMode.config,
      stateDir,
      persistStore: true,
      now: () => now,
    });
    try {
      expect(runtime.interruptedRuns).toEqual([]);
      expect(runtime.resumedExecutions).toEqual([runId]);
      expect((await runtime.store.getRun(runId))!.status).toBe('RUNNING');
      for (let i = 0; i < 200 && (await runtime.store.getApproval(runId))!.taskToken === held.taskToken; i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await runtime.store.getApproval(runId)).toMatchObject({ status: 'HELD', approvedBy: ['alice'] });
      expect((await runtime.store.getApproval(runId))!.taskToken).not.toBe(held.taskToken);
      // Still frozen: the sweep keeps it held.
      await runtime.sweepApprovals();
      expect((await runtime.store.getApproval(runId))!.status).toBe('HELD');

      now = new Date(`${new Date(now.getTime() + 86_400_000).toISOString().slice(0, 10)}T00:01:00.000Z`);
      await runtime.sweepApprovals();
      expect((await runtime.waitForRun(runId)).status).toBe('SUCCEEDED');
      expect((await runtime.store.listAudit(runId)).map((e) => e.event).slice(-2)).toEqual([
        'execution-resumed',
        'released-by-window',
      ]);
    } finally {
      await runtime.close();
    }
  });

  it('a crash while traffic is split: the run is FAILED, its deployment rolled back, saying where all traffic is', async () => {
    const localMode = await startLocalMode({ deploy }, { ...passingSeed, 'build.yml': build });
    // Half the traffic on the new version, baking.
    const { runId } = await localMode.reached(
      'the first traffic step',
      (p) => p.deployment?.status === 'IN_PROGRESS' && p.deployment.step === 0,
    );
    await localMode.kill();

    const runtime = await LocalRuntime.start({ config: localMode.config, stateDir, persistStore: true });
    try {
      expect(runtime.interruptedRuns).toEqual([runId]);
      expect(runtime.resumedExecutions).toEqual([]);
      expect(await runtime.store.getRun(runId)).toMatchObject({ status: 'FAILED', failure: LOCAL_MODE_STOPPED });
      expect(await runtime.store.getDeployment(runId)).toMatchObject({
        status: 'ROLLED_BACK',
        fromVersion: '1',
        toVersion: '2',
        endedAt: expect.any(String),
        outcome: 'local mode stopped during the release; all traffic of hello:live is on version 1',
      });
      const alias = runtime.lambdas.getAlias('hello', 'live');
      expect(alias.functionVersion).toBe('1');
      expect(alias.routingConfig?.additionalVersionWeights ?? {}).toEqual({});
      for (let i = 0; i < 10; i++) {
        const invoked = await runtime.lambdas.invoke('hello', 'live', {});
        expect(invoked).toMatchObject({ executedVersion: '1', payload: { statusCode: 503 } });
      }
    } finally {
      await runtime.close();
    }
  });
  it('a stop (Ctrl-C) while traffic is split ends the deployment too: rolled back to the version before it', async () => {
    const config = parseConfig({ pipelines: [{ ...demoPipeline(), deploy }] });
    const seedDir = join(dir, 'seed');
    await mkdir(seedDir);
    for (const [name, content] of Object.entries({ ...passingSeed, 'build.yml': build }))
      await writeFile(join(seedDir, name), content);
    let runtime = await LocalRuntime.start({ config, stateDir, persistStore: true });
    const [started] = await runtime.runsStartedFor(await runtime.pushSeed(config.pipelines[0]!, seedDir, 'change'));
    const runId = started!.runId;
    for (let i = 0; i < 1200 && (await runtime.store.getDeployment(runId))?.step !== 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runtime.lambdas.getAlias('hello', 'live').routingConfig?.additionalVersionWeights).toEqual({ '2': 0.5 });
    await runtime.close();

    runtime = await LocalRuntime.start({ config, stateDir, persistStore: true });
    try {
      expect(await runtime.store.getRun(runId)).toMatchObject({ status: 'FAILED', failure: LOCAL_MODE_STOPPED });
      expect(await runtime.store.getDeployment(runId)).toMatchObject({
        status: 'ROLLED_BACK',
        outcome: 'local mode stopped during the release; all traffic of hello:live is on version 1',
      });
    } finally {
      await runtime.close();
    }
  });
});
