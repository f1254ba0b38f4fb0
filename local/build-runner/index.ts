export { LocalBuildRunner } from './runner';
export type { BuildRequest, LocalBuildResult, LocalBuildRunnerOptions, RecoveryReport } from './runner';
export { BuildRunnerError, InvalidBuildRequestError, UnknownRepositoryError } from './errors';
export { DEFAULT_PROJECT_CACHE } from './cache';
export type { LocalCacheMode, ProjectCache } from './cache';
