/**
 * Slack request signing (lambdas/adapters/slack-signature.ts): Slack's documented example vector, every
 * refusal and the order they are checked in, the ±300 s window at its edges, and exact-bytes handling.
 */
import { createHmac } from 'node:crypto';
import { Buffer } from 'node:buffer';
import {
  SLACK_TIMESTAMP_TOLERANCE_SECONDS,
  checkSlackRequest,
  signSlackRequest,
  type SlackRequestCheck,
} from '../../lambdas/adapters/slack-signature';

// https://api.slack.com/authentication/verifying-requests-from-slack (the documented example).
const DOC_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const DOC_TIMESTAMP = '1531420618';
const DOC_BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const DOC_SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const DOC_NOW = new Date(1531420618 * 1000);

type Input = Parameters<typeof checkSlackRequest>[0];
const docInput = (overrides: Partial<Input> = {}): Input => ({
  signingSecret: DOC_SECRET,
  timestamp: DOC_TIMESTAMP,
  signature: DOC_SIGNATURE,
  rawBody: DOC_BODY,
  now: DOC_NOW,
  ...overrides,
});

/** The same request signed at `now - offsetSeconds`, checked at DOC_NOW. */
const signedAt = (offsetSeconds: number): Input => {
  const timestamp = String(1531420618 - offsetSeconds);
  return docInput({ timestamp, signature: signSlackRequest(DOC_SECRET, timestamp, DOC_BODY) });
};

/** Every refusal must be safe to return: neither the secret nor the expected signature appears in it. */
function expectRefusal(check: SlackRequestCheck, refusal: string, message?: string | RegExp): void {
  expect(check.ok).toBe(false);
  if (check.ok) return;
  expect(check.refusal).toBe(refusal);
  if (typeof message === 'string') expect(check.message).toBe(message);
  else if (message) expect(check.message).toMatch(message);
  expect(check.message).not.toContain(DOC_SECRET);
  expect(check.message).not.toContain(DOC_SIGNATURE.slice(3));
}

describe('Slack request signing', () => {
  it('reproduces the example vector from Slack’s documentation', () => {
    // Independently of the module: the documented value really is HMAC-SHA256 over v0:timestamp:body.
    const byHand = createHmac('sha256', DOC_SECRET).update(`v0:${DOC_TIMESTAMP}:${DOC_BODY}`).digest('hex');
    expect(`v0=${byHand}`).toBe(DOC_SIGNATURE);
    expect(signSlackRequest(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY)).toBe(DOC_SIGNATURE);
    expect(signSlackRequest(DOC_SECRET, DOC_TIMESTAMP, Buffer.from(DOC_BODY))).toBe(DOC_SIGNATURE);
  });

  it('accepts the documented request, as a string or as the received bytes', () => {
    expect(checkSlackRequest(docInput())).toEqual({ ok: true });
    expect(checkSlackRequest(docInput({ rawBody: Buffer.from(DOC_BODY, 'utf8') }))).toEqual({ ok: true });
  });

  describe('missing headers', () => {
    it.each([
      ['no signature', { signature: undefined }],
      ['no timestamp', { timestamp: undefined }],
      ['neither', { signature: undefined, timestamp: undefined }],
      ['an empty signature', { signature: '' }],
      ['an empty timestamp', { timestamp: '' }],
    ])('%s → missing-headers', (_name, overrides) => {
      expectRefusal(
        checkSlackRequest(docInput(overrides)),
        'missing-headers',
        'missing X-Slack-Signature or X-Slack-Request-Timestamp header',
      );
    });
  });

  describe('malformed timestamps', () => {
    it.each(['abc', '1531420618.5', '-1531420618', '+1531420618', ' 1531420618', '1531420618 ', '1.5e9', '0x5b4745ca'])(
      '%j → malformed-timestamp',
      (timestamp) => {
        expectRefusal(
          checkSlackRequest(docInput({ timestamp })),
          'malformed-timestamp',
          'X-Slack-Request-Timestamp must be whole seconds since the epoch (digits only)',
        );
      },
    );

    it('refuses absurdly long digit strings rather than reading them as a number', () => {
      expectRefusal(checkSlackRequest(docInput({ timestamp: '9'.repeat(400) })), 'malformed-timestamp');
    });
  });

  describe('the ±300 s window', () => {
    it('is 300 s', () => {
      expect(SLACK_TIMESTAMP_TOLERANCE_SECONDS).toBe(300);
    });

    it('accepts exactly 300 s in the past and exactly 300 s in the future', () => {
      expect(checkSlackRequest(signedAt(300))).toEqual({ ok: true });
      expect(checkSlackRequest(signedAt(-300))).toEqual({ ok: true });
    });

    it('refuses 301 s in the past as stale', () => {
      expectRefusal(
        checkSlackRequest(signedAt(301)),
        'stale-timestamp',
        'X-Slack-Request-Timestamp is 301 s in the past; requests older than 300 s are refused (replay protection)',
      );
    });

    it('refuses 301 s in the future (which Slack’s bolt would accept)', () => {
      expectRefusal(
        checkSlackRequest(signedAt(-301)),
        'future-timestamp',
        'X-Slack-Request-Timestamp is 301 s in the future; requests more than 300 s ahead are refused (replay protection)',
      );
    });

    it('says how far off the timestamp is', () => {
      expectRefusal(
        checkSlackRequest(signedAt(412)),
        'stale-timestamp',
        /^X-Slack-Request-Timestamp is 412 s in the past;/,
      );
      expectRefusal(
        checkSlackRequest(signedAt(-412)),
        'future-timestamp',
        /^X-Slack-Request-Timestamp is 412 s in the future;/,
      );
    });

    it('counts whole seconds of now (a fraction of a second does not tip 300 s over)', () => {
      const input = signedAt(300);
      expect(checkSlackRequest({ ...input, now: new Date(DOC_NOW.getTime() + 999) })).toEqual({ ok: true });
      expectRefusal(checkSlackRequest({ ...input, now: new Date(DOC_NOW.getTime() + 1000) }), 'stale-timestamp');
    });
  });

  describe('malformed signatures', () => {
    const hex = DOC_SIGNATURE.slice(3);
    it.each([
      ['another scheme version', `v1=${hex}`],
      ['GitHub’s scheme', `sha256=${hex}`],
      ['no prefix', hex],
      ['uppercase hex', `v0=${hex.toUpperCase()}`],
      ['one hex digit short', `v0=${hex.slice(1)}`],
      ['one hex digit long', `v0=${hex}0`],
      ['half the length', `v0=${hex.slice(32)}`],
      ['a non-hex digit', `v0=${hex.slice(0, 63)}g`],
      ['surrounding whitespace', ` ${DOC_SIGNATURE}`],
    ])('%s → malformed-signature', (_name, signature) => {
      expectRefusal(
        checkSlackRequest(docInput({ signature })),
        'malformed-signature',
        'X-Slack-Signature must be v0= followed by 64 lowercase hex digits',
      );
    });

    it('refuses a signature of the wrong length without throwing (an odd length too)', () => {
      for (const signature of ['v0=', 'v0=ab', `v0=${hex}${hex}`, `v0=${hex.slice(0, 63)}`]) {
        expect(() => checkSlackRequest(docInput({ signature }))).not.toThrow();
        expectRefusal(checkSlackRequest(docInput({ signature })), 'malformed-signature');
      }
    });
  });

  describe('mismatches', () => {
    const MISMATCH = 'X-Slack-Signature does not match the request (wrong signing secret, or the body was altered)';

    it('refuses a body altered by one byte', () => {
      const altered = Buffer.from(DOC_BODY);
      altered[altered.length - 1] ^= 0x01;
      expectRefusal(checkSlackRequest(docInput({ rawBody: altered })), 'signature-mismatch', MISMATCH);
      expectRefusal(
        checkSlackRequest(docInput({ rawBody: DOC_BODY.replace('foobar', 'foobas') })),
        'signature-mismatch',
      );
    });

    it('refuses the wrong signing secret', () => {
      expectRefusal(
        checkSlackRequest(docInput({ signingSecret: '8f742231b10e8888abcd99yyyzzz85a6' })),
        'signature-mismatch',
        MISMATCH,
      );
    });

    it('refuses a signature made for another timestamp (the timestamp is signed)', () => {
      const other = String(1531420618 - 1);
      expectRefusal(checkSlackRequest(docInput({ timestamp: other })), 'signature-mismatch', MISMATCH);
    });

    it('refuses a well-formed signature that differs in one digit', () => {
      const last = DOC_SIGNATURE.at(-1) === '0' ? '1' : '0';
      expectRefusal(
        checkSlackRequest(docInput({ signature: DOC_SIGNATURE.slice(0, -1) + last })),
        'signature-mismatch',
      );
    });
  });

  it('signs and checks the exact bytes of a body that is not UTF-8', () => {
    const body = Buffer.from([0x70, 0x3d, 0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x0a]);
    const signature = signSlackRequest(DOC_SECRET, DOC_TIMESTAMP, body);
    const byHand = createHmac('sha256', DOC_SECRET)
      .update(Buffer.concat([Buffer.from(`v0:${DOC_TIMESTAMP}:`), body]))
      .digest('hex');
    expect(signature).toBe(`v0=${byHand}`);
    expect(checkSlackRequest(docInput({ signature, rawBody: body }))).toEqual({ ok: true });
    // Decoding the bytes as text (U+FFFD replacements) changes them, and so the signature no longer matches.
    expectRefusal(checkSlackRequest(docInput({ signature, rawBody: body.toString('utf8') })), 'signature-mismatch');
  });

  describe('order of checks', () => {
    it('reports missing headers before a malformed timestamp', () => {
      expectRefusal(checkSlackRequest(docInput({ signature: undefined, timestamp: 'abc' })), 'missing-headers');
    });
    it('reports a malformed timestamp before a malformed signature', () => {
      expectRefusal(checkSlackRequest(docInput({ timestamp: 'abc', signature: 'nonsense' })), 'malformed-timestamp');
    });
    it('reports a stale or future timestamp before a malformed signature', () => {
      expectRefusal(checkSlackRequest({ ...signedAt(301), signature: 'nonsense' }), 'stale-timestamp');
      expectRefusal(checkSlackRequest({ ...signedAt(-301), signature: 'nonsense' }), 'future-timestamp');
    });
    it('reports a stale timestamp even when the signature matches', () => {
      expectRefusal(checkSlackRequest(signedAt(10_000)), 'stale-timestamp');
    });
    it('reports a malformed signature before comparing anything', () => {
      expectRefusal(checkSlackRequest(docInput({ signature: 'v0=zz', rawBody: 'altered' })), 'malformed-signature');
    });
  });

  describe('caller errors throw rather than pass', () => {
    it('refuses an empty signing secret', () => {
      expect(() => checkSlackRequest(docInput({ signingSecret: '' }))).toThrow(/signing secret is empty/);
      expect(() => signSlackRequest('', DOC_TIMESTAMP, DOC_BODY)).toThrow(/signing secret is empty/);
    });
    it('refuses an invalid now (which would otherwise compare as in range)', () => {
      expect(() => checkSlackRequest(docInput({ now: new Date(Number.NaN) }))).toThrow(RangeError);
    });
  });
});
