/**
 * Signed tokens for the approve/reject links in approval emails. A link carries who may decide which run,
 * what the decision is, until when, and a random nonce (so that the store can let each link be used once);
 * the HMAC makes it unforgeable without the key, which comes from Secrets Manager elsewhere.
 *
 * token = base64url(JSON of the claims, fixed key order) + '.' + base64url(HMAC-SHA256(key, that first
 * part)). The signature is checked, in constant time, before anything in the claims is parsed, so nothing
 * unauthenticated reaches JSON.parse. Refusal messages are safe to show to whoever clicked the link.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { DecisionLinkNotSignedError } from '../../core/approval/errors';
import { EmptySigningKeyError } from '../../core/config/errors';

export type LinkDecision = 'approve' | 'reject';

export interface DecisionLinkClaims {
  readonly runId: string;
  readonly approverId: string;
  readonly decision: LinkDecision;
  /** epoch seconds */
  readonly expiresAt: number;
  /** random id (e.g. 16 random bytes base64url), so that the store can let each link be used once */
  readonly nonce: string;
}

export type DecisionLinkRefusal = 'malformed' | 'tampered' | 'expired';

export type DecisionLinkCheck =
  | { readonly ok: true; readonly claims: DecisionLinkClaims }
  | { readonly ok: false; readonly refusal: DecisionLinkRefusal; readonly message: string };

/** Longest token accepted (and minted). */
export const MAX_DECISION_LINK_CHARS = 2048;
/** Longest runId, approverId or nonce. */
const MAX_ID_CHARS = 200;
/** Latest instant a Date can hold, in epoch seconds. */
const MAX_EPOCH_SECONDS = 8_640_000_000_000;
const CLAIM_KEYS = ['runId', 'approverId', 'decision', 'expiresAt', 'nonce'] as const;
/** A claims part and a 32-byte HMAC (43 base64url characters, unpadded). */
const TOKEN = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/;

const NOT_A_LINK = 'the link is not a stepline decision link';
const TAMPERED = "the link's signature does not match: it was altered, or made with another key";

/**
 * token = base64url(JSON of the claims, fixed key order) + '.' + base64url(HMAC-SHA256(key, that first part)).
 * Draws a nonce (16 random bytes, base64url) unless one is given. Throws if the claims would not pass
 * checkDecisionLink's shape check or the token would exceed MAX_DECISION_LINK_CHARS: it never mints a link
 * that would be refused as malformed.
 */
export function signDecisionLink(
  key: string,
  claims: Omit<DecisionLinkClaims, 'nonce'> & { nonce?: string },
): { token: string; claims: DecisionLinkClaims } {
  requireKey(key);
  const full: DecisionLinkClaims = {
    runId: claims.runId,
    approverId: claims.approverId,
    decision: claims.decision,
    expiresAt: claims.expiresAt,
    nonce: claims.nonce ?? randomBytes(16).toString('base64url'),
  };
  const problem = claimsProblem(full);
  if (problem) throw new DecisionLinkNotSignedError(problem);
  const payload = Buffer.from(JSON.stringify(full), 'utf8').toString('base64url');
  const token = `${payload}.${hmac(key, payload).toString('base64url')}`;
  if (token.length > MAX_DECISION_LINK_CHARS) {
    throw new DecisionLinkNotSignedError(
      `the token would be ${token.length} characters; at most ${MAX_DECISION_LINK_CHARS}`,
    );
  }
  return { token, claims: full };
}

/**
 * Checks the signature (timing-safe) BEFORE parsing the claims; then shape (every field present and typed, no
 * other field; decision one of the two; runId/approverId/nonce non-empty and at most 200 chars; expiresAt whole
 * epoch seconds); then expiry against now (expired when now >= expiresAt). Tokens longer than 2,048 characters
 * are malformed. Throws only on a caller error (an empty key, an invalid `now`).
 */
export function checkDecisionLink(key: string, token: string, now: Date): DecisionLinkCheck {
  requireKey(key);
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError('checkDecisionLink: `now` is an invalid Date');

  if (typeof token !== 'string' || token.length === 0) return refuse('malformed', `${NOT_A_LINK} (it is empty)`);
  if (token.length > MAX_DECISION_LINK_CHARS) {
    return refuse('malformed', `${NOT_A_LINK} (it is longer than ${MAX_DECISION_LINK_CHARS} characters)`);
  }
  const parts = TOKEN.exec(token);
  if (!parts) return refuse('malformed', NOT_A_LINK);
  const payload = parts[1]!;
  const signature = parts[2]!;

  // Compare the base64url text, not decoded bytes: the last of the 43 characters has two unused bits, and a
  // change there must not decode to the same signature and pass.
  const expected = Buffer.from(hmac(key, payload).toString('base64url'), 'ascii');
  if (!equalInConstantTime(expected, Buffer.from(signature, 'ascii'))) return refuse('tampered', TAMPERED);

  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return refuse('malformed', `${NOT_A_LINK} (its claims are not JSON)`);
  }
  const problem = claimsProblem(parsed);
  if (problem) return refuse('malformed', `${NOT_A_LINK} (${problem})`);
  const claims = parsed as DecisionLinkClaims;

  if (nowMs >= claims.expiresAt * 1000) {
    return refuse('expired', `the link expired at ${new Date(claims.expiresAt * 1000).toISOString()}`);
  }
  return {
    ok: true,
    claims: {
      runId: claims.runId,
      approverId: claims.approverId,
      decision: claims.decision,
      expiresAt: claims.expiresAt,
      nonce: claims.nonce,
    },
  };
}

const refuse = (refusal: DecisionLinkRefusal, message: string): DecisionLinkCheck => ({ ok: false, refusal, message });

function hmac(key: string, payload: string): Buffer {
  return createHmac('sha256', key).update(payload, 'ascii').digest();
}

/** timingSafeEqual, except that a length difference is a plain mismatch instead of a throw. */
function equalInConstantTime(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What is wrong with the claims' shape, or undefined when nothing is. Names fields only, never values. */
function claimsProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'its claims are not an object';
  const record = value as Record<string, unknown>;
  for (const name of CLAIM_KEYS) if (!Object.hasOwn(record, name)) return `its claims lack ${name}`;
  const extra = Object.keys(record).find((name) => !(CLAIM_KEYS as readonly string[]).includes(name));
  if (extra !== undefined) return 'its claims have an unknown field';
  for (const name of ['runId', 'approverId', 'nonce'] as const) {
    const field = record[name];
    if (typeof field !== 'string' || field.length === 0 || field.length > MAX_ID_CHARS) {
      return `${name} must be a string of 1 to ${MAX_ID_CHARS} characters`;
    }
  }
  if (record.decision !== 'approve' && record.decision !== 'reject') return 'decision must be "approve" or "reject"';
  const expiresAt = record.expiresAt;
  if (typeof expiresAt !== 'number' || !Number.isInteger(expiresAt) || expiresAt < 0 || expiresAt > MAX_EPOCH_SECONDS) {
    return 'expiresAt must be whole seconds since the epoch';
  }
  return undefined;
}

function requireKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new EmptySigningKeyError('the decision link key');
  }
}
