export { LocalBuildRunner } from './runner';
export type { BuildRequest, LocalBuildResult, LocalBuildRunnerOptions, RecoveryReport } from './runner';
export { BuildRunnerError, InvalidBuildRequestError, UnknownRepositoryError } from './errors';
