import type { ArnOf } from '../core/platform-functions';

/** Local mode stands in for one account in one region; the SDK needs both, and credentials, to sign. */
export const LOCAL_REGION = 'local';
export const LOCAL_ACCOUNT = '000000000000';
/** An ARN of local mode's account and Region, as the declaration's triggers ask for one (core/platform-functions.ts ArnOf). */
export const localArnOf: ArnOf = (service, resource, name, separator = ':') =>
  `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${resource}${name === undefined ? '' : `${separator}${name}`}`;
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_TABLE_NAME = 'stepline-runs';
