/**
 * Local mode in a process of its own, for tests that kill it as a crash would (kill -9): started as
 * `stepline start` starts it (a persisted store), with no terminal and no demo approver, so a release
 * gate waits for a person. It pushes the seed once, then writes what the run has reached, over and
 * over, to `progress.json` (renamed into place, so a reader never sees half of it), until it is killed.
 *
 *   node --import tsx test/support/local-mode-process.ts <options.json>
 *   options: { config (the config's input), stateDir, seedDir, progressFile }
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseConfig } from '../../core/config/stepline-config';
import { LocalRuntime } from '../../local/runtime';

/** What the run has reached, as the test reads it. */
export interface LocalModeProgress {
  readonly endpointUrl: string;
  readonly runId: string;
  readonly approval?: string;
  /** The task token the gate holds now (a resumed gate holds a new one). */
  readonly taskToken?: string;
  /** Notifications delivered, by id. */
  readonly delivered: readonly string[];
  readonly deployment?: { readonly status: string; readonly step: number };
}

async function main(optionsFile: string): Promise<void> {
  const options = JSON.parse(readFileSync(optionsFile, 'utf8')) as {
    config: unknown;
    stateDir: string;
    seedDir: string;
    progressFile: string;
  };
  const config = parseConfig(options.config);
  const runtime = await LocalRuntime.start({ config, stateDir: options.stateDir, persistStore: true });
  const commitId = await runtime.pushSeed(config.pipelines[0]!, options.seedDir, 'change');
  const [started] = await runtime.runsStartedFor(commitId);
  const runId = started!.runId;
  for (;;) {
    const deployment = await runtime.store.getDeployment(runId);
    const approval = await runtime.store.getApproval(runId);
    const progress: LocalModeProgress = {
      endpointUrl: runtime.endpoint.url,
      runId,
      approval: approval?.status,
      taskToken: approval?.taskToken,
      delivered: (await runtime.store.listNotifications(runId))
        .filter((n) => n.status === 'DELIVERED')
        .map((n) => n.id),
      deployment: deployment && { status: deployment.status, step: deployment.step },
    };
    writeFileSync(`${options.progressFile}.tmp`, JSON.stringify(progress));
    renameSync(`${options.progressFile}.tmp`, options.progressFile);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

void main(process.argv[2]!);
