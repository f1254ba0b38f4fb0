/**
 * Slack's request signing (v0), checked on the exact bytes received, so that the Slack interactivity
 * endpoint acts only on requests Slack made. X-Slack-Signature is `v0=` and the hex HMAC-SHA256, keyed
 * with the app's signing secret, of `v0:${X-Slack-Request-Timestamp}:${rawBody}`.
 *
 * Replay protection: a timestamp more than SLACK_TIMESTAMP_TOLERANCE_SECONDS from now in either
 * direction is refused (Slack's own bolt verifier accepts future timestamps; we do not, so a captured
 * request cannot be stamped ahead to stay valid longer). Refusal messages say what was wrong and are safe
 * to return to the caller: they never carry the secret or the expected signature.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { EmptySigningKeyError } from '../../core/config/errors';

/** How far, in seconds, X-Slack-Request-Timestamp may be from now, in either direction. */
export const SLACK_TIMESTAMP_TOLERANCE_SECONDS = 300;

export type SlackRequestRefusal =
  | 'missing-headers'
  | 'malformed-timestamp'
  | 'stale-timestamp'
  | 'future-timestamp'
  | 'malformed-signature'
  | 'signature-mismatch';

export type SlackRequestCheck =
  { readonly ok: true } | { readonly ok: false; readonly refusal: SlackRequestRefusal; readonly message: string };

/** Whole seconds since the epoch: digits only, at most 12 (well past any real clock, and a safe integer). */
const SLACK_TIMESTAMP = /^[0-9]{1,12}$/;
/** What Slack sends: `v0=` and 32 bytes as lowercase hex. */
const SLACK_SIGNATURE = /^v0=([0-9a-f]{64})$/;

const refuse = (refusal: SlackRequestRefusal, message: string): SlackRequestCheck => ({ ok: false, refusal, message });

/**
 * Verifies Slack's request signing (v0): X-Slack-Signature = 'v0=' + hex(HMAC-SHA256(signingSecret,
 * `v0:${X-Slack-Request-Timestamp}:${rawBody}`)).
 *
 * Timestamps more than 300 s from now in EITHER direction are refused (replay protection; Slack's own bolt
 * accepts future ones, we do not). The comparison is timing-safe (crypto.timingSafeEqual on equal-length
 * buffers; a wrong length is a mismatch without throwing). The body must be the exact bytes received (a
 * Buffer or string; a string is taken as UTF-8).
 *
 * Checks, in order: headers present → timestamp well-formed → timestamp in range → signature well-formed →
 * signature matches. Throws only on a caller error (an empty signing secret, an invalid `now`), never on
 * anything the request carries.
 */
export function checkSlackRequest(input: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: Buffer | string;
  now: Date;
}): SlackRequestCheck {
  const { signingSecret, timestamp, signature, rawBody, now } = input;
  requireSecret(signingSecret);
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError('checkSlackRequest: `now` is an invalid Date');

  if (!timestamp || !signature) {
    return refuse('missing-headers', 'missing X-Slack-Signature or X-Slack-Request-Timestamp header');
  }

  if (!SLACK_TIMESTAMP.test(timestamp)) {
    return refuse(
      'malformed-timestamp',
      'X-Slack-Request-Timestamp must be whole seconds since the epoch (digits only)',
    );
  }
  const skew = Math.floor(nowMs / 1000) - Number(timestamp);
  if (skew > SLACK_TIMESTAMP_TOLERANCE_SECONDS) {
    return refuse(
      'stale-timestamp',
      `X-Slack-Request-Timestamp is ${skew} s in the past; requests older than ${SLACK_TIMESTAMP_TOLERANCE_SECONDS} s are refused (replay protection)`,
    );
  }
  if (-skew > SLACK_TIMESTAMP_TOLERANCE_SECONDS) {
    return refuse(
      'future-timestamp',
      `X-Slack-Request-Timestamp is ${-skew} s in the future; requests more than ${SLACK_TIMESTAMP_TOLERANCE_SECONDS} s ahead are refused (replay protection)`,
    );
  }

  const match = SLACK_SIGNATURE.exec(signature);
  if (!match) return refuse('malformed-signature', 'X-Slack-Signature must be v0= followed by 64 lowercase hex digits');

  const expected = slackHmac(signingSecret, timestamp, rawBody);
  if (!equalInConstantTime(expected, Buffer.from(match[1]!, 'hex'))) {
    return refuse(
      'signature-mismatch',
      'X-Slack-Signature does not match the request (wrong signing secret, or the body was altered)',
    );
  }
  return { ok: true };
}

/**
 * Signs as Slack does: for tests and for local mode's simulated Slack clicks. Returns the X-Slack-Signature
 * header value (`v0=` and 64 lowercase hex digits).
 */
export function signSlackRequest(signingSecret: string, timestamp: string, rawBody: Buffer | string): string {
  requireSecret(signingSecret);
  return `v0=${slackHmac(signingSecret, timestamp, rawBody).toString('hex')}`;
}

function slackHmac(signingSecret: string, timestamp: string, rawBody: Buffer | string): Buffer {
  return createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest();
}

/** timingSafeEqual, except that a length difference is a plain mismatch instead of a throw. */
function equalInConstantTime(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function requireSecret(signingSecret: string): void {
  if (typeof signingSecret !== 'string' || signingSecret.length === 0) {
    throw new EmptySigningKeyError('the Slack signing secret');
  }
}
