/**
 * The pages an approval link opens in a browser. GET shows the change and a form that asks to
 * confirm; only the form's POST decides, so a mail scanner that fetches every link decides nothing.
 * Pure HTML with no script; the endpoint sends them with a strict Content-Security-Policy. Text from
 * the change (and from the person deciding) is rendered as text by core/text.ts, never as markup.
 */
import { summaryLines } from './messages';
import type { ApprovalRecord } from '../records';
import { forHtml } from '../text';

export interface ConfirmationPage {
  readonly approval: ApprovalRecord;
  readonly approverName: string;
  readonly decision: 'approve' | 'reject';
  /** The signed token, posted back with the form. */
  readonly token: string;
  /** Where the form posts (the same path as the link). */
  readonly action: string;
}

/** The confirmation form: approving asks to confirm, rejecting asks for a reason. */
export function confirmationPage(page: ConfirmationPage): string {
  const { approval, decision } = page;
  const verb = decision === 'approve' ? 'Approve' : 'Reject';
  const reason =
    decision === 'reject'
      ? `<p><label for="reason">Why are you rejecting it? (required)</label><br><textarea id="reason" name="reason" required minlength="3" maxlength="1000" rows="4" cols="60"></textarea></p>`
      : '';
  return layout(
    `${verb} the release of ${approval.pipeline}?`,
    [
      `<p>${forHtml.text(page.approverName)}, you are about to <b>${decision}</b> the release of <b>${forHtml.text(approval.pipeline)}</b> at ${forHtml.text(approval.commitRange.to.slice(0, 12))}.</p>`,
      `<pre>${forHtml.text(summaryLines(approval).join('\n'))}</pre>`,
      `<form method="post" action="${forHtml.own(page.action)}">`,
      `<input type="hidden" name="token" value="${forHtml.own(page.token)}">`,
      `<input type="hidden" name="decision" value="${decision}">`,
      reason,
      `<button type="submit" id="decide">${verb} release</button>`,
      '</form>',
      '<p>Nothing is decided until you press the button.</p>',
    ].join('\n'),
  );
}

/** What a decision came to, or why it was refused. */
export function resultPage(title: string, message: string, approval?: ApprovalRecord): string {
  return layout(
    title,
    `<p id="result">${forHtml.text(message)}</p>${approval ? `<pre>${forHtml.text(summaryLines(approval).join('\n'))}</pre>` : ''}`,
  );
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${forHtml.text(title)} — stepline</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:1rem;white-space:pre-wrap}button{font-size:1.1rem;padding:.5rem 1.5rem}</style>
</head><body><h1>${forHtml.text(title)}</h1>
${body}
</body></html>`;
}

/** Headers every page goes out with: no script, no framing, no caching, no Referer (the link carries a token). */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
} as const;
