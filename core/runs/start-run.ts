/**
 * The run starter: a SourceChanged event becomes one run record and one execution, named so
 * that a redelivered event finds the run it already started instead of starting another. A request
 * that cannot run — its pipeline is not deployed, its commit does not exist — is recorded as a FAILED
 * run with the reason, never dropped: the push happened, and the store says why nothing ran. A run started
 * by hand (trigger `manual`: `stepline release`, `stepline rerun`, core/runs/manual-runs.ts) is not judged by
 * the pipeline's filters, as CodePipeline's "Release change" runs whatever changed.
 */
import { SOURCE_CHANGED_LIMITS } from '../schemas';
import { CommitNotFoundError, RunAlreadyExistsError, SteplineError, UnknownPipelineError } from '../errors';
import { pathSkipReason, skipReason } from '../sources/filters';
import { executionName } from './naming';
import type { Clock, CommitReader, ExecutionStarter, PipelineCatalog, RunLanes, RunRepository } from '../ports';
import { admitRun, laneOrder } from './run-lanes';
import type { Failure, Person, RunInput, RunRecord, SourceChanged } from '../records';

export interface StartRunDeps {
  readonly catalog: PipelineCatalog;
  readonly runs: RunRepository;
  readonly lanes: RunLanes;
  readonly commits: CommitReader;
  readonly executions: ExecutionStarter;
  readonly now: Clock;
}

export interface StartRunResult {
  readonly runId: string;
  /** The run's execution; absent for a run that did not start (refused, skipped, queued or a duplicate of one that moved on). */
  readonly executionArn?: string;
  /** True when the run waits for its turn (QUEUED and SUPERSEDED pipelines): it starts when the runs before it end. */
  readonly queued?: boolean;
  /** True when this request was a duplicate of one that had started (or refused) the run already. */
  readonly duplicate: boolean;
  /** Why the run could not start: it was recorded FAILED with this failure. */
  readonly refused?: Failure;
  /** Why the pipeline's filters dropped the push: it was recorded SKIPPED. */
  readonly skipped?: string;
}

export async function startRun(request: SourceChanged, deps: StartRunDeps): Promise<StartRunResult> {
  const runId = executionName(request.pipeline, request.commitId, request.trigger.deliveryId);
  const commit = { repository: request.repository, branch: request.branch, id: request.commitId };
  const run = {
    runId,
    pipeline: request.pipeline,
    commit,
    trigger: request.trigger,
    executionName: runId,
    createdAt: deps.now().toISOString(),
  };
  const pipeline = await deps.catalog.lookup(request.pipeline);
  if (!pipeline) return refuse(run, new UnknownPipelineError(request.pipeline), deps);
  const byHand = request.trigger.kind === 'manual';
  const push = { referenceType: request.referenceType, reference: request.branch };
  const refSkip = byHand ? undefined : skipReason(push, { ...pipeline.filters, skipMarkers: [] });
  if (refSkip) return skip(run, refSkip, deps);
  // A GitHub push carries its commit's author, message and files; CodeCommit's event does not, so
  // they are read from CodeCommit, which also proves the commit exists (a run by hand: its pipeline's source).
  const fromCodeCommit = byHand ? pipeline.source.kind === 'codecommit' : request.trigger.kind === 'codecommit';
  // Path filters and the release gate judge the changed files: read them when the push did not list them.
  const readFiles =
    request.changedFiles === undefined && fromCodeCommit && ((pipeline.filters.paths && !byHand) || pipeline.approval);
  // With the branch's previous commit known, they are read alongside the commit instead of after it.
  const filesAlongside =
    readFiles && request.parentCommitId !== undefined
      ? deps.commits.changedFiles(request.repository, request.parentCommitId, request.commitId)
      : undefined;
  // Awaited below unless the commit's own read ends the request first (its error is the one that counts).
  filesAlongside?.catch(() => undefined);
  let details: { author?: Person; message?: string; parents?: string[]; committedAt?: string } = {
    author: request.author,
    message: request.message,
    committedAt: request.committedAt,
  };
  if (fromCodeCommit) {
    try {
      details = await deps.commits.getCommit(request.repository, request.commitId);
    } catch (error) {
      if (error instanceof CommitNotFoundError) return refuse(run, error, deps);
      throw error;
    }
  }
  const { parents, ...described } = details;
  const markerSkip = byHand ? undefined : skipReason({ ...push, message: details.message }, pipeline.filters);
  if (markerSkip) return skip({ ...run, commit: { ...commit, ...described } }, markerSkip, deps);
  let changedFiles = request.changedFiles;
  if (readFiles) {
    // A root commit (no parent) changes every file it has: compared with nothing.
    changedFiles = await (filesAlongside ??
      deps.commits.changedFiles(request.repository, parents?.[0], request.commitId));
  }
  if (pipeline.filters.paths && !byHand) {
    const pathSkip = pathSkipReason(changedFiles, pipeline.filters);
    if (pathSkip) return skip({ ...run, commit: { ...commit, ...described } }, pathSkip, deps);
  }
  const input: RunInput = {
    runId,
    pipeline: request.pipeline,
    commit,
    stages: pipeline.stages,
    // The state machine's "Does the run deploy?" reads it.
    ...(pipeline.deploy ? { deploy: true as const } : {}),
    ...(pipeline.deploy?.staging ? { staging: true as const } : {}),
  };

  let existing: RunRecord | undefined;
  try {
    await deps.runs.createRun({
      ...run,
      status: 'QUEUED',
      commit: { ...commit, ...described },
      stageNames: [pipeline.stages.build.name, ...pipeline.stages.tests.map((s) => s.name)],
      // Kept when it fits a run record; a longer list is "not known" to the gate (judged high).
      ...(changedFiles && changedFiles.length <= SOURCE_CHANGED_LIMITS.changedFiles ? { changedFiles } : {}),
    } satisfies RunRecord);
  } catch (error) {
    if (!(error instanceof RunAlreadyExistsError)) throw error;
    existing = error.existing;
  }
  // A duplicate of a run that has moved on changes nothing. One still QUEUED is admitted again: that
  // is safe (same name, same input, the lane's writes are idempotent) and completes an admission a
  // crash interrupted between the record and the execution.
  if (existing && existing.status !== 'QUEUED') {
    return { runId, duplicate: true, ...(existing.executionArn ? { executionArn: existing.executionArn } : {}) };
  }
  const waiting = {
    pipeline: request.pipeline,
    runId,
    order: laneOrder(request.trigger.eventTime, existing?.createdAt ?? run.createdAt, runId),
    stateMachineArn: pipeline.stateMachineArn,
    input,
  };
  const { started } = await admitRun(waiting, pipeline.executionMode, deps);
  const duplicate = existing !== undefined || (started?.alreadyStarted ?? false);
  return started ? { runId, executionArn: started.executionArn, duplicate } : { runId, duplicate, queued: true };
}

/** How a run that never starts ends: SKIPPED by the pipeline's filters, or FAILED with the reason it cannot run. */
type Unstarted = { readonly skipReason: string } | { readonly failure: Failure };

/**
 * Records a run that never starts — SKIPPED with the filter's reason, or FAILED with the failure —
 * ended as it is created; a redelivery of the same push finds that record.
 */
async function endUnstarted(
  run: Omit<RunRecord, 'status' | 'stageNames'>,
  ending: Unstarted,
  deps: StartRunDeps,
): Promise<StartRunResult> {
  const status = 'skipReason' in ending ? 'SKIPPED' : 'FAILED';
  const outcome = (record: Pick<RunRecord, 'skipReason' | 'failure'>) =>
    'skipReason' in ending
      ? { skipped: record.skipReason ?? ending.skipReason }
      : { refused: record.failure ?? ending.failure };
  try {
    await deps.runs.createRun({ ...run, status, stageNames: [], endedAt: run.createdAt, ...ending });
    return { runId: run.runId, duplicate: false, ...outcome(ending) };
  } catch (error) {
    if (!(error instanceof RunAlreadyExistsError)) throw error;
    return { runId: run.runId, duplicate: true, ...outcome(error.existing) };
  }
}

const skip = (run: Omit<RunRecord, 'status' | 'stageNames'>, reason: string, deps: StartRunDeps) =>
  endUnstarted(run, { skipReason: reason }, deps);

const refuse = (run: Omit<RunRecord, 'status' | 'stageNames'>, reason: SteplineError, deps: StartRunDeps) =>
  endUnstarted(run, { failure: { error: reason.name, cause: reason.message } }, deps);
