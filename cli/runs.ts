/**
 * The CLI's reads of runs: `stepline runs` (a table, newest first, paged through the byPipeline index), `stepline
 * run RUN` (one run whole: store/run-view.ts) and `stepline logs RUN` (a stage's build log, followed while the
 * stage runs). Each reads wherever the runs are (cli/run-store-access.ts): AWS, a running local mode, a stopped one.
 * `--json` prints the records as stored; text is coloured at a terminal only (cli/run-text.ts).
 */
import { projectName } from '../core/config/stepline-config';
import { SteplineError } from '../core/errors';
import type { ExecutionEvent } from '../core/runs/execution-history';
import {
  ACTIVE_RUN_STATUSES,
  type LogPointer,
  type RunRecord,
  type RunStatus,
  type StageRecord,
} from '../core/records';
import { forTerminal, plainText } from '../core/text';
import { listRunsNewestFirst } from '../store/run-listing';
import { readRunView } from '../store/run-view';
import { EXIT } from './args';
import { openRunStore, type RunStoreAccess } from './run-store-access';
import { paintFor, runsTable, runText } from './run-text';

/** How often `logs --follow` asks for more of the log, and whether the stage has ended. */
const FOLLOW_INTERVAL_MS = 1000;

export interface Where {
  readonly aws: boolean;
  readonly stateDir: string;
  readonly configFile: string;
}

export interface RunFilters {
  readonly pipeline?: string;
  readonly status?: RunStatus;
  readonly branch?: string;
  readonly limit: number;
}

/** A run that is not in the store. */
export class RunNotFoundError extends SteplineError {
  constructor(
    readonly runId: string,
    source: string,
  ) {
    super(`no run ${forTerminal.line(runId)} in ${source}`);
  }
}

/** Runs newest first, filtered, at most `limit`: one pipeline's pages, or every pipeline's merged. */
export async function findRuns(
  access: Pick<RunStoreAccess, 'store' | 'pipelines'>,
  filters: RunFilters,
): Promise<RunRecord[]> {
  const pipelines = filters.pipeline ? [filters.pipeline] : await access.pipelines();
  return listRunsNewestFirst(access.store, pipelines, filters, { limit: filters.limit });
}

/** `stepline runs`. */
export async function runsCommand(where: Where, filters: RunFilters, json: boolean): Promise<number> {
  return reading(where, async (access) => {
    const runs = await findRuns(access, filters);
    if (json) print(JSON.stringify(runs, null, 2));
    else if (!runs.length) print(`no runs in ${access.source}${filtersSaid(filters)}`);
    else runsTable(runs, paintFor(process.stdout)).forEach(print);
    return EXIT.ok;
  });
}

function filtersSaid(filters: RunFilters): string {
  const said = [
    filters.pipeline && `pipeline ${filters.pipeline}`,
    filters.status && `status ${filters.status}`,
    filters.branch !== undefined && `branch ${forTerminal.line(filters.branch)}`,
  ].filter(Boolean);
  return said.length ? ` for ${said.join(', ')}` : '';
}

/** `stepline run RUN`. */
export async function runCommand(where: Where, runId: string, json: boolean): Promise<number> {
  return reading(where, async (access) => {
    const view = await readRunView(access.store, runId);
    if (!view) throw new RunNotFoundError(runId, access.source);
    if (json) print(JSON.stringify(view, null, 2));
    else runText(view, paintFor(process.stdout)).forEach(print);
    return EXIT.ok;
  });
}

/** The stage `logs` shows when none is named: the first that failed, else the last that ran. */
export function defaultStage(run: RunRecord, stages: readonly StageRecord[]): StageRecord | undefined {
  const inOrder = run.stageNames
    .map((name) => stages.find((stage) => stage.name === name))
    .filter((stage): stage is StageRecord => stage !== undefined);
  const failed = inOrder.find((stage) => stage.status === 'FAILED');
  if (failed) return failed;
  const ran = inOrder.filter((stage) => stage.startedAt);
  return ran.sort((a, b) => Date.parse(a.startedAt!) - Date.parse(b.startedAt!)).at(-1);
}

/**
 * Where a stage's build log is: its record's, once the build ended; while it runs, the build its execution started
 * for the stage's project (the newest TaskSubmitted of `codebuild:startBuild.sync`, StartBuild's answer: the build's
 * id and log group; CodeBuild names the stream after the build id's UUID).
 */
export async function stageLog(
  access: Pick<RunStoreAccess, 'executionHistory'>,
  run: RunRecord,
  stage: StageRecord,
): Promise<Required<Pick<LogPointer, 'groupName' | 'streamName'>> | undefined> {
  const { groupName, streamName } = stage.logs ?? {};
  if (groupName && streamName) return { groupName, streamName };
  if (stage.status !== 'IN_PROGRESS' || !run.executionArn || !access.executionHistory) return undefined;
  const project = projectName(run.pipeline, stage.name);
  for await (const event of access.executionHistory(run.executionArn)) {
    const build = submittedBuild(event);
    if (build?.ProjectName !== project) continue;
    const group = build.Logs?.GroupName ?? build.Logs?.CloudWatchLogs?.GroupName;
    const stream = build.Logs?.StreamName ?? build.Id?.split(':')[1];
    return group && stream ? { groupName: group, streamName: stream } : undefined;
  }
  return undefined;
}

interface SubmittedBuild {
  readonly Id?: string;
  readonly ProjectName?: string;
  readonly Logs?: { GroupName?: string; StreamName?: string; CloudWatchLogs?: { GroupName?: string } };
}

function submittedBuild(event: ExecutionEvent): SubmittedBuild | undefined {
  const details = event.taskSubmittedEventDetails;
  if (event.type !== 'TaskSubmitted' || details?.resourceType !== 'codebuild' || !details.output) return undefined;
  try {
    return (JSON.parse(details.output) as { Build?: SubmittedBuild }).Build;
  } catch {
    return undefined;
  }
}

/** `stepline logs RUN`. */
export async function logsCommand(
  where: Where,
  options: { readonly runId: string; readonly stage?: string; readonly follow: boolean; readonly json: boolean },
): Promise<number> {
  return reading(where, async (access) => {
    const { runId } = options;
    const run = await access.store.getRun(runId);
    if (!run) throw new RunNotFoundError(runId, access.source);
    // A stopped local mode runs nothing: what its files hold is all there will be.
    const follow = options.follow && access.executionHistory !== undefined;
    const stages = await access.store.listStages(runId);
    const name = options.stage ?? defaultStage(run, stages)?.name;
    if (name === undefined || !(stages.some((s) => s.name === name) || (follow && run.stageNames.includes(name)))) {
      const named = name === undefined ? 'no stage has run yet' : `no stage ${forTerminal.line(name)}`;
      throw new LogNotFoundError(`run ${runId}: ${named} (stages: ${run.stageNames.join(', ')})`);
    }
    const show = (message: string) => {
      if (options.json) return;
      for (const line of plainText(message).replace(/\n$/, '').split('\n')) print(forTerminal.line(line));
    };
    let log: Awaited<ReturnType<typeof stageLog>>;
    let token: string | undefined;
    for (;;) {
      // The run and the stage as they were before this read: once either has ended, this read is the last.
      const now = (await access.store.getRun(runId)) ?? run;
      const stage = (await access.store.listStages(runId)).find((s) => s.name === name);
      if (stage) log ??= await stageLog(access, now, stage);
      if (log) token = await readOn(access, log, token, show, options.json);
      const going =
        ACTIVE_RUN_STATUSES.includes(now.status) && stage?.status !== 'SUCCEEDED' && stage?.status !== 'FAILED';
      if (!follow || !going) {
        if (log) return EXIT.ok;
        const state = stage?.status === 'IN_PROGRESS' ? 'is running, and its build is not known yet' : 'has no log';
        throw new LogNotFoundError(`run ${runId}: stage ${name} ${state}`);
      }
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_MS));
    }
  });
}

/** Reads the log from `token` to its current end, each event shown; returns where to read on from. */
async function readOn(
  access: Pick<RunStoreAccess, 'logEvents'>,
  log: { groupName: string; streamName: string },
  token: string | undefined,
  show: (message: string) => void,
  json: boolean,
): Promise<string | undefined> {
  for (;;) {
    const page = await access.logEvents({
      logGroupName: log.groupName,
      logStreamName: log.streamName,
      nextToken: token,
    });
    if (!page) return token;
    for (const event of page.events) {
      if (json) print(JSON.stringify(event));
      else show(event.message ?? '');
    }
    // GetLogEvents hands back the token it was given at the end of the stream.
    if (!page.nextForwardToken || page.nextForwardToken === token || !page.events.length)
      return page.nextForwardToken ?? token;
    token = page.nextForwardToken;
  }
}

/** A stage with no log to show. */
export class LogNotFoundError extends SteplineError {}

/** Opens the runs, reads, closes; a read that fails says why on stderr and exits 1. */
async function reading(where: Where, read: (access: RunStoreAccess) => Promise<number>): Promise<number> {
  let access: RunStoreAccess | undefined;
  try {
    access = await openRunStore({ aws: where.aws, stateDir: where.stateDir, configFile: where.configFile });
    return await read(access);
  } catch (error) {
    console.error(`stepline: ${(error as Error).message}`);
    return EXIT.failed;
  } finally {
    await access?.close();
  }
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}
