/**
 * What the release gate says: the approval request (Slack Block Kit with Approve and Reject, one email
 * per approver with signed links) and the outcome. Pure: the gate records these as notifications and
 * the notifier delivers them on the pipeline's channels.
 *
 * The change record is text from a change (core/text.ts): its lines are composed as plain text, each
 * value one line, and rendered whole for each destination; the only links and controls in these
 * messages are stepline's own, and each request says where decisions are made.
 */
import type { NotificationDraft } from '../notification/messages';
import {
  OPEN_APPROVAL_STATUSES,
  type ApprovalDecision,
  type ApprovalRecord,
  type NotificationSettings,
} from '../records';
import { excerpt, firstLine, fitted, forEmail, forHtml, forSlack, oneLine } from '../text';

/** Slack refuses a section's text over 3,000 characters, a header's over 150. */
const SLACK_TEXT_MAX = 3000;
const SLACK_HEADER_MAX = 150;

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
      message: { text: fitted(text, SLACK_TEXT_MAX, forSlack.mrkdwn), blocks: [section(text)] },
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
        subject: forEmail.header(text),
        text: forEmail.text(`${text}\n\n${summaryLines(approval).join('\n')}\n`),
        html: `<p>${forHtml.text(text)}</p><pre>${forHtml.text(summaryLines(approval).join('\n'))}</pre>`,
      },
    });
  }
  return drafts;
}

/** One line saying how the gate ended (plain text: render it for where it is shown). */
export function outcomeLine(approval: ApprovalRecord): string {
  const release = `Release of ${oneLine(approval.pipeline)} at ${oneLine(approval.commitRange.to.slice(0, 12))}`;
  const approvedBy = (approval.approvedBy ?? []).map(oneLine).join(', ');
  switch (approval.status) {
    case 'APPROVED':
      if (approval.override)
        return `${release} passed by emergency override of ${oneLine(approval.override.by)}: ${oneLine(approval.override.reason)} (flagged for post-implementation review)`;
      if (approval.risk.class === 'standard') return `${release} passed as a standard change (pre-approved)`;
      return `${release} approved by ${approvedBy}`;
    case 'REJECTED':
      return `${release} rejected: ${oneLine(approval.outcome)}`.trim();
    case 'EXPIRED':
      if (approval.heldBy && approvedBy)
        return `${release} expired: approved by ${approvedBy} but held by freeze "${oneLine(approval.heldBy.freeze)}" past ${oneLine(approval.deadline)}`;
      return `${release} expired: nobody decided before ${oneLine(approval.deadline)}`;
    case 'HELD':
      return `${release} approved by ${approvedBy} and held by freeze "${oneLine(approval.heldBy?.freeze)}" until ${oneLine(approval.heldBy?.until ?? 'it ends')}`;
    default:
      return `${release} waits for approval`;
  }
}

/**
 * The change record as lines of plain text, each value from the change made one line (so none can
 * start a line of its own): the same summary in Slack, email, the browser and the terminal, each
 * rendering it for itself.
 */
export function summaryLines(approval: ApprovalRecord): string[] {
  const need = approval.required.approvals
    ? `${approval.required.approvals} distinct approval${approval.required.approvals > 1 ? 's' : ''}${approval.required.group ? ` from group ${oneLine(approval.required.group)}` : ''}`
    : 'none (pre-approved)';
  const short = (id: string) => oneLine(id.slice(0, 12));
  const range = approval.commitRange.from
    ? `${short(approval.commitRange.from)}..${short(approval.commitRange.to)}`
    : `up to ${short(approval.commitRange.to)} (first release)`;
  const files =
    approval.changedFiles === undefined
      ? 'not all known'
      : `${approval.changedFileCount ?? approval.changedFiles.length}${approval.changedFiles.length ? `: ${excerpt(approval.changedFiles.map(oneLine).join(', '), 1, 300)}` : ''}`;
  const tests = approval.tests
    .map((t) => `${oneLine(t.stage)} ${t.status}${t.tests ? ` (${t.tests.passed}/${t.tests.total} passed)` : ''}`)
    .join('; ');
  return [
    `Risk: ${approval.risk.class} (${approval.risk.reasons.map(oneLine).join('; ')})`,
    `Needs: ${need}`,
    `Commits: ${range}, ${approval.commits.length} push${approval.commits.length === 1 ? '' : 'es'}`,
    ...approval.commits
      .slice(0, 10)
      .map(
        (c) =>
          `  ${short(c.id)} ${c.author ? `${oneLine(c.author.name)} <${oneLine(c.author.email)}>` : oneLine(c.pushedBy ?? 'unknown author')}: ${excerpt(firstLine(c.message), 1, 200)}`,
      ),
    `Files: ${files}`,
    `Tests: ${tests || 'none'}`,
    ...(approval.target ? [`Target: ${oneLine(approval.target)}`] : []),
    `Deadline: ${oneLine(approval.deadline)}`,
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
      `${d.decision === 'approve' ? 'Approved' : d.decision === 'reject' ? 'Rejected' : 'Overridden'} by ${oneLine(d.approverId)}${d.demo ? ' (demo)' : ''} via ${d.via} at ${oneLine(d.at)}${d.reason ? `: ${oneLine(d.reason)}` : ''}`,
  );
  const run = forSlack.code(oneLine(approval.runId));
  const where = `Decide only with Approve or the reject field below, the Approve and Reject links of your own approval email, or \`stepline approve ${run}\` / \`stepline reject ${run} --reason …\`. stepline asks for decisions nowhere else, and puts no link in the change above.`;
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
              type: 'plain_text',
              text: forSlack.plain(
                oneLine(
                  `${approval.pipeline} ${approval.commitRange.to.slice(0, 12)} goes out once the policy is satisfied.`,
                ),
              ),
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
    text: fitted(title, SLACK_TEXT_MAX, forSlack.mrkdwn),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: excerpt(forSlack.plain(title), 1, SLACK_HEADER_MAX - 1) } },
      section(summaryLines(approval).join('\n')),
      ...(decided.length
        ? [
            {
              type: 'context',
              elements: [forSlack.object(fitted(excerpt(decided.join('\n'), 20, 2000), 2000, forSlack.mrkdwn))],
            },
          ]
        : []),
      ...(open ? [{ type: 'context', elements: [forSlack.object(where)] }, ...controls] : []),
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
  const greeting = `${oneLine(addressee.name ?? addressee.id)}, a release of ${oneLine(approval.pipeline)} waits for your decision.`;
  const run = oneLine(approval.runId);
  const where = `Decide only with these two links, which lead to ${origin(approve)}, or with \`stepline approve ${run}\` / \`stepline reject ${run} --reason …\`. stepline asks for decisions nowhere else, and puts no link in the change above.`;
  const text = [
    forEmail.text(greeting),
    '',
    ...summary.map(forEmail.text),
    '',
    `Approve: ${approve}`,
    `Reject:  ${reject}`,
    '',
    'Each link opens a page that asks you to confirm; nothing is decided until you do.',
    'The links are yours alone, work once, and expire with the gate.',
    where,
  ].join('\n');
  const html = [
    `<p>${forHtml.text(greeting)}</p>`,
    `<pre>${forHtml.text(summary.join('\n'))}</pre>`,
    `<p><a href="${forHtml.own(approve)}">Approve</a> &nbsp; <a href="${forHtml.own(reject)}">Reject</a></p>`,
    '<p>Each link opens a page that asks you to confirm; nothing is decided until you do. The links are yours alone, work once, and expire with the gate.</p>',
    `<p>${forHtml.own(where)}</p>`,
  ].join('\n');
  return { subject: forEmail.header(subject), text, html };
}

/** A section of plain text (the change record, an outcome), rendered for Slack within its limit. */
function section(text: string): Record<string, unknown> {
  return {
    type: 'section',
    text: forSlack.object(fitted(excerpt(text, 60, SLACK_TEXT_MAX), SLACK_TEXT_MAX, forSlack.mrkdwn)),
  };
}

/** Where a link leads (its origin), said in the request so that a reader can check the links. */
function origin(link: string): string {
  try {
    return new URL(link).origin;
  } catch {
    return 'stepline';
  }
}
