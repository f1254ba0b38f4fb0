/**
 * What became of a run's change, in one line, from its records: released, rolled back (and why),
 * rejected at its release gate (by whom, why), expired there, or never released (where it stopped).
 */
import type { DeploymentRecord } from '../core/records';
import type { ApprovalRecord, RunRecord } from '../core/records';

export type ReleaseOutcomeKind = 'released' | 'rolled-back' | 'rejected' | 'expired' | 'not-released' | 'skipped';

export interface ReleaseOutcome {
  readonly kind: ReleaseOutcomeKind;
  /** What happened, to follow "the change was …". */
  readonly text: string;
}

/** The outcome of an ended run; `deployment` and `gate` are its records, when it has them. */
export function releaseOutcome(run: RunRecord, gate?: ApprovalRecord, deployment?: DeploymentRecord): ReleaseOutcome {
  if (run.status === 'SKIPPED') return { kind: 'skipped', text: `skipped: ${run.skipReason ?? 'by its filters'}` };
  if (gate?.status === 'REJECTED')
    return {
      kind: 'rejected',
      text: `rejected at its release gate (${gate.outcome ?? 'rejected'}); nothing was released`,
    };
  if (gate?.status === 'EXPIRED')
    return {
      kind: 'expired',
      text: `not released: its release gate expired (${gate.outcome ?? `nobody decided by ${gate.deadline}`})`,
    };
  switch (deployment?.status) {
    case 'ROLLED_BACK':
      return { kind: 'rolled-back', text: `rolled back: ${deployment.outcome ?? 'its deployment was rolled back'}` };
    case 'SUCCEEDED':
      return { kind: 'released', text: `released: ${deployment.outcome ?? `version ${deployment.toVersion}`}` };
    case 'REFUSED':
      return { kind: 'not-released', text: `not released: its deployment was ${deployment.outcome ?? 'refused'}` };
  }
  if (run.status === 'SUCCEEDED')
    return {
      kind: 'released',
      text: gate ? `released: ${gate.outcome ?? 'approved'} at its release gate` : 'released: its run succeeded',
    };
  const where = run.failure?.stage ? ` at stage ${run.failure.stage}` : '';
  return {
    kind: 'not-released',
    text: `not released: its run ended ${run.status}${where}${run.failure ? ` (${run.failure.error})` : ''}`,
  };
}
