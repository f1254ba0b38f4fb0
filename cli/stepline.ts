/**
 * stepline's command line. `start` runs local mode: it commits the example app into its local
 * repository, pushes it, and shows the pipeline run that the push starts.
 */
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG_FILE, readConfigFile } from '../bin/config-file';
import { ConfigError } from '../core/config';
import type { RunRecord } from '../core/records';
import { GITHUB_WEBHOOK_ROUTE, LocalRuntime, localRepositoryName } from '../local/runtime';
import { LocalModeBusyError } from '../local/state-lock';
import { failureLines, formatDuration, ProgressPrinter } from './progress';

const USAGE = `usage: stepline start [--serve] [--state-dir DIR] [--config FILE] [--aws-credentials] [--max-builds N]

  --serve            keep local mode running after the run ends (push to the local repository to run again)
  --state-dir DIR    where local state is kept (default .stepline)
  --config FILE      the pipeline configuration (default stepline.config.ts)
  --aws-credentials  let builds use this shell's AWS credentials (AWS_* variables, ~/.aws); without it a
                     build has none, where on CodeBuild it would have its project's service role
  --max-builds N     how many builds run at once; the rest wait their turn (default: the number of cores)
  --smtp-relay URL   send notification emails through this relay (smtp://host:port, e.g. a local mail
                     catcher) instead of writing them to .stepline/outbox/email/`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      serve: { type: 'boolean', default: false },
      'state-dir': { type: 'string', default: '.stepline' },
      config: { type: 'string', default: DEFAULT_CONFIG_FILE },
      'aws-credentials': { type: 'boolean', default: false },
      'max-builds': { type: 'string' },
      'smtp-relay': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || positionals[0] !== 'start') {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const maxBuilds = values['max-builds'] === undefined ? undefined : Number(values['max-builds']);
  if (maxBuilds !== undefined && !(Number.isInteger(maxBuilds) && maxBuilds >= 1)) {
    console.error(`--max-builds must be a whole number of 1 or more, got ${values['max-builds']}`);
    return 2;
  }
  const relay = values['smtp-relay'];
  if (relay !== undefined && !/^smtp:\/\/[^/:]+(:\d{1,5})?\/?$/.test(relay)) {
    console.error(`--smtp-relay must be smtp://host:port, got ${relay}`);
    return 2;
  }
  const config = readConfigFile(values.config);
  const stateDir = resolve(values['state-dir']);
  const followed = new Map<string, Promise<RunRecord>>();
  // Each run is followed once, whether its start was seen through a push of ours or another one.
  const followOnce = (runId: string) => {
    if (!followed.has(runId)) followed.set(runId, follow(runtime, runId));
    return followed.get(runId)!;
  };
  const runtime: LocalRuntime = await LocalRuntime.start({
    config,
    stateDir,
    persistStore: true,
    passAwsCredentials: values['aws-credentials'],
    maxConcurrentBuilds: maxBuilds,
    smtpRelay: values['smtp-relay'],
    onRunStarted: values.serve ? (run) => void followOnce(run.runId) : undefined,
    onDeliveryProblem: (problem) => console.log(`push to ${problem.event} started no run: ${problem.reason}`),
  });
  const stop = async () => {
    await runtime.close();
    process.exit(130);
  };
  process.once('SIGINT', stop).once('SIGTERM', stop);

  console.log(`stepline local mode — state in ${stateDir}`);
  console.log(`  run store: ${stateDir}/store (DynamoDB protocol at ${runtime.storeEndpoint})`);
  console.log(`  build logs: ${stateDir}/codebuild/builds/<project>/<build>/build.log`);
  console.log(`  function logs: ${stateDir}/functions/`);
  runtime.interruptedRuns.forEach((runId) =>
    console.log(`  run ${runId} was interrupted by the last stop: recorded FAILED`),
  );
  let ok = true;
  for (const pipeline of config.pipelines) {
    const target = runtime.git.repositoryPath(localRepositoryName(pipeline));
    let commitId: string;
    if (pipeline.localRepository) {
      commitId = await runtime.pushRepository(pipeline);
      console.log(`\npushed HEAD of ${pipeline.localRepository} to ${target} (commit ${commitId.slice(0, 12)})`);
    } else if (pipeline.localSeed) {
      const message = `stepline start: ${pipeline.name} at ${new Date().toISOString()}`;
      commitId = await runtime.pushSeed(pipeline, resolve(pipeline.localSeed), message);
      console.log(`\npushed ${pipeline.localSeed} to ${target} (commit ${commitId.slice(0, 12)})`);
    } else continue;
    for (const started of await runtime.runsStartedFor(commitId)) {
      ok &&= ['SUCCEEDED', 'SKIPPED'].includes((await followOnce(started.runId)).status);
    }
  }
  if (values.serve) {
    console.log('\nserving: a push to one of these repositories starts a run (Ctrl-C to stop):');
    for (const pipeline of config.pipelines) {
      const { branch } = pipeline.source;
      const push = pipeline.localRepository
        ? `git -C ${pipeline.localRepository} push stepline HEAD:${branch}`
        : `git push ${runtime.git.repositoryPath(localRepositoryName(pipeline))} HEAD:${branch}`;
      console.log(`  ${push}   # pipeline ${pipeline.name}`);
    }
    if (config.pipelines.some((p) => p.source.type === 'github')) {
      console.log(`GitHub deliveries (a push to a GitHub pipeline's repository above is sent as one):`);
      console.log(
        `  POST ${runtime.endpoint.url}${GITHUB_WEBHOOK_ROUTE}, signed with ${stateDir}/github-webhook-secret`,
      );
    }
    return new Promise<number>(() => undefined);
  }
  await runtime.close();
  return ok ? 0 : 1;
}

/** Prints each stage change as the run store records it, until the run ends, then the outcome. */
async function follow(runtime: LocalRuntime, runId: string): Promise<RunRecord> {
  const execution = runtime.stepFunctions.listExecutions().find((e) => e.name === runId);
  console.log(`run ${runId}${execution ? ` (execution ${execution.executionArn})` : ''}`);
  if (!execution && (await runtime.store.getRun(runId))?.status === 'QUEUED') {
    console.log(`  waiting: the pipeline runs one at a time; this run starts when the runs before it end`);
  }
  const printer = new ProgressPrinter((line) => console.log(line));
  const done = runtime.waitForRun(runId);
  let finished = false;
  void done.then(() => (finished = true));
  for (;;) {
    const run = await runtime.store.getRun(runId);
    printer.update(await runtime.store.listStages(runId), run?.stageNames ?? []);
    if (finished) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const run = await done;
  console.log(
    run.status === 'SKIPPED'
      ? `run ${run.runId} SKIPPED: ${run.skipReason}`
      : `run ${run.runId} ${run.status} in ${formatDuration(run.durationMs)}`,
  );
  failureLines(run).forEach((line) => console.log(line));
  await runtime.notificationsOf(run.runId);
  // One line per message (commit statuses share one file): where local mode delivered it.
  const lines = new Set<string>();
  for (const notification of await runtime.store.listNotifications(run.runId)) {
    const path = runtime.outbox.pathOf(notification);
    const where = relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path);
    lines.add(`  notified ${notification.channel} (${notification.status.toLowerCase()}): ${where}`);
  }
  lines.forEach((line) => console.log(line));
  return run;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError || error instanceof LocalModeBusyError ? error.message : error);
    process.exit(1);
  },
);
