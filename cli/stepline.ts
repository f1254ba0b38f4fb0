/**
 * stepline's command line. `start` runs local mode: it commits the example app into its local
 * repository, pushes it, and shows the pipeline run that the push starts — at a terminal, a release
 * gate waits for a person; with no terminal, local mode's demo approver decides, recorded as such.
 * `approvals`, `approve` and `reject` decide on release gates (cli/approvals.ts); `deploy` controls a
 * run's deployment (cli/deploy.ts); `runs`, `run` and `logs` read runs, local mode running or not (cli/runs.ts);
 * `rerun` and `release` start runs by hand (cli/manual-runs.ts); `doctor` compares the account quotas the app
 * needs with the defaults or, with --aws, with the account (cli/doctor.ts); `metrics` the DORA metrics from the run
 * store (cli/metrics.ts).
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { readConfigFile } from '../bin/config-file';
import { gateWarnings } from '../core/approval/policy';
import { ConfigError } from '../core/config/errors';
import { APPROVAL_ROUTES } from '../core/platform';
import type { ApprovalRecord, RunRecord, RunStatus } from '../core/records';
import { forTerminal } from '../core/text';
import { LOCAL_DEMO_HEADER } from '../local/approvals';
import { localAuthors } from '../local/git-source';
import { runApprovalsCommand } from './approvals';
import { COMMANDS, EXIT, parseCommandLine } from './args';
import { runDeployCommand } from './deploy';
import { runRunControlCommand } from './run-control';
import { runDoctorCommand } from './doctor';
import { runManualRunCommand } from './manual-runs';
import { logsCommand, runCommand, runsCommand } from './runs';
import { runMetricsCommand } from './metrics';
import { GITHUB_WEBHOOK_ROUTE, LocalRuntime, localRepositoryName } from '../local/runtime';
import { PortInUseError } from '../local/local-address';
import { LocalModeBusyError } from '../local/state-lock';
import { releaseOutcome, type ReleaseOutcome } from './outcome';
import { failureLines, formatDuration, gateDeadline, ProgressPrinter, scaledWait } from './progress';

async function main(argv: string[]): Promise<number> {
  const line = parseCommandLine(argv);
  if (line.kind === 'print') {
    console.log(line.text);
    return EXIT.ok;
  }
  if (line.kind === 'usage-error') {
    const command = argv[0] && Object.hasOwn(COMMANDS, argv[0]) ? ` ${argv[0]}` : '';
    console.error(`stepline${command}: ${line.message}\n\n${line.usage}`);
    return EXIT.usage;
  }
  const { command, args, values } = line;
  const stateDir = resolve(String(values['state-dir']));
  const reason = values.reason as string | undefined;
  const aws = values.aws === true;
  if (command === 'approvals' || command === 'approve' || command === 'reject') {
    return runApprovalsCommand({
      command,
      runId: args[0],
      reason,
      override: values.override === true,
      aws,
      stateDir,
    }).catch((error: unknown) => {
      console.error((error as Error).message);
      return EXIT.failed;
    });
  }
  if (command === 'deploy') {
    return runDeployCommand({ action: args[0]!, runId: args[1]!, reason: reason!, aws, stateDir }).catch(
      (error: unknown) => {
        console.error((error as Error).message);
        return EXIT.failed;
      },
    );
  }
  if (command === 'cancel' || command === 'redrive')
    return runRunControlCommand({ command, runId: args[0]!, reason, aws, stateDir }).catch((error: unknown) => {
      console.error((error as Error).message);
      return EXIT.failed;
    });
  if (command === 'rerun' || command === 'release') {
    const options =
      command === 'rerun'
        ? { command, runId: args[0]!, aws, stateDir }
        : { command, pipeline: args[0]!, commit: values.commit as string | undefined, aws, stateDir };
    return runManualRunCommand(options).catch((error: unknown) => {
      console.error((error as Error).message);
      return EXIT.failed;
    });
  }
  if (command === 'doctor') return runDoctorCommand({ config: String(values.config), aws });
  if (command === 'runs' || command === 'run' || command === 'logs') {
    const where = { aws, stateDir, configFile: String(values.config) };
    const json = values.json === true;
    if (command === 'run') return runCommand(where, args[0]!, json);
    if (command === 'logs')
      return logsCommand(where, {
        runId: args[0]!,
        stage: values.stage as string | undefined,
        follow: values.follow === true,
        json,
      });
    const [pipeline, status, branch] = [values.pipeline, values.status, values.branch] as (string | undefined)[];
    return runsCommand(
      where,
      { pipeline, status: status as RunStatus | undefined, branch, limit: Number(values.limit) },
      json,
    );
  }
  if (command === 'metrics') {
    const metrics = { pipeline: values.pipeline as string | undefined, since: String(values.since) };
    return runMetricsCommand({
      ...metrics,
      json: values.json === true,
      aws,
      stateDir,
      configFile: String(values.config),
    }).catch((error: unknown) => {
      console.error((error as Error).message);
      return EXIT.failed;
    });
  }
  return start(values, stateDir);
}

/** `stepline start`: local mode, each pipeline's source pushed and its runs followed. */
async function start(values: Record<string, string | boolean | undefined>, stateDir: string): Promise<number> {
  const maxBuilds = values['max-builds'] === undefined ? undefined : Number(values['max-builds']);
  if (maxBuilds !== undefined && !(Number.isInteger(maxBuilds) && maxBuilds >= 1)) {
    console.error(`stepline start: --max-builds must be a whole number of 1 or more, got ${values['max-builds']}`);
    return EXIT.usage;
  }
  const relay = values['smtp-relay'] as string | undefined;
  if (relay !== undefined && !/^smtp:\/\/[^/:]+(:\d{1,5})?\/?$/.test(relay)) {
    console.error(`stepline start: --smtp-relay must be smtp://host:port, got ${relay}`);
    return EXIT.usage;
  }
  const timeScale = Number(values['time-scale']);
  if (!(timeScale >= 1 && timeScale <= 3600)) {
    console.error(`stepline start: --time-scale must be a number from 1 to 3600, got ${values['time-scale']}`);
    return EXIT.usage;
  }
  const port = Number(values.port);
  if (!(/^[1-9]\d{0,4}$/.test(String(values.port)) && port <= 65535)) {
    console.error(`stepline start: --port must be a whole number from 1 to 65535, got ${values.port}`);
    return EXIT.usage;
  }
  const config = readConfigFile(String(values.config));
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const followed = new Map<string, Promise<{ run: RunRecord; outcome: ReleaseOutcome }>>();
  // Each run is followed once, whether its start was seen through a push of ours or another one.
  const followOnce = (runId: string) => {
    if (!followed.has(runId))
      followed.set(
        runId,
        follow(runtime, runId, interactive).then(async (run) => ({ run, ...(await outcomeOf(run)) })),
      );
    return followed.get(runId)!;
  };
  /**
   * Follows a run nobody awaits (serving): a stop may close the store under it, and that is no failure; anything
   * else is said, and never becomes an unhandled rejection that would end local mode with exit 1.
   */
  const followInBackground = (runId: string) =>
    void followOnce(runId).catch((error: unknown) => {
      if (!stopping) console.error(`could not follow run ${runId}:`, error);
    });
  /** What became of the run's change, said when it had a release gate or a deployment. */
  const outcomeOf = async (run: RunRecord) => {
    const gate = await runtime.store.getApproval(run.runId);
    const deployment = await runtime.store.getDeployment(run.runId);
    const outcome = releaseOutcome(run, gate, deployment);
    if (gate || deployment) console.log(`  the change was ${outcome.text}`);
    return { outcome };
  };
  const runtime: LocalRuntime = await LocalRuntime.start({
    config,
    stateDir,
    persistStore: true,
    passAwsCredentials: values['aws-credentials'] === true,
    maxConcurrentBuilds: maxBuilds,
    buildCache: values['no-cache'] !== true,
    smtpRelay: relay,
    onRunStarted: values.serve ? (run) => followInBackground(run.runId) : undefined,
    // No terminal, nobody to ask: the demo approver decides at release gates, recorded as the demo.
    demoApprover: !interactive,
    timeScale,
    port,
    // What a bake judges a new version by: callers' traffic through the alias.
    trafficPerSecond: 20,
    onDeliveryProblem: (problem) =>
      console.log(forTerminal.line(`push to ${problem.event} started no run: ${problem.reason}`)),
  });
  // The exit is the stop's (130) whatever closing meets; what it met is said, not turned into exit 1 — neither an
  // error closing raises nor one that work cut short by the close lets through unhandled.
  const stop = async () => {
    stopping = true;
    const said = (error: unknown) => console.error('while local mode stopped:', error);
    process.on('unhandledRejection', said).on('uncaughtException', said);
    try {
      await runtime.close();
    } catch (error: unknown) {
      console.error('local mode did not close cleanly:', error);
    }
    process.exit(130);
  };
  process.once('SIGINT', stop).once('SIGTERM', stop);

  console.log(`stepline local mode — state in ${stateDir}`);
  console.log(`  listening on ${runtime.endpoint.url} (loopback only; approval links and the webhook point here)`);
  if (values.serve) console.log(`  console: ${runtime.consoleUrl}`);
  console.log(`  run store: ${stateDir}/store (DynamoDB protocol at ${runtime.storeEndpoint})`);
  console.log(`  build logs: ${stateDir}/codebuild/builds/<project>/<build>/build.log`);
  console.log(`  function logs: ${stateDir}/functions/`);
  if (runtime.timeScale.factor !== 1) {
    const scale = runtime.timeScale;
    console.log(
      `  time scale ×${scale.factor}: waits are shorter (${scaledWait('bake', 300_000, scale)}, ${scaledWait('alarm period', 60_000, scale)}, ${scaledWait('gate expiry', 72 * 3_600_000, scale)}); run times and timestamps are real`,
    );
  }
  runtime.interruptedRuns.forEach((runId) =>
    console.log(`  run ${runId} was interrupted by the last stop: recorded FAILED`),
  );
  for (const runId of runtime.lanesMovedOn) {
    console.log(`  run ${runId} waited in its pipeline's lane over the last stop: started`);
    if (values.serve) followInBackground(runId);
  }
  // A gate its own author's changes can never pass: said before anyone waits at it.
  for (const pipeline of config.pipelines) {
    if (!pipeline.approval) continue;
    for (const warning of gateWarnings(pipeline.name, pipeline.approval, await localAuthors(pipeline)))
      console.log(`warning: ${warning}`);
  }
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
      const { run } = await followOnce(started.runId);
      ok &&= ['SUCCEEDED', 'SKIPPED'].includes(run.status);
    }
    const badChange = pipeline.deploy && pipeline.localSeed && join(resolve(pipeline.localSeed), 'demo', 'bad-change');
    if (!badChange || !existsSync(badChange)) continue;
    // The demo's second half: a change that passes its tests and fails in Lambda, rolled back on its own.
    const seed = mkdtempSync(join(tmpdir(), 'stepline-demo-'));
    cpSync(resolve(pipeline.localSeed!), seed, { recursive: true });
    cpSync(badChange, seed, { recursive: true });
    commitId = await runtime.pushSeed(pipeline, seed, 'demo: a bad change (it passes its tests, and fails in Lambda)');
    rmSync(seed, { recursive: true, force: true });
    console.log(`
pushed the demo's bad change to ${target} (commit ${commitId.slice(0, 12)}): watch the canary roll it back`);
    for (const started of await runtime.runsStartedFor(commitId)) {
      const { outcome } = await followOnce(started.runId);
      const rolledBack = outcome.kind === 'rolled-back';
      console.log(
        rolledBack
          ? '  as the demo intends: the bad change was rolled back on its own, by its alarm'
          : '  not as the demo intends: it meant the bad change to be released and rolled back by its alarm',
      );
      ok &&= rolledBack;
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
  return ok ? EXIT.ok : EXIT.failed;
}

/** Prints each stage change as the run store records it, until the run ends, then the outcome. */
async function follow(runtime: LocalRuntime, runId: string, interactive: boolean): Promise<RunRecord> {
  const execution = runtime.stepFunctions.listExecutions().find((e) => e.name === runId);
  console.log(`run ${runId}${execution ? ` (execution ${execution.executionArn})` : ''}`);
  if (!execution && (await runtime.store.getRun(runId))?.status === 'QUEUED') {
    console.log(`  waiting: the pipeline runs one at a time; this run starts when the runs before it end`);
  }
  const printer = new ProgressPrinter((line) => console.log(line));
  const done = runtime.waitForRun(runId);
  let finished = false;
  let gateShown = false;
  let deploymentShown = '';
  void done.then(() => (finished = true));
  for (;;) {
    const run = await runtime.store.getRun(runId);
    printer.update(await runtime.store.listStages(runId), run?.stageNames ?? []);
    deploymentShown = await showDeployment(runtime, runId, deploymentShown);
    if (finished) break;
    const gate = gateShown ? undefined : await runtime.store.getApproval(runId);
    if (gate && gate.status !== 'PENDING') {
      gateShown = true;
      await atReleaseGate(runtime, gate, interactive);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const run = await done;
  console.log(
    run.status === 'SKIPPED'
      ? forTerminal.line(`run ${run.runId} SKIPPED: ${run.skipReason}`)
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

/** Prints each change of a run's deployment: its step and weights, its alarms, its end; returns what was shown. */
async function showDeployment(runtime: LocalRuntime, runId: string, shown: string): Promise<string> {
  const deployment = await runtime.store.getDeployment(runId);
  if (!deployment) return shown;
  // The production target's account: the platform's, or the one the config places it in.
  const account = runtime.targetAccount(deployment.pipeline);
  const alarms = account.alarms
    .states(deployment.alarms.filter((name) => name.startsWith('stepline-')))
    .map((a) => `${a.name} ${a.state}`)
    .join(', ');
  const alias = account.lambdas.getAlias(deployment.function, deployment.alias);
  const weights = Object.entries(alias.routingConfig?.additionalVersionWeights ?? {});
  const traffic = weights.length
    ? `version ${weights[0]![0]} ${Math.round(weights[0]![1] * 100)}%, version ${alias.functionVersion} ${100 - Math.round(weights[0]![1] * 100)}%`
    : `version ${alias.functionVersion} 100%`;
  const bakeSeconds = deployment.status === 'IN_PROGRESS' ? (deployment.steps[deployment.step]?.bakeSeconds ?? 0) : 0;
  const bake = bakeSeconds ? `; ${scaledWait('bake', bakeSeconds * 1000, runtime.timeScale)}` : '';
  const line = `  ↳ deploy ${deployment.function}:${deployment.alias} ${deployment.status}: ${traffic}${bake}; alarms: ${alarms}${deployment.outcome && deployment.status !== 'IN_PROGRESS' ? ` — ${deployment.outcome}` : ''}`;
  if (line !== shown) console.log(forTerminal.line(line));
  return line;
}

/**
 * A run reached its release gate. At a terminal: the approvers' links (from their approval emails in
 * the outbox) and the CLI command, then wait for a person. With no terminal: local mode's demo
 * approver approves, and the gate records it as the demo's.
 */
async function atReleaseGate(runtime: LocalRuntime, gate: ApprovalRecord, interactive: boolean): Promise<void> {
  if (gate.status === 'APPROVED') {
    console.log(forTerminal.line(`  release gate: ${gate.outcome}`));
    return;
  }
  console.log(
    forTerminal.line(
      `  release gate: ${gate.risk.class} risk (${gate.risk.reasons.join('; ')}); needs ${gate.required.approvals} approval(s)${gate.required.group ? ` from ${gate.required.group}` : ''} by ${gateDeadline(gate, runtime.timeScale)}`,
    ),
  );
  if (!interactive) {
    const answer = await fetch(`${runtime.endpoint.url}${APPROVAL_ROUTES.cli}/${gate.runId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [LOCAL_DEMO_HEADER]: 'true' },
      body: JSON.stringify({ decision: 'approve' }),
    });
    const body = (await answer.json()) as { message: string };
    console.log(
      forTerminal.line(
        `  no terminal to ask a person at: local mode's demo approver approved (recorded as the demo): ${body.message}`,
      ),
    );
    return;
  }
  const links = await approvalLinks(runtime, gate.runId);
  for (const link of links)
    console.log(
      `  ${link.approver}: approve ${link.approve}\n  ${' '.repeat(link.approver.length)}  reject  ${link.reject}`,
    );
  console.log(
    `  or, as your git identity: npx stepline approve ${gate.runId}   (or reject ${gate.runId} --reason "…")`,
  );
  console.log('  waiting for a decision…');
}

/**
 * Each asked approver's links, read from their approval email in the outbox: once the gate has
 * recorded its requests, and the notifier has delivered (or given up) every one of them (at most 10 s).
 */
async function approvalLinks(
  runtime: LocalRuntime,
  runId: string,
): Promise<{ approver: string; approve: string; reject: string }[]> {
  const requests = async () =>
    (await runtime.store.listNotifications(runId)).filter(
      (n) => n.id.startsWith('email:approval:') && n.id !== 'email:approval:outcome',
    );
  for (let i = 0; i < 100; i++) {
    const requested = (await runtime.store.listAudit(runId)).some((e) => e.event === 'approval-requested');
    if (requested && (await requests()).every((n) => n.status === 'DELIVERED' || n.status === 'FAILED')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return (await requests())
    .filter((n) => n.status === 'DELIVERED')
    .map((n) => {
      const text = String(n.message.text ?? '');
      const link = (label: string) => new RegExp(`^${label}:\\s+(\\S+)$`, 'm').exec(text)?.[1] ?? '';
      return { approver: n.id.slice('email:approval:'.length), approve: link('Approve'), reject: link('Reject') };
    });
}

/**
 * Set while a signal stops local mode. The run being followed may then end, or fail as the store closes under
 * it; the exit is the stop's (130), once local mode has closed, never an earlier one.
 */
let stopping = false;

main(process.argv.slice(2)).then(
  (code) => {
    if (!stopping) process.exit(code);
  },
  (error: unknown) => {
    if (stopping) return;
    console.error(
      error instanceof ConfigError || error instanceof LocalModeBusyError || error instanceof PortInUseError
        ? error.message
        : error,
    );
    process.exit(1);
  },
);
