/**
 * Runs started by hand: `stepline rerun RUN` (a new run of RUN's pipeline and commit) and `stepline release
 * PIPELINE [--commit SHA]` (CodePipeline's "Release change": the commit given, else the head of the
 * pipeline's branch). Neither starts anything itself: each puts one SourceChanged event with trigger kind
 * `manual` and a fresh delivery id on the platform's bus, the one path every run takes, so the run starter
 * names it (a new run id), puts it in its pipeline's lane and starts it as any push's run; it does not judge
 * it by the pipeline's filters (core/runs/start-run.ts). The person who asked is recorded as `pushedBy`.
 */
import { CommitNotFoundError, BranchNotFoundError } from '../errors';
import type {
  BranchHeads,
  Clock,
  CommitReader,
  PipelineCatalog,
  RunHistory,
  RunRepository,
  SourceEventPublisher,
} from '../ports';
import { ACTIVE_RUN_STATUSES, type RunRecord, type RunStatus, type SourceChanged } from '../records';
import { SOURCE_CHANGED_LIMITS } from '../schemas';
import type { PipelineCatalogEntry } from '../catalog';
import {
  BranchHeadUnknownError,
  PipelineNotDeployedError,
  ReleaseCommitNotFoundError,
  RunNotEndedError,
  RunToRerunNotFoundError,
} from './errors';
import { executionName } from './naming';

export interface ManualRunDeps {
  readonly runs: Pick<RunRepository, 'getRun'>;
  readonly history: Pick<RunHistory, 'listRuns'>;
  readonly catalog: PipelineCatalog;
  readonly commits: Pick<CommitReader, 'getCommit'>;
  readonly branches: BranchHeads;
  readonly publisher: SourceEventPublisher;
  /** A new delivery id per request (a UUID): it names the run, so each request is a new run. */
  readonly deliveryId: () => string;
  readonly now: Clock;
  /** Waits `ms` (the edge's timer): between looks at the store for the run the starter records. */
  readonly sleep: (ms: number) => Promise<void>;
}

/** What a request by hand started. */
export interface ManualRunStarted {
  readonly runId: string;
  readonly pipeline: string;
  readonly commitId: string;
  readonly branch: string;
  /** The run's status when the starter had recorded it within the wait (QUEUED: it waits in its lane). */
  readonly status?: RunStatus;
}

/**
 * How long to look for the run the starter records before answering without its status: the starter is
 * invoked asynchronously by the run rule; the HTTP API answers 503 after 30 s.
 */
const RECORD_WAIT = { tries: 20, everyMs: 250 } as const;

/**
 * How many of a GitHub pipeline's newest runs are searched for a commit to release: stepline reads no
 * GitHub repository itself, so a GitHub commit is one a run of the pipeline has recorded.
 */
const GITHUB_COMMIT_SEARCH = { pages: 10, pageSize: 100 } as const;

/** `stepline rerun RUN`: a new run of the same pipeline and commit, recorded as a re-run of RUN by `by`. */
export async function rerun(runId: string, by: string, deps: ManualRunDeps): Promise<ManualRunStarted> {
  const run = await deps.runs.getRun(runId);
  if (!run) throw new RunToRerunNotFoundError(runId);
  if (ACTIVE_RUN_STATUSES.includes(run.status)) throw new RunNotEndedError(runId, run.status);
  if (!(await deps.catalog.lookup(run.pipeline))) throw new PipelineNotDeployedError(run.pipeline);
  return startByHand(fromRecord(run), { by, rerunOf: runId }, deps);
}

/**
 * `stepline release PIPELINE [--commit SHA]`: a run of `commitId`, else of the head of the pipeline's branch.
 * A CodeCommit pipeline's commit is read from CodeCommit (GetBranch, GetCommit); a GitHub pipeline's must be
 * given, and be one a run of the pipeline recorded (see GITHUB_COMMIT_SEARCH).
 */
export async function release(
  pipeline: string,
  commitId: string | undefined,
  by: string,
  deps: ManualRunDeps,
): Promise<ManualRunStarted> {
  const entry = await deps.catalog.lookup(pipeline);
  if (!entry) throw new PipelineNotDeployedError(pipeline);
  const commit =
    entry.source.kind === 'codecommit'
      ? await codeCommitCommit(pipeline, entry, commitId, deps)
      : await recordedCommit(pipeline, entry, commitId, deps);
  return startByHand(commit, { by }, deps);
}

/** What a run by hand runs: a commit of the pipeline's repository, with what is known of it. */
type CommitToRun = Omit<SourceChanged, 'trigger'>;

async function startByHand(
  commit: CommitToRun,
  asked: { readonly by: string; readonly rerunOf?: string },
  deps: ManualRunDeps,
): Promise<ManualRunStarted> {
  const deliveryId = deps.deliveryId();
  const event: SourceChanged = {
    ...commit,
    trigger: {
      kind: 'manual',
      deliveryId,
      eventTime: deps.now().toISOString(),
      pushedBy: asked.by,
      ...(asked.rerunOf ? { rerunOf: asked.rerunOf } : {}),
    },
  };
  await deps.publisher.publish([event]);
  const runId = executionName(commit.pipeline, commit.commitId, deliveryId);
  const started = { runId, pipeline: commit.pipeline, commitId: commit.commitId, branch: commit.branch };
  for (let look = 0; look < RECORD_WAIT.tries; look++) {
    const recorded = await deps.runs.getRun(runId);
    if (recorded) return { ...started, status: recorded.status };
    await deps.sleep(RECORD_WAIT.everyMs);
  }
  return started;
}

/** A recorded run's commit, with what its record knows of it (author, message, time, changed files). */
function fromRecord(run: RunRecord): CommitToRun {
  const { commit } = run;
  return {
    pipeline: run.pipeline,
    repository: commit.repository,
    branch: commit.branch,
    referenceType: 'branch',
    commitId: commit.id,
    ...(commit.author ? { author: commit.author } : {}),
    ...(commit.message !== undefined ? { message: commit.message.slice(0, SOURCE_CHANGED_LIMITS.message) } : {}),
    ...(commit.committedAt ? { committedAt: commit.committedAt } : {}),
    // Carried when they fit an event (a list read from CodeCommit may be longer); absent is "not known".
    ...(run.changedFiles && fitsEvent(run.changedFiles) ? { changedFiles: run.changedFiles } : {}),
  };
}

function fitsEvent(files: readonly string[]): boolean {
  const limits = SOURCE_CHANGED_LIMITS;
  return (
    files.length <= limits.changedFiles &&
    files.every((file) => file.length <= limits.path) &&
    files.reduce((sum, file) => sum + file.length, 0) <= limits.changedFilesCharacters
  );
}

async function codeCommitCommit(
  pipeline: string,
  entry: PipelineCatalogEntry,
  commitId: string | undefined,
  deps: ManualRunDeps,
): Promise<CommitToRun> {
  const { repository, branch } = entry.source;
  if (!branch) throw new BranchHeadUnknownError(pipeline, 'its catalog entry names no branch (deploy it again)');
  let id = commitId;
  if (id === undefined) {
    try {
      id = await deps.branches.head(repository, branch);
    } catch (error) {
      if (error instanceof BranchNotFoundError)
        throw new BranchHeadUnknownError(pipeline, error.message, { cause: error });
      throw error;
    }
  }
  try {
    // Proves the commit is in the repository; the starter reads its author, message and time again.
    await deps.commits.getCommit(repository, id);
  } catch (error) {
    if (error instanceof CommitNotFoundError)
      throw new ReleaseCommitNotFoundError(pipeline, repository, id, `${repository} has no such commit`, {
        cause: error,
      });
    throw error;
  }
  return { pipeline, repository, branch, referenceType: 'branch', commitId: id };
}

/**
 * A GitHub pipeline's commit, from the pipeline's own recorded runs. stepline holds no token that reads a
 * GitHub repository: the build reads it through the CodeConnections connection, which only CodeBuild uses,
 * and `githubStatuses`' token (when a pipeline has one) needs only "Commit statuses: write", which reads no
 * branch, and is the notifier's secret alone. So the branch head cannot be asked for, and a commit given is
 * one a run of the pipeline recorded (its branch and what the push said of it); another is refused.
 */
async function recordedCommit(
  pipeline: string,
  entry: PipelineCatalogEntry,
  commitId: string | undefined,
  deps: ManualRunDeps,
): Promise<CommitToRun> {
  if (commitId === undefined)
    throw new BranchHeadUnknownError(
      pipeline,
      `stepline cannot read the head of a GitHub branch (${entry.source.repository}): it holds no token that reads the repository; give --commit SHA (a commit a run of ${pipeline} recorded), or push`,
    );
  let cursor: string | undefined;
  for (let page = 0; page < GITHUB_COMMIT_SEARCH.pages; page++) {
    const runs = await deps.history.listRuns(pipeline, {
      limit: GITHUB_COMMIT_SEARCH.pageSize,
      ...(cursor ? { cursor } : {}),
    });
    const run = runs.items.find((r) => r.commit.id === commitId);
    if (run) return fromRecord(run);
    cursor = runs.cursor;
    if (!cursor) break;
  }
  throw new ReleaseCommitNotFoundError(
    pipeline,
    entry.source.repository,
    commitId,
    `no run of ${pipeline} among its last ${GITHUB_COMMIT_SEARCH.pages * GITHUB_COMMIT_SEARCH.pageSize} recorded it, and stepline cannot read GitHub to look it up; push it to ${entry.source.repository}`,
  );
}
