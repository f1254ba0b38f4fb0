/**
 * Each approver's Approve and Reject links: the decision endpoint's `/approvals/decide` with a token
 * signed by the platform's link key (lambdas/adapters/decision-links.ts), bound to the run, the
 * approver and the decision, expiring with the gate. The task token never leaves the platform.
 */
import type { ApprovalLinks } from '../../core/approval/messages';
import { APPROVAL_ROUTES } from '../../core/platform';
import type { ApprovalRecord } from '../../core/records';
import { signDecisionLink, type LinkDecision } from './decision-links';

export async function signedApprovalLinks(
  approval: ApprovalRecord,
  approvalsUrl: string,
  linkKey: () => Promise<string>,
): Promise<ApprovalLinks> {
  const key = await linkKey();
  const expiresAt = Math.floor(Date.parse(approval.deadline) / 1000);
  const link = (approverId: string, decision: LinkDecision) =>
    `${approvalsUrl.replace(/\/+$/, '')}${APPROVAL_ROUTES.decide}?token=${encodeURIComponent(
      signDecisionLink(key, { runId: approval.runId, approverId, decision, expiresAt }).token,
    )}`;
  return {
    forApprover: (approverId) => ({ approve: link(approverId, 'approve'), reject: link(approverId, 'reject') }),
  };
}
