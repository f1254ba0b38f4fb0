/**
 * What the release gate says: the approval request (Slack Block Kit with Approve and Reject, one email
 * per approver with signed links) and the outcome. Pure: the gate records these as notifications and
 * the notifier delivers them on the pipeline's channels.
 */
import type { NotificationDraft } from './notifications';
import {
  OPEN_APPROVAL_STATUSES,
  type ApprovalDecision,
  type ApprovalRecord,
  type NotificationSettings,
} from './records';
import { excerpt } from './text';

/** Slack action ids of the request's controls; the interactions endpoint dispatches on them. */
export const SLACK_ACTIONS = { approve: 'stepline-approve', reject: 'stepline-reject' } as const;
/** The block id prefix that carries the run id through Slack's interaction payload. */
export const SLACK_BLOCK_PREFIX = 'stepline-gate:';

/** Where each approver decides: their own signed Approve and Reject links (email, browser). */
export interface ApprovalLinks {
  readonly forApprover: (approverId: string) => { readonly approve: string; readonly reject: string };
}

export interface Addressee {
  readonly id: string;
  readonly name?: string;
  readonly email: string;
}

/** The request's messages: one Slack message for the channel, one email per approver asked. */
export function approvalRequestDrafts(
  approval: ApprovalRecord,
  addressees: readonly Addressee[],
  settings: NotificationSettings | undefined,
  links: ApprovalLinks,
): NotificationDraft[] {
  const drafts: NotificationDraft[] = [];
  if (settings?.slack)
    drafts.push({ id: 'slack:approval', channel: 'slack', message: slackApprovalMessage(approval, []) });
  const from = settings?.email?.from;
  if (from) {
    for (const addressee of addressees) {
      drafts.push({
        id: `email:approval:${addressee.id}`,
        channel: 'email',
        message: { from, to: [addressee.email], ...emailRequest(approval, addressee, links) },
      });
    }
  }
  return drafts;
}

/** The gate's outcome, to the channel and to the approvers who were asked. */
export function approvalOutcomeDrafts(
  approval: ApprovalRecord,
  addressees: readonly Addressee[],
  settings: NotificationSettings | undefined,
): NotificationDraft[] {
  const text = outcomeLine(approval);
  const drafts: NotificationDraft[] = [];
  if (settings?.slack) {
    drafts.push({
      id: 'slack:approval:outcome',
      channel: 'slack',
      message: { text, blocks: [section(text)] },
    });
  }
  const from = settings?.email?.from;
  if (from && addressees.length) {
    drafts.push({
      id: 'email:approval:outcome',
      channel: 'email',
      message: {
        from,
        to: addressees.map((a) => a.email),
        subject: text,
        text: `${text}\n\n${summaryLines(approval).join('\n')}\n`,
        html: `<p>${escapeHtml(text)}</p><pre>${escapeHtml(summaryLines(approval).join('\n'))}</pre>`,
      },
    });
  }
  return drafts;
}

/** One line saying how the gate ended. */
export function outcomeLine(approval: ApprovalRecord): string {
  const release = `Release of ${approval.pipeline} at ${approval.commitRange.to.slice(0, 12)}`;
  switch (approval.status) {
    case 'APPROVED':
      if (approval.override)
        return `${release} passed by emergency override of ${approval.override.by}: ${approval.override.reason} (flagged for post-implementation review)`;
      if (approval.risk.class === 'standard') return `${release} passed as a standard change (pre-approved)`;
      return `${release} approved by ${(approval.approvedBy ?? []).join(', ')}`;
    case 'REJECTED':
      return `${release} rejected: ${approval.outcome ?? ''}`.trim();
    case 'EXPIRED':
      return `${release} expired: nobody decided before ${approval.deadline}`;
    case 'HELD':
      return `${release} approved by ${(approval.approvedBy ?? []).join(', ')} and held by freeze "${approval.heldBy?.freeze}" until ${approval.heldBy?.until ?? 'it ends'}`;
    default:
      return `${release} waits for approval`;
  }
}

/** The change record as lines of text: the same summary in Slack, email and the browser. */
export function summaryLines(approval: ApprovalRecord): string[] {
  const need = approval.required.approvals
    ? `${approval.required.approvals} distinct approval${approval.required.approvals > 1 ? 's' : ''}${approval.required.group ? ` from group ${approval.required.group}` : ''}`
    : 'none (pre-approved)';
  const range = approval.commitRange.from
    ? `${approval.commitRange.from.slice(0, 12)}..${approval.commitRange.to.slice(0, 12)}`
    : `up to ${approval.commitRange.to.slice(0, 12)} (first release)`;
  const files =
    approval.changedFiles === undefined
      ? 'not all known'
      : `${approval.changedFileCount ?? approval.changedFiles.length}${approval.changedFiles.length ? `: ${excerpt(approval.changedFiles.join(', '), 1, 300)}` : ''}`;
  const tests = approval.tests
    .map((t) => `${t.stage} ${t.status}${t.tests ? ` (${t.tests.passed}/${t.tests.total} passed)` : ''}`)
    .join('; ');
  return [
    `Risk: ${approval.risk.class} (${approval.risk.reasons.join('; ')})`,
    `Needs: ${need}`,
    `Commits: ${range}, ${approval.commits.length} push${approval.commits.length === 1 ? '' : 'es'}`,
    ...approval.commits
      .slice(0, 10)
      .map(
        (c) =>
          `  ${c.id.slice(0, 12)} ${c.author ? `${c.author.name} <${c.author.email}>` : (c.pushedBy ?? 'unknown author')}: ${firstLine(c.message)}`,
      ),
    `Files: ${files}`,
    `Tests: ${tests || 'none'}`,
    ...(approval.target ? [`Target: ${approval.target}`] : []),
    `Deadline: ${approval.deadline}`,
  ];
}

/**
 * The Slack message of a gate: while it is open, the change with Approve (confirmed) and a reason
 * field that rejects on Enter; once it ends, the same change with its outcome and no controls. Each
 * decision so far is listed: the message is replaced in place as decisions arrive.
 */
export function slackApprovalMessage(
  approval: ApprovalRecord,
  decisions: readonly ApprovalDecision[],
): Record<string, unknown> {
  const open = OPEN_APPROVAL_STATUSES.includes(approval.status);
  const title = open
    ? `Release of ${approval.pipeline} needs approval (${approval.risk.class} risk)`
    : outcomeLine(approval);
  const blockId = `${SLACK_BLOCK_PREFIX}${approval.runId}`;
  const decided = decisions.map(
    (d) =>
      `${d.decision === 'approve' ? 'Approved' : d.decision === 'reject' ? 'Rejected' : 'Overridden'} by ${d.approverId}${d.demo ? ' (demo)' : ''} via ${d.via} at ${d.at}${d.reason ? `: ${d.reason}` : ''}`,
  );
  const controls = [
    {
      type: 'actions',
      block_id: blockId,
      elements: [
        {
          type: 'button',
          action_id: SLACK_ACTIONS.approve,
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
          value: approval.runId,
          confirm: {
            title: { type: 'plain_text', text: 'Approve this release?' },
            text: {
              type: 'mrkdwn',
              text: `${approval.pipeline} ${approval.commitRange.to.slice(0, 12)} goes out once the policy is satisfied.`,
            },
            confirm: { type: 'plain_text', text: 'Approve' },
            deny: { type: 'plain_text', text: 'Cancel' },
          },
        },
      ],
    },
    {
      // A reason is required to reject: typing one and pressing Enter sends it (an input in a message).
      type: 'input',
      block_id: `${blockId}:reject`,
      dispatch_action: true,
      label: { type: 'plain_text', text: 'Reject with a reason' },
      element: {
        type: 'plain_text_input',
        action_id: SLACK_ACTIONS.reject,
        placeholder: { type: 'plain_text', text: 'Why not? Press Enter to reject' },
        dispatch_action_config: { trigger_actions_on: ['on_enter_pressed'] },
      },
    },
  ];
  return {
    text: title,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: excerpt(title, 1, 140) } },
      section(summaryLines(approval).join('\n')),
      ...(decided.length
        ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: excerpt(decided.join('\n'), 20, 2000) }] }]
        : []),
      ...(open ? controls : []),
    ],
  };
}

function emailRequest(
  approval: ApprovalRecord,
  addressee: Addressee,
  links: ApprovalLinks,
): { subject: string; text: string; html: string } {
  const { approve, reject } = links.forApprover(addressee.id);
  const subject = `Approval needed: ${approval.pipeline} ${approval.commitRange.to.slice(0, 12)} (${approval.risk.class} risk)`;
  const summary = summaryLines(approval);
  const text = [
    `${addressee.name ?? addressee.id}, a release of ${approval.pipeline} waits for your decision.`,
    '',
    ...summary,
    '',
    `Approve: ${approve}`,
    `Reject:  ${reject}`,
    '',
    'Each link opens a page that asks you to confirm; nothing is decided until you do.',
    'The links are yours alone, work once, and expire with the gate.',
  ].join('\n');
  const html = [
    `<p>${escapeHtml(addressee.name ?? addressee.id)}, a release of <b>${escapeHtml(approval.pipeline)}</b> waits for your decision.</p>`,
    `<pre>${escapeHtml(summary.join('\n'))}</pre>`,
    `<p><a href="${escapeHtml(approve)}">Approve</a> &nbsp; <a href="${escapeHtml(reject)}">Reject</a></p>`,
    '<p>Each link opens a page that asks you to confirm; nothing is decided until you do. The links are yours alone, work once, and expire with the gate.</p>',
  ].join('\n');
  return { subject, text, html };
}

function section(text: string): Record<string, unknown> {
  return { type: 'section', text: { type: 'mrkdwn', text: excerpt(text, 60, 3000) } };
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0]!.trim();
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
