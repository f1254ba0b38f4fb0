/** Base of every error the local build runner raises; a failing build is a result, never one of these. */
export class BuildRunnerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BuildRunnerError';
  }
}

/** The request names a repository path that is not a git repository. */
export class UnknownRepositoryError extends BuildRunnerError {
  constructor(readonly repositoryPath: string) {
    super(`Not a git repository: ${repositoryPath}`);
    this.name = 'UnknownRepositoryError';
  }
}

/** The request itself is malformed (a project name CodeBuild would refuse, a bad timeout). */
export class InvalidBuildRequestError extends BuildRunnerError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidBuildRequestError';
  }
}

/** The buildspec cannot be run; CodeBuild reports this as YAML_FILE_ERROR in DOWNLOAD_SOURCE. */
export class BuildspecError extends BuildRunnerError {
  constructor(message: string) {
    super(message);
    this.name = 'BuildspecError';
  }
}
