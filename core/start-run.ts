/**
 * The run starter: a source event's run request becomes one run record and one execution, named so
 * that a redelivered event finds the run it already started instead of starting another.
 */
import { RunAlreadyExistsError, UnknownPipelineError } from './errors';
import { executionName } from './naming';
import type { Clock, CommitReader, ExecutionStarter, PipelineCatalog, RunRepository } from './ports';
import type { RunInput, RunRecord, RunRequest } from './records';

export interface StartRunDeps {
  readonly catalog: PipelineCatalog;
  readonly runs: RunRepository;
  readonly commits: CommitReader;
  readonly executions: ExecutionStarter;
  readonly now: Clock;
}

export interface StartRunResult {
  readonly runId: string;
  readonly executionArn: string;
  /** True when this request was a duplicate of one that had started the run already. */
  readonly duplicate: boolean;
}

export async function startRun(request: RunRequest, deps: StartRunDeps): Promise<StartRunResult> {
  const pipeline = await deps.catalog.lookup(request.pipeline);
  if (!pipeline) throw new UnknownPipelineError(request.pipeline);
  const runId = executionName(request.pipeline, request.commitId, request.trigger.eventId);
  const input: RunInput = {
    runId,
    pipeline: request.pipeline,
    commit: { repository: request.repository, branch: request.branch, id: request.commitId },
    stages: pipeline.stages,
  };

  let duplicate = false;
  try {
    const { author, message } = await deps.commits.getCommit(request.repository, request.commitId);
    await deps.runs.createRun({
      runId,
      pipeline: request.pipeline,
      status: 'QUEUED',
      commit: { ...input.commit, author, message },
      trigger: request.trigger,
      executionName: runId,
      stageNames: [pipeline.stages.build.name, ...pipeline.stages.tests.map((s) => s.name)],
      createdAt: deps.now().toISOString(),
    } satisfies RunRecord);
  } catch (error) {
    if (!(error instanceof RunAlreadyExistsError)) throw error;
    duplicate = true;
  }
  // Starting again after a duplicate is safe (same name, same input) and completes a start that a
  // crash interrupted between the record and the execution.
  const started = await deps.executions.start({ stateMachineArn: pipeline.stateMachineArn, name: runId, input });
  return { runId, executionArn: started.executionArn, duplicate: duplicate || started.alreadyStarted };
}
