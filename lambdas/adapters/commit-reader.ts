import {
  CodeCommitClient,
  CommitDoesNotExistException,
  GetCommitCommand,
  GetDifferencesCommand,
} from '@aws-sdk/client-codecommit';
import { CommitNotFoundError } from '../../core/errors';
import type { CommitReader } from '../../core/ports';

export class CodeCommitReader implements CommitReader {
  constructor(private readonly codecommit: CodeCommitClient) {}

  async getCommit(repository: string, commitId: string) {
    let commit;
    try {
      ({ commit } = await this.codecommit.send(new GetCommitCommand({ repositoryName: repository, commitId })));
    } catch (error) {
      if (error instanceof CommitDoesNotExistException)
        throw new CommitNotFoundError(repository, commitId, { cause: error });
      throw error;
    }
    const author = commit?.author;
    return {
      author: author?.name && author.email ? { name: author.name, email: author.email } : undefined,
      message: commit?.message?.trim(),
      parents: commit?.parents,
    };
  }

  async changedFiles(repository: string, before: string | undefined, after: string): Promise<string[]> {
    const files = new Set<string>();
    let nextToken: string | undefined;
    do {
      const page = await this.codecommit.send(
        new GetDifferencesCommand({
          repositoryName: repository,
          beforeCommitSpecifier: before,
          afterCommitSpecifier: after,
          NextToken: nextToken,
        }),
      );
      for (const difference of page.differences ?? []) {
        // A rename changes both paths; a deletion has only the before blob, an addition only the after.
        for (const path of [difference.beforeBlob?.path, difference.afterBlob?.path]) if (path) files.add(path);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return [...files];
  }
}
