/** Local mode stands in for one account in one region; the SDK needs both, and credentials, to sign. */
export const LOCAL_REGION = 'local';
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_TABLE_NAME = 'stepline-runs';
