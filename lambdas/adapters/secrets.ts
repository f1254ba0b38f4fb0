/**
 * Secrets from Secrets Manager as the handlers read them: cached per container (a rotated secret is
 * in use within SECRET_CACHE_MS), a failed read not cached, and the value never logged.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretValueMissingError } from '../../core/config/errors';
import { DeliveryError } from '../../core/notification/errors';
import type { Clock } from '../../core/ports';

/** How long a container keeps a secret: a rotated secret is in use within this. */
const SECRET_CACHE_MS = 5 * 60_000;

/** The soonest a cached secret may be read again on request (`refreshed`): bad requests cannot force reads. */
const REFRESH_AFTER_MS = 30_000;

/** Reads a secret string from Secrets Manager once per SECRET_CACHE_MS per container. Never logs it. */
export class CachedSecret {
  private cached?: { readonly value: Promise<string>; readonly until: number; readonly readAt: number };

  constructor(
    private readonly secrets: SecretsManagerClient,
    private readonly secretId: string,
    private readonly now: Clock,
  ) {}

  value(): Promise<string> {
    const now = this.now().getTime();
    if (this.cached && this.cached.until > now) return this.cached.value;
    const value = this.secrets.send(new GetSecretValueCommand({ SecretId: this.secretId })).then((answer) => {
      if (!answer.SecretString) throw new SecretValueMissingError(this.secretId);
      return answer.SecretString;
    });
    this.cached = { value, until: now + SECRET_CACHE_MS, readAt: now };
    // A failed read is not kept: the next delivery asks again.
    value.catch(() => (this.cached = undefined));
    return value;
  }

  /**
   * The secret read again, when the cached value is at least REFRESH_AFTER_MS old (a signature that
   * does not match may be one made with a just-rotated secret); undefined when it is younger.
   */
  refreshed(): Promise<string> | undefined {
    if (this.cached && this.now().getTime() - this.cached.readAt < REFRESH_AFTER_MS) return undefined;
    this.cached = undefined;
    return this.value();
  }
}

/** Secrets by name, each cached as CachedSecret caches it. */
export class SecretReader {
  private readonly secrets = new Map<string, CachedSecret>();

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly now: Clock,
  ) {}

  async value(name: string): Promise<string> {
    let secret = this.secrets.get(name);
    if (!secret) this.secrets.set(name, (secret = new CachedSecret(this.client, name, this.now)));
    try {
      return await secret.value();
    } catch (error) {
      const missing = (error as Error)?.name === 'ResourceNotFoundException';
      throw new DeliveryError(
        missing
          ? `secret ${name} does not exist: create it (see the README, "Notifications")`
          : `secret ${name} could not be read: ${(error as Error)?.name ?? 'error'}`,
        !missing,
        undefined,
        { cause: error },
      );
    }
  }
}
