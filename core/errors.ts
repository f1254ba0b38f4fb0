/**
 * stepline's domain errors: the base class every area's errors extend, and the failures of runs, the
 * run store, the pipeline catalog and the requests that reach them. Each area keeps its own in its
 * folder's `errors.ts`: `sources/`, `approval/`, `deployment/`, `notification/`, `config/`; the CDK
 * app's are in `lib/errors.ts`.
 */
import { pipelineStackName } from './platform';
import type { RunRecord } from './records';

/**
 * Base class of stepline's domain errors. `name` is the class's name, which Lambda reports as the errorType and
 * Step Functions' Retry/Catch and the HTTP answers match (the bundles keep class names: lib/platform-function.ts);
 * a class whose error must carry another name declares it as its static `name`. `cause` is passed through.
 */
export class SteplineError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A run with this id was created before: a duplicate delivery of the event that started it. */
export class RunAlreadyExistsError extends SteplineError {
  constructor(
    readonly existing: RunRecord,
    options?: ErrorOptions,
  ) {
    super(`run ${existing.runId} already exists (status ${existing.status})`, options);
  }
}

export class RunNotFoundError extends SteplineError {
  constructor(
    readonly runId: string,
    options?: ErrorOptions,
  ) {
    super(`run ${runId} does not exist`, options);
  }
}

/** A status change the record's current status does not allow: records only move forward. */
export class InvalidTransitionError extends SteplineError {
  constructor(
    readonly item: string,
    readonly from: string | undefined,
    readonly to: string,
    options?: ErrorOptions,
  ) {
    super(`${item} cannot move from ${from ?? 'nothing'} to ${to}`, options);
  }
}

/** A run request named a pipeline this deployment does not know. */
export class UnknownPipelineError extends SteplineError {
  constructor(
    readonly pipeline: string,
    options?: ErrorOptions,
  ) {
    super(
      `unknown pipeline "${pipeline}": the catalog has no entry for it; is it declared in stepline.config.ts and its stack (${pipelineStackName(pipeline)}) deployed?`,
      options,
    );
  }
}

/** The commit a push names is not in its repository (a force-push removed it, or the event is stale). */
export class CommitNotFoundError extends SteplineError {
  constructor(
    readonly repository: string,
    readonly commitId: string,
    options?: ErrorOptions,
  ) {
    super(`commit ${commitId} does not exist in repository ${repository}`, options);
  }
}

/** A repository, or a branch of it, that does not exist (CodeCommit GetBranch). */
export class BranchNotFoundError extends SteplineError {
  constructor(
    readonly repository: string,
    readonly branch: string,
    /** What is missing: the branch, or the repository itself. */
    readonly missing: 'branch' | 'repository',
    options?: ErrorOptions,
  ) {
    super(
      missing === 'repository'
        ? `repository ${repository} does not exist`
        : `branch ${branch} does not exist in repository ${repository}`,
      options,
    );
  }
}

/** A pipeline's catalog entry exists but cannot be read as one (edited by hand, or from another version). */
export class InvalidCatalogEntryError extends SteplineError {
  constructor(
    readonly pipeline: string,
    readonly location: string,
    options?: ErrorOptions,
  ) {
    const reason = options?.cause instanceof Error ? ` (${options.cause.message})` : '';
    super(
      `the catalog entry of pipeline "${pipeline}" at ${location} is not valid${reason}; redeploy its stack`,
      options,
    );
  }
}

/** An event or request that does not have the shape it must have. */
export class InvalidRequestError extends SteplineError {
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
    options?: ErrorOptions,
  ) {
    super(problems.length ? `${message}: ${problems.join('; ')}` : message, options);
  }
}

/** EventBridge refused some events put on the platform's bus (PutEvents answered with failed entries). */
export class BusEventsRefusedError extends SteplineError {
  constructor(
    readonly detailType: string,
    readonly failures: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`the platform's bus refused ${failures.length} ${detailType} event(s): ${failures.join('; ')}`, options);
  }
}

/** CodeBuild answers nothing for a build id (a run names a build that is not, or no longer, there). */
export class BuildNotFoundError extends SteplineError {
  constructor(
    readonly buildId: string,
    options?: ErrorOptions,
  ) {
    super(`CodeBuild does not know build ${buildId}`, options);
  }
}
