import type { AccountRegion } from '../core/deployment/targets';
import type { ArnOf } from '../core/platform-functions';

/**
 * The platform's account and Region in local mode (the SDK needs both, and credentials, to sign). Deploy
 * targets the config places in other accounts or Regions are stood up under those (local/accounts.ts).
 */
export const LOCAL_REGION = 'local';
export const LOCAL_ACCOUNT = '000000000000';
/** The platform's account and Region in local mode; a deploy target elsewhere is stood up under its own (local/accounts.ts). */
export const LOCAL_ENVIRONMENT: AccountRegion = { account: LOCAL_ACCOUNT, region: LOCAL_REGION };
/** An ARN of local mode's account and Region, as the declaration's triggers ask for one (core/platform-functions.ts ArnOf). */
export const localArnOf: ArnOf = (service, resource, name, separator = ':') =>
  `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${resource}${name === undefined ? '' : `${separator}${name}`}`;
/** Local mode's own key: the platform account's (local/iam.ts), for every client but the deploy function's STS. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
/**
 * The key the deploy function's STS client signs with: its role's session, as Lambda hands a function its
 * execution role's credentials. The deploy roles trust that role (core/deployment/targets.ts deployRoleTrustPolicy).
 */
export const LOCAL_DEPLOY_FUNCTION_CREDENTIALS = {
  accessKeyId: 'local-deploy-function',
  secretAccessKey: 'local',
} as const;
export const LOCAL_TABLE_NAME = 'stepline-runs';
