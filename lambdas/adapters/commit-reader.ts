import { CodeCommitClient, CommitDoesNotExistException, GetCommitCommand } from '@aws-sdk/client-codecommit';
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
    };
  }
}
