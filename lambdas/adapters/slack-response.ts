/**
 * Slack's `response_url`: where the decision endpoint replaces an approval message in place, or answers
 * the clicker alone. Only URLs the platform allows are followed, whatever a (signed) payload says.
 */
import { SlackResponseFailedError, SlackResponseUrlRefusedError } from '../../core/approval/errors';

/** Slack's response URLs, on AWS. */
export const SLACK_RESPONSE_URLS = /^https:\/\/hooks\.slack\.com\//;

/**
 * Posts to a response URL the platform allows, giving up after `timeoutMs` (what is left of Slack's 3-second
 * window); fails on any other URL, or an answer that is not 2xx.
 */
export function slackResponder(allowed: RegExp) {
  return async (url: string, body: Record<string, unknown>, timeoutMs: number): Promise<void> => {
    if (!allowed.test(url)) throw new SlackResponseUrlRefusedError(new URL(url).origin);
    const answer = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!answer.ok) throw new SlackResponseFailedError(answer.status);
  };
}
