import type { BuildPhase, BuildPhaseType, PhaseContext, StatusType } from '@aws-sdk/client-codebuild';
import type { CommandPhaseName } from './buildspec';

export const PHASE_TYPES: Readonly<Record<CommandPhaseName, BuildPhaseType>> = {
  install: 'INSTALL',
  pre_build: 'PRE_BUILD',
  build: 'BUILD',
  post_build: 'POST_BUILD',
};

/**
 * Where a build goes after a phase fails under `on-failure: ABORT` (the default), per CodeBuild's
 * "Build phase transitions" (https://docs.aws.amazon.com/codebuild/latest/userguide/view-build-details-phases.html):
 * a failed INSTALL or PRE_BUILD skips to FINALIZING, a failed BUILD still runs POST_BUILD, and
 * UPLOAD_ARTIFACTS is attempted whenever BUILD ran.
 */
export function afterFailure(phase: CommandPhaseName): 'POST_BUILD' | 'UPLOAD_ARTIFACTS' | 'FINALIZING' {
  if (phase === 'build') return 'POST_BUILD';
  if (phase === 'post_build') return 'UPLOAD_ARTIFACTS';
  return 'FINALIZING';
}

/** Records phases as BatchGetBuilds reports them: start, end, whole seconds, contexts on failure. */
export class PhaseRecorder {
  readonly phases: BuildPhase[] = [];
  private current: { type: BuildPhaseType; startTime: Date } | undefined;

  constructor(private readonly now: () => Date) {}

  get currentType(): BuildPhaseType | undefined {
    return this.current?.type;
  }

  begin(type: BuildPhaseType): void {
    this.current = { type, startTime: this.now() };
  }

  end(status: StatusType, context?: PhaseContext): void {
    if (this.current === undefined) return;
    const endTime = this.now();
    this.phases.push({
      phaseType: this.current.type,
      phaseStatus: status,
      startTime: this.current.startTime,
      endTime,
      durationInSeconds: Math.round((endTime.getTime() - this.current.startTime.getTime()) / 1000),
      contexts: context ? [context] : [],
    });
    this.current = undefined;
  }

  /** A phase with no work locally (SUBMITTED, QUEUED, PROVISIONING, FINALIZING). */
  instant(type: BuildPhaseType): void {
    this.begin(type);
    this.end('SUCCEEDED');
  }

  /** COMPLETED only has a start, as on CodeBuild. */
  complete(): void {
    this.phases.push({ phaseType: 'COMPLETED', startTime: this.now() });
  }
}
