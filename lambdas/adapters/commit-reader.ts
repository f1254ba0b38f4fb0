import { CodeCommitClient, GetCommitCommand } from '@aws-sdk/client-codecommit';
import type { CommitReader } from '../../core/ports';

export class CodeCommitReader implements CommitReader {
  constructor(private readonly codecommit: CodeCommitClient) {}

  async getCommit(repository: string, commitId: string) {
    const { commit } = await this.codecommit.send(new GetCommitCommand({ repositoryName: repository, commitId }));
    const author = commit?.author;
    return {
      author: author?.name && author.email ? { name: author.name, email: author.email } : undefined,
      message: commit?.message?.trim(),
    };
  }
}
