/**
 * The CLI reads the same run store whether local mode runs or not: through the running local mode's store, or by
 * opening the stopped local mode's files under its lock (local mode cannot start on them meanwhile).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoLocalRunsError, openRunStore } from '../../cli/run-store-access';
import { parseConfig } from '../../core/config/stepline-config';
import type { RunRecord } from '../../core/records';
import { LocalRuntime } from '../../local/runtime';
import { LocalModeBusyError } from '../../local/state-lock';
import { demoPipeline, passingSeed } from '../support/pipeline-fixture';

describe('the run store, as the CLI opens it', () => {
  let dir: string;
  let stateDir: string;
  let configFile: string;
  let config: ReturnType<typeof parseConfig>;
  const run = (runId: string): RunRecord => ({
    runId,
    pipeline: 'demo',
    status: 'QUEUED',
    commit: { repository: 'demo', branch: 'main', id: 'a'.repeat(40) },
    trigger: { kind: 'manual', deliveryId: runId, eventTime: '2026-12-03T10:00:00.000Z' },
    executionName: runId,
    stageNames: ['build'],
    createdAt: '2026-12-03T10:00:00.000Z',
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-access-'));
    stateDir = join(dir, 'state');
    const seed = join(dir, 'seed');
    await mkdir(seed);
    for (const [name, content] of Object.entries(passingSeed)) await writeFile(join(seed, name), content);
    const input = { pipelines: [demoPipeline(seed)] };
    config = parseConfig(input);
    configFile = join(dir, 'config.json');
    await writeFile(configFile, JSON.stringify(input));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('says there are no local runs before local mode ever ran', async () => {
    await expect(openRunStore({ stateDir, configFile })).rejects.toThrow(new NoLocalRunsError(stateDir));
  });

  it("reads through a running local mode's store, and opens a stopped one's files under its lock", async () => {
    const runtime = await LocalRuntime.start({ config, stateDir, persistStore: true });
    try {
      await runtime.store.createRun(run('demo-while-running'));
      const running = await openRunStore({ stateDir, configFile });
      expect(running.source).toBe('local mode (running)');
      expect(await running.store.getRun('demo-while-running')).toMatchObject({ pipeline: 'demo' });
      expect(await running.pipelines()).toEqual(['demo']);
      await running.close();
    } finally {
      await runtime.close();
    }

    const stopped = await openRunStore({ stateDir, configFile });
    try {
      expect(stopped.source).toBe('local mode (stopped)');
      expect((await stopped.store.listRuns('demo')).items.map((r) => r.runId)).toEqual(['demo-while-running']);
      // While the CLI reads the files, local mode cannot start on them.
      await expect(LocalRuntime.start({ config, stateDir, persistStore: true })).rejects.toBeInstanceOf(
        LocalModeBusyError,
      );
    } finally {
      await stopped.close();
    }
    const again = await LocalRuntime.start({ config, stateDir, persistStore: true });
    await again.close();
  });
});
