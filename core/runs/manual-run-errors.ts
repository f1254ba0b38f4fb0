/**
 * Why a run asked for by hand (`stepline rerun`, `stepline release`; core/runs/manual-runs.ts) was not
 * started. Each names what the caller can do about it; the handler answers each with its own status.
 */
import { SteplineError } from '../errors';
import type { RunStatus } from '../records';

/** The base of every refusal of a run asked for by hand. */
export class ManualRunError extends SteplineError {}

/** `rerun RUN` of a run the store does not have. */
export class RunToRerunNotFoundError extends ManualRunError {
  constructor(
    readonly runId: string,
    options?: ErrorOptions,
  ) {
    super(`run ${runId} does not exist: \`stepline runs\` lists the runs`, options);
  }
}

/** `rerun RUN` of a run that has not ended: a re-run is of a finished run. */
export class RunNotEndedError extends ManualRunError {
  constructor(
    readonly runId: string,
    readonly status: RunStatus,
    options?: ErrorOptions,
  ) {
    super(
      `run ${runId} is ${status}: only a run that has ended can be re-run (wait for it, or \`stepline cancel ${runId}\`)`,
      options,
    );
  }
}

/** A pipeline the catalog has no entry for: not declared, or its stack not deployed. */
export class PipelineNotDeployedError extends ManualRunError {
  constructor(
    readonly pipeline: string,
    options?: ErrorOptions,
  ) {
    super(
      `unknown pipeline "${pipeline}": no pipeline of that name is deployed (is it in stepline.config.ts, and its stack deployed?)`,
      options,
    );
  }
}

/** `release --commit SHA` of a commit the pipeline's repository does not have (or stepline cannot see). */
export class ReleaseCommitNotFoundError extends ManualRunError {
  constructor(
    readonly pipeline: string,
    readonly repository: string,
    readonly commitId: string,
    why: string,
    options?: ErrorOptions,
  ) {
    super(`commit ${commitId} cannot be released by ${pipeline}: ${why}`, options);
  }
}

/** `release` without `--commit` when the branch head cannot be read. */
export class BranchHeadUnknownError extends ManualRunError {
  constructor(
    readonly pipeline: string,
    why: string,
    options?: ErrorOptions,
  ) {
    super(`cannot release ${pipeline} without --commit: ${why}`, options);
  }
}
