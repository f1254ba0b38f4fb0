/**
 * Local Secrets Manager: GetSecretValue of the secrets local mode made (the webhook secret, the
 * approval link key, the Slack signing secret) and of the notification secrets a user put under
 * `<stateDir>/secrets/` (a Slack webhook URL, a GitHub token) to deliver for real from local mode.
 */
import * as z from 'zod';
import { awsName, operation } from './aws-endpoint';
import { serviceError } from './aws-errors';
import { localSecret } from './outbox';

export function secretsOperations(generatedSecrets: Readonly<Record<string, string>>, secretsDir: string) {
  return {
    'secretsmanager.GetSecretValue': operation(z.object({ SecretId: awsName }), (r) => {
      const value = generatedSecrets[r.SecretId] ?? localSecret(secretsDir, r.SecretId);
      if (value === undefined) {
        throw serviceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      }
      return { Name: r.SecretId, SecretString: value, VersionId: 'local' };
    }),
  };
}
