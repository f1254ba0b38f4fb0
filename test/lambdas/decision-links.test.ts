/**
 * Signed decision links (lambdas/adapters/decision-links.ts): the round trip, tampering with either part,
 * re-encoded claims, expiry at its edge, another key, malformed tokens, and validly signed claims of the
 * wrong shape (signed here by hand with node:crypto, to prove the shape check runs after the signature).
 */
import { createHmac } from 'node:crypto';
import { Buffer } from 'node:buffer';
import {
  MAX_DECISION_LINK_CHARS,
  checkDecisionLink,
  signDecisionLink,
  type DecisionLinkCheck,
  type DecisionLinkClaims,
} from '../../lambdas/adapters/decision-links';

const KEY = 'decision-link-key-for-tests';
const EXPIRES = new Date('2026-11-26T10:00:00.000Z');
const EXPIRES_AT = EXPIRES.getTime() / 1000;
const BEFORE = new Date(EXPIRES.getTime() - 60_000);
const CLAIMS: DecisionLinkClaims = {
  runId: 'run-2026-11-25-0042',
  approverId: 'alice@example.com',
  decision: 'approve',
  expiresAt: EXPIRES_AT,
  nonce: 'bm9uY2Utbm9uY2Utbm9uYw',
};

const TAMPERED = "the link's signature does not match: it was altered, or made with another key";
const NOT_A_LINK = 'the link is not a stepline decision link';
const WITHOUT_NONCE: Omit<DecisionLinkClaims, 'nonce'> = {
  runId: CLAIMS.runId,
  approverId: CLAIMS.approverId,
  decision: CLAIMS.decision,
  expiresAt: CLAIMS.expiresAt,
};

/** A token for any JSON text, signed as the module signs, without going through it. */
function signByHand(key: string, json: string): string {
  const payload = Buffer.from(json, 'utf8').toString('base64url');
  return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
}

/** Replaces the character at `index` with another base64url character. */
function flip(text: string, index: number): string {
  const replacement = text[index] === 'A' ? 'B' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

function expectRefusal(check: DecisionLinkCheck, refusal: string, message?: string | RegExp): void {
  expect(check.ok).toBe(false);
  if (check.ok) return;
  expect(check.refusal).toBe(refusal);
  if (typeof message === 'string') expect(check.message).toBe(message);
  else if (message) expect(check.message).toMatch(message);
  expect(check.message).not.toContain(KEY);
}

describe('decision links', () => {
  describe('signing', () => {
    it('round-trips: a signed link checks out with the same claims', () => {
      const { token, claims } = signDecisionLink(KEY, CLAIMS);
      expect(claims).toEqual(CLAIMS);
      expect(checkDecisionLink(KEY, token, BEFORE)).toEqual({ ok: true, claims: CLAIMS });
    });

    it('round-trips a reject link with non-ASCII ids', () => {
      const reject = { ...CLAIMS, decision: 'reject' as const, approverId: 'zoë@exämple.com ✓' };
      const { token } = signDecisionLink(KEY, reject);
      expect(checkDecisionLink(KEY, token, BEFORE)).toEqual({ ok: true, claims: reject });
    });

    it('is base64url(JSON in fixed key order) . base64url(HMAC-SHA256 of the first part)', () => {
      const shuffled = {
        nonce: CLAIMS.nonce,
        expiresAt: CLAIMS.expiresAt,
        decision: CLAIMS.decision,
        approverId: CLAIMS.approverId,
        runId: CLAIMS.runId,
      };
      const { token } = signDecisionLink(KEY, shuffled);
      const [payload, signature] = token.split('.');
      expect(Buffer.from(payload!, 'base64url').toString('utf8')).toBe(
        JSON.stringify({
          runId: CLAIMS.runId,
          approverId: CLAIMS.approverId,
          decision: CLAIMS.decision,
          expiresAt: CLAIMS.expiresAt,
          nonce: CLAIMS.nonce,
        }),
      );
      expect(signature).toBe(createHmac('sha256', KEY).update(payload!).digest('base64url'));
      expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    });

    it('draws a fresh 16-byte base64url nonce when none is given', () => {
      const first = signDecisionLink(KEY, WITHOUT_NONCE);
      const second = signDecisionLink(KEY, WITHOUT_NONCE);
      expect(first.claims.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(first.claims.nonce, 'base64url')).toHaveLength(16);
      expect(second.claims.nonce).not.toBe(first.claims.nonce);
      expect(second.token).not.toBe(first.token);
      expect(checkDecisionLink(KEY, first.token, BEFORE)).toEqual({ ok: true, claims: first.claims });
    });

    it('refuses to mint a link that would be refused as malformed', () => {
      expect(() => signDecisionLink(KEY, { ...CLAIMS, runId: '' })).toThrow(/runId/);
      expect(() => signDecisionLink(KEY, { ...CLAIMS, approverId: 'a'.repeat(201) })).toThrow(/approverId/);
      expect(() => signDecisionLink(KEY, { ...CLAIMS, decision: 'maybe' as never })).toThrow(/decision/);
      expect(() => signDecisionLink(KEY, { ...CLAIMS, expiresAt: 1.5 })).toThrow(/expiresAt/);
      expect(() => signDecisionLink(KEY, { ...CLAIMS, expiresAt: Number.NaN })).toThrow(/expiresAt/);
      // 200 characters each, but JSON escapes make the token too long.
      const escaped = '\u0001'.repeat(200);
      expect(() => signDecisionLink(KEY, { ...CLAIMS, runId: escaped, approverId: escaped })).toThrow(/at most 2048/);
    });

    it('accepts ids of exactly 200 characters', () => {
      const long = { ...CLAIMS, runId: 'r'.repeat(200), approverId: 'a'.repeat(200) };
      const { token } = signDecisionLink(KEY, long);
      expect(checkDecisionLink(KEY, token, BEFORE)).toEqual({ ok: true, claims: long });
    });
  });

  describe('tampering', () => {
    const { token } = signDecisionLink(KEY, CLAIMS);
    const dot = token.indexOf('.');

    it('refuses a flipped character anywhere in the claims part', () => {
      for (const index of [0, Math.floor(dot / 2), dot - 1]) {
        expectRefusal(checkDecisionLink(KEY, flip(token, index), BEFORE), 'tampered', TAMPERED);
      }
    });

    it('refuses a flipped character anywhere in the signature part', () => {
      for (const index of [dot + 1, dot + 20, token.length - 1]) {
        expectRefusal(checkDecisionLink(KEY, flip(token, index), BEFORE), 'tampered', TAMPERED);
      }
    });

    it('refuses a change only in the unused low bits of the signature’s last character', () => {
      // 43 base64url characters carry 258 bits for 256: the last character's two low bits decode to nothing.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = alphabet.indexOf(token.at(-1)!);
      const sibling = alphabet[last ^ 0b01]!;
      const altered = token.slice(0, -1) + sibling;
      expect(Buffer.from(altered.slice(dot + 1), 'base64url')).toEqual(Buffer.from(token.slice(dot + 1), 'base64url'));
      expectRefusal(checkDecisionLink(KEY, altered, BEFORE), 'tampered', TAMPERED);
    });

    it('refuses claims edited (approve → reject) and re-encoded without re-signing', () => {
      const [payload, signature] = token.split('.');
      const json = Buffer.from(payload!, 'base64url').toString('utf8');
      const edited = Buffer.from(json.replace('"approve"', '"reject"'), 'utf8').toString('base64url');
      expect(edited).not.toBe(payload);
      expectRefusal(checkDecisionLink(KEY, `${edited}.${signature}`, BEFORE), 'tampered', TAMPERED);
    });

    it('refuses the claims part of one token with the signature of another', () => {
      const reject = signDecisionLink(KEY, { ...CLAIMS, decision: 'reject' }).token;
      const swapped = `${reject.split('.')[0]}.${token.split('.')[1]}`;
      expectRefusal(checkDecisionLink(KEY, swapped, BEFORE), 'tampered', TAMPERED);
    });

    it('refuses a link made with another key', () => {
      const other = signDecisionLink('another-key', CLAIMS).token;
      expectRefusal(checkDecisionLink(KEY, other, BEFORE), 'tampered', TAMPERED);
      expectRefusal(checkDecisionLink('another-key', token, BEFORE), 'tampered', TAMPERED);
    });

    it('checks the signature before expiry: an altered expired link is tampered', () => {
      expectRefusal(checkDecisionLink(KEY, flip(token, 0), new Date(EXPIRES.getTime() + 1)), 'tampered');
    });
  });

  describe('expiry', () => {
    const { token } = signDecisionLink(KEY, CLAIMS);

    it('accepts a link until the instant before expiresAt', () => {
      expect(checkDecisionLink(KEY, token, new Date(EXPIRES.getTime() - 1)).ok).toBe(true);
    });

    it('refuses it at expiresAt and after', () => {
      expectRefusal(checkDecisionLink(KEY, token, EXPIRES), 'expired', 'the link expired at 2026-11-26T10:00:00.000Z');
      expectRefusal(
        checkDecisionLink(KEY, token, new Date('2027-01-01T00:00:00Z')),
        'expired',
        'the link expired at 2026-11-26T10:00:00.000Z',
      );
    });
  });

  describe('malformed tokens', () => {
    it.each([
      ['empty', ''],
      ['garbage', 'not a token at all'],
      ['no dot', 'eyJydW5JZCI6InIifQ'],
      ['two dots', 'abc.def.ghi'],
      ['an empty claims part', `.${'A'.repeat(43)}`],
      ['an empty signature part', 'eyJydW5JZCI6InIifQ.'],
      ['a short signature part', 'eyJydW5JZCI6InIifQ.abc'],
      ['padding', `eyJydW5JZCI6InIifQ==.${'A'.repeat(43)}`],
      ['standard base64 characters', `eyJy+W5J/CI6InIifQ.${'A'.repeat(43)}`],
      ['whitespace', ` eyJydW5JZCI6InIifQ.${'A'.repeat(43)}`],
    ])('%s → malformed', (_name, token) => {
      expectRefusal(checkDecisionLink(KEY, token, BEFORE), 'malformed', new RegExp(`^${NOT_A_LINK}`));
    });

    it('refuses anything longer than 2,048 characters before looking at it', () => {
      expect(MAX_DECISION_LINK_CHARS).toBe(2048);
      const tooLong = `${'A'.repeat(2048 - 43)}.${'A'.repeat(43)}`;
      expect(tooLong).toHaveLength(2049);
      expectRefusal(
        checkDecisionLink(KEY, tooLong, BEFORE),
        'malformed',
        `${NOT_A_LINK} (it is longer than 2048 characters)`,
      );
      // Even when validly signed.
      const signedTooLong = signByHand(KEY, JSON.stringify({ ...CLAIMS, runId: 'r'.repeat(1600) }));
      expect(signedTooLong.length).toBeGreaterThan(2048);
      expectRefusal(checkDecisionLink(KEY, signedTooLong, BEFORE), 'malformed');
    });

    it('reads a hand-signed token in the module’s format (so the cases below differ only in shape)', () => {
      expect(checkDecisionLink(KEY, signByHand(KEY, JSON.stringify(CLAIMS)), BEFORE)).toEqual({
        ok: true,
        claims: CLAIMS,
      });
    });

    it.each([
      ['lacks the nonce', JSON.stringify(WITHOUT_NONCE), /its claims lack nonce/],
      ['lacks runId', JSON.stringify({ ...CLAIMS, runId: undefined }), /its claims lack runId/],
      ['is not JSON', 'approve run 42', /its claims are not JSON/],
      ['is an array', JSON.stringify([CLAIMS]), /its claims are not an object/],
      ['is null', 'null', /its claims are not an object/],
      ['has an unknown field', JSON.stringify({ ...CLAIMS, admin: true }), /unknown field/],
      ['has a numeric runId', JSON.stringify({ ...CLAIMS, runId: 42 }), /runId must be a string/],
      ['has an empty approverId', JSON.stringify({ ...CLAIMS, approverId: '' }), /approverId must be a string/],
      [
        'has a 201-character runId',
        JSON.stringify({ ...CLAIMS, runId: 'r'.repeat(201) }),
        /runId must be a string of 1 to 200/,
      ],
      [
        'has another decision',
        JSON.stringify({ ...CLAIMS, decision: 'escalate' }),
        /decision must be "approve" or "reject"/,
      ],
      [
        'has a string expiresAt',
        JSON.stringify({ ...CLAIMS, expiresAt: String(EXPIRES_AT) }),
        /expiresAt must be whole/,
      ],
      [
        'has a fractional expiresAt',
        JSON.stringify({ ...CLAIMS, expiresAt: EXPIRES_AT + 0.5 }),
        /expiresAt must be whole/,
      ],
      ['has an expiresAt past any Date', JSON.stringify({ ...CLAIMS, expiresAt: 1e16 }), /expiresAt must be whole/],
    ])('refuses validly signed claims that %s as malformed', (_name, json, message) => {
      expectRefusal(checkDecisionLink(KEY, signByHand(KEY, json), BEFORE), 'malformed', message);
    });

    it('does not mistake a __proto__ key for a claim', () => {
      const json = `{"__proto__":{"nonce":"n"},"runId":"r","approverId":"a","decision":"approve","expiresAt":${EXPIRES_AT}}`;
      expectRefusal(checkDecisionLink(KEY, signByHand(KEY, json), BEFORE), 'malformed');
    });
  });

  describe('caller errors throw rather than pass', () => {
    const { token } = signDecisionLink(KEY, CLAIMS);
    it('refuses an empty key', () => {
      expect(() => signDecisionLink('', CLAIMS)).toThrow(/key is empty/);
      expect(() => checkDecisionLink('', token, BEFORE)).toThrow(/key is empty/);
    });
    it('refuses an invalid now (which would otherwise never expire)', () => {
      expect(() => checkDecisionLink(KEY, token, new Date(Number.NaN))).toThrow(RangeError);
    });
  });
});
