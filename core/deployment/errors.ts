/**
 * The failures of a release to Lambda (core/deployment/protocol.ts and the deploy function): a deployment that stopped
 * moving, Lambda's refusals, an operator's control refused, what a deployment needs and does not find.
 */
import type { DeploymentRecord, Intervention } from '../records';
import { SteplineError } from '../errors';

/** The deployment stopped moving traffic: rolled back, refused, or already done. */
export class DeploymentHaltedError extends SteplineError {
  constructor(
    readonly deployment: DeploymentRecord,
    options?: ErrorOptions,
  ) {
    super(
      `deployment of ${deployment.function}:${deployment.alias} is ${deployment.status}${deployment.outcome ? `: ${deployment.outcome}` : ''}`,
      options,
    );
  }
}

/** Lambda ended an update of the function's code Failed, with its reason: the function keeps its previous code. */
export class FunctionUpdateFailedError extends SteplineError {
  constructor(
    readonly fn: string,
    readonly reasonCode: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`Lambda could not update the code of ${fn} (${reasonCode}): ${reason}`, options);
  }
}

/** Lambda's update of the function's code was still in progress when the deployment stopped waiting. */
export class FunctionUpdateTimedOutError extends SteplineError {
  constructor(
    readonly fn: string,
    readonly waitedMs: number,
    options?: ErrorOptions,
  ) {
    super(`the update of ${fn}'s code was still in progress after ${Math.round(waitedMs / 1000)} s`, options);
  }
}

/** An operator's control refused: the deployment is not in a state that allows it. */
export class ControlRefusedError extends SteplineError {
  constructor(
    readonly action: Intervention['action'],
    readonly deployment: DeploymentRecord,
    options?: ErrorOptions,
  ) {
    super(
      `cannot ${action} the deployment of ${deployment.function}:${deployment.alias} (run ${deployment.runId}): it is ${deployment.status}${
        action === 'resume'
          ? '; only a PAUSED deployment resumes'
          : action === 'pause'
            ? '; only an IN_PROGRESS deployment pauses'
            : ''
      }`,
      options,
    );
  }
}

/** A staging deployment's smoke check failed: the release stops before its gate. */
export class StagingFailedError extends SteplineError {}

/** Alarms a deployment watches do not exist (in CloudWatch, or in local mode's alarms). */
export class UnknownAlarmsError extends SteplineError {
  constructor(
    readonly names: readonly string[],
    options?: ErrorOptions,
  ) {
    super(
      `no such alarm${names.length === 1 ? '' : 's'}: ${names.join(', ')}; ` +
        'a deployment does not run without the alarms that guard it',
      options,
    );
  }
}

/** A deployment step or control names a run that has no deployment (none started, or another run's id). */
export class DeploymentNotFoundError extends SteplineError {
  constructor(
    readonly runId: string,
    options?: ErrorOptions,
  ) {
    super(`run ${runId} has no deployment`, options);
  }
}

/** A traffic shift names a step the deployment does not have, or comes before the new version was published. */
export class DeploymentStepNotFoundError extends SteplineError {
  constructor(
    readonly runId: string,
    readonly step: number,
    options?: ErrorOptions,
  ) {
    super(`deployment ${runId} has no step ${step} or no new version`, options);
  }
}

/** A deployment was asked for a run whose pipeline's catalog entry has no deploy target. */
export class DeployTargetNotFoundError extends SteplineError {
  constructor(
    readonly runId: string,
    options?: ErrorOptions,
  ) {
    super(`run ${runId} has no deploy target`, options);
  }
}

/**
 * A release of a pipeline whose catalog entry has no deploy target: where its deploy role lives (which
 * account and Region) is unknown.
 */
export class PipelineTargetUnknownError extends SteplineError {
  constructor(
    readonly pipeline: string,
    options?: ErrorOptions,
  ) {
    super(`pipeline ${pipeline} has no deploy target in its catalog entry: its deploy role cannot be named`, options);
  }
}

/** A staging deployment was asked for a pipeline whose deploy target has no staging. */
export class StagingTargetNotFoundError extends SteplineError {
  constructor(
    readonly pipeline: string,
    options?: ErrorOptions,
  ) {
    super(`pipeline ${pipeline} has no staging target`, options);
  }
}

/** The build to release produced no artifact: there is nothing to deploy. */
export class BuildArtifactMissingError extends SteplineError {
  constructor(
    readonly buildId: string,
    options?: ErrorOptions,
  ) {
    super(`build ${buildId} has no artifact to deploy`, options);
  }
}

/** STS's caller identity of the deploy function has no partition or account: its deploy roles cannot be named. */
export class CallerIdentityUnreadableError extends SteplineError {
  constructor(
    readonly arn: string | undefined,
    options?: ErrorOptions,
  ) {
    super(`cannot read the account from the caller identity ${arn}`, options);
  }
}

/** STS assumed a pipeline's deploy role but answered no usable credentials. */
export class DeployRoleCredentialsMissingError extends SteplineError {
  constructor(
    readonly pipeline: string,
    options?: ErrorOptions,
  ) {
    super(`STS returned no credentials for the deploy role of pipeline "${pipeline}"`, options);
  }
}

/** The deploy function failed an operator's control with an error other than a refusal. */
export class DeployFunctionFailedError extends SteplineError {
  constructor(
    readonly errorType: string | undefined,
    readonly errorMessage: string | undefined,
    options?: ErrorOptions,
  ) {
    super(`the deploy function failed: ${errorType}: ${errorMessage}`, options);
  }
}

/**
 * A release into a Region other than the artifact bucket's uploads the artifact's bytes, and Lambda takes at most
 * `limitBytes` that way: the release stops before the function is touched.
 */
export class ArtifactTooLargeForUploadError extends SteplineError {
  constructor(
    readonly fn: string,
    readonly artifact: string,
    readonly sizeBytes: number,
    readonly limitBytes: number,
    readonly functionRegion: string,
    readonly bucketRegion: string,
    options?: ErrorOptions,
  ) {
    super(
      `the artifact ${artifact} is ${sizeBytes} bytes, and ${fn} is in ${functionRegion}, not in the artifact bucket's Region ${bucketRegion}: ` +
        `Lambda takes code from an S3 bucket only in the function's own Region, and an uploaded zip of at most ${limitBytes} bytes; ` +
        `release within ${bucketRegion}, or keep the artifact under ${limitBytes} bytes`,
      options,
    );
  }
}

/** S3 answered a GetObject of the artifact without a size or without a body. */
export class ArtifactUnreadableError extends SteplineError {
  constructor(
    readonly artifact: string,
    options?: ErrorOptions,
  ) {
    super(`S3 answered no size or no body for the artifact ${artifact}`, options);
  }
}
