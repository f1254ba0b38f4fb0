export { LocalBuildRunner } from './runner';
export type { BuildRequest, LocalBuildResult, LocalBuildRunnerOptions } from './runner';
export { BuildRunnerError, InvalidBuildRequestError, UnknownRepositoryError } from './errors';
