import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../core/ports';

/** How long a container keeps the webhook secret: a rotated secret is in use within this. */
const SECRET_CACHE_MS = 5 * 60_000;

/** Reads a secret string from Secrets Manager once per SECRET_CACHE_MS per container. Never logs it. */
export class CachedSecret {
  private cached?: { readonly value: Promise<string>; readonly until: number };

  constructor(
    private readonly secrets: SecretsManagerClient,
    private readonly secretId: string,
    private readonly now: Clock,
  ) {}

  value(): Promise<string> {
    const now = this.now().getTime();
    if (this.cached && this.cached.until > now) return this.cached.value;
    const value = this.secrets.send(new GetSecretValueCommand({ SecretId: this.secretId })).then((answer) => {
      if (!answer.SecretString) throw new Error(`secret ${this.secretId} has no string value`);
      return answer.SecretString;
    });
    this.cached = { value, until: now + SECRET_CACHE_MS };
    // A failed read is not kept: the next delivery asks again.
    value.catch(() => (this.cached = undefined));
    return value;
  }
}

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
