/**
 * `stepline approvals | approve | reject`: the release gate from a terminal, through the decision
 * endpoint's CLI routes (cli/decision-endpoint.ts): the same routes on AWS (IAM-signed: the person is
 * the caller's IAM identity) and in local mode (the person is this machine's git identity).
 */
import { summaryLines } from '../core/approval/messages';
import { APPROVAL_ROUTES } from '../core/platform';
import type { ApprovalDecision, ApprovalRecord, AuditEvent } from '../core/records';
import { forTerminal } from '../core/text';
import { endpointCall, refused, type Call } from './decision-endpoint';

export interface ApprovalsCommand {
  readonly command: 'approvals' | 'approve' | 'reject';
  readonly runId?: string;
  readonly reason?: string;
  /** approve: an emergency override of a freeze (needs a reason). */
  readonly override?: boolean;
  /** Against the AWS deployment (the caller's IAM identity) instead of local mode. */
  readonly aws?: boolean;
  readonly stateDir: string;
}

export async function runApprovalsCommand(options: ApprovalsCommand, printLine = console.log): Promise<number> {
  // Every line shows text from a change or a person (messages, names, paths, reasons): printed inert.
  const print = (line: string) => printLine(forTerminal.line(line));
  const call = await endpointCall(options);
  if (options.command === 'approvals') {
    if (options.runId) return showApproval(call, options.runId, print);
    const answer = await call('GET', APPROVAL_ROUTES.cli);
    if (answer.status !== 200) return refused(answer, print);
    const approvals = answer.body.approvals as ApprovalRecord[];
    if (!approvals.length) print('no release waits for approval');
    for (const a of approvals) {
      const need = `${a.required.approvals}${a.required.group ? ` from ${a.required.group}` : ''}`;
      print(
        `${a.runId}  ${a.pipeline}  ${a.status}  ${a.risk.class} risk, needs ${need}  asked: ${a.asked.join(', ') || 'nobody'}  deadline ${a.deadline}`,
      );
    }
    return 0;
  }
  if (!options.runId) throw new Error(`stepline ${options.command} needs a run id`);
  const decision = options.command === 'reject' ? 'reject' : options.override ? 'override' : 'approve';
  const answer = await call('POST', `${APPROVAL_ROUTES.cli}/${encodeURIComponent(options.runId)}`, {
    decision,
    ...(options.reason ? { reason: options.reason } : {}),
  });
  if (answer.status !== 200) return refused(answer, print);
  print(String(answer.body.message));
  return 0;
}

/** One gate whole: the change record, every decision, the audit trail in order. */
async function showApproval(call: Call, runId: string, print: (line: string) => void): Promise<number> {
  const answer = await call('GET', `${APPROVAL_ROUTES.cli}/${encodeURIComponent(runId)}`);
  if (answer.status !== 200) return refused(answer, print);
  const approval = answer.body.approval as ApprovalRecord;
  print(`run ${approval.runId} (${approval.pipeline}) — release gate ${approval.status}`);
  summaryLines(approval).forEach((line) => print(`  ${line}`));
  print(`  Asked: ${approval.asked.join(', ') || 'nobody'}`);
  if (approval.outcome) print(`  Outcome: ${approval.outcome}`);
  if (approval.postImplementationReview) print('  Flagged for post-implementation review (emergency override)');
  print('decisions:');
  for (const d of answer.body.decisions as ApprovalDecision[])
    print(
      `  ${d.at}  ${d.approverId}${d.demo ? ' (demo)' : ''}  ${d.decision} via ${d.via}${d.reason ? `: ${d.reason}` : ''}`,
    );
  print('audit trail:');
  for (const e of answer.body.audit as AuditEvent[])
    print(`  ${e.at}  ${e.event}${e.actor ? `  ${e.actor}` : ''}${e.via ? ` (${e.via})` : ''}: ${e.detail}`);
  return 0;
}
