/** GitHub's webhook signature, checked on the exact bytes received. */
import { createHmac, timingSafeEqual } from 'node:crypto';

const HUB_SIGNATURE = /^sha256=([0-9a-f]{64})$/;

/**
 * Whether `header` (X-Hub-Signature-256) is `sha256=` and the hex HMAC-SHA256 of the exact body bytes
 * keyed with the secret, compared in constant time.
 */
export function hubSignatureMatches(secret: string, body: Uint8Array, header: string): boolean {
  const match = HUB_SIGNATURE.exec(header);
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(match[1]!, 'hex'));
}
