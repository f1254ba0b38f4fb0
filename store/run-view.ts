/**
 * What one run is, read whole: the run, its stages in plan order, its release gate with decisions and audit
 * trail, and its deployment. The CLI's `stepline run`, the console's run page and the metrics read it; each reads
 * one run's partition through the store's own reads, so nothing here knows a key.
 */
import type {
  ApprovalDecision,
  ApprovalRecord,
  AuditEvent,
  DeploymentRecord,
  RunRecord,
  StageRecord,
} from '../core/records';
import type { RunStore } from './run-store';

export interface RunView {
  readonly run: RunRecord;
  /** In the run's plan order (`stageNames`); a stage not yet recorded is absent. */
  readonly stages: readonly StageRecord[];
  readonly approval?: ApprovalRecord;
  readonly decisions: readonly ApprovalDecision[];
  readonly audit: readonly AuditEvent[];
  readonly deployment?: DeploymentRecord;
}

/** The run and everything recorded of it; undefined when no such run exists. */
export async function readRunView(store: RunStore, runId: string): Promise<RunView | undefined> {
  const run = await store.getRun(runId);
  if (!run) return undefined;
  const [stages, approval, decisions, audit, deployment] = await Promise.all([
    store.listStages(runId),
    store.getApproval(runId),
    store.listDecisions(runId),
    store.listAudit(runId),
    store.getDeployment(runId),
  ]);
  const order = (stage: StageRecord) => {
    const at = run.stageNames.indexOf(stage.name);
    return at === -1 ? run.stageNames.length : at;
  };
  return {
    run,
    stages: [...stages].sort((a, b) => order(a) - order(b)),
    ...(approval ? { approval } : {}),
    decisions,
    audit,
    ...(deployment ? { deployment } : {}),
  };
}
