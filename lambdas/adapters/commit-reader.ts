import {
  BranchDoesNotExistException,
  CodeCommitClient,
  CommitDoesNotExistException,
  CommitIdDoesNotExistException,
  GetBranchCommand,
  GetCommitCommand,
  GetDifferencesCommand,
  RepositoryDoesNotExistException,
} from '@aws-sdk/client-codecommit';
import { BranchNotFoundError, CommitNotFoundError } from '../../core/errors';
import type { BranchHeads, CommitReader } from '../../core/ports';
import { codeCommitDate } from '../../core/sources/commit-dates';

export class CodeCommitReader implements CommitReader, BranchHeads {
  constructor(private readonly codecommit: CodeCommitClient) {}

  /**
   * GetCommit names a commit the repository lacks CommitIdDoesNotExistException (its API reference's
   * errors, https://docs.aws.amazon.com/codecommit/latest/APIReference/API_GetCommit.html); the
   * CommitDoesNotExistException of GetDifferences is taken too, and a repository that does not exist has
   * no such commit either (a request naming it is recorded FAILED, not retried).
   */
  async getCommit(repository: string, commitId: string) {
    let commit;
    try {
      ({ commit } = await this.codecommit.send(new GetCommitCommand({ repositoryName: repository, commitId })));
    } catch (error) {
      if (
        error instanceof CommitIdDoesNotExistException ||
        error instanceof CommitDoesNotExistException ||
        error instanceof RepositoryDoesNotExistException
      )
        throw new CommitNotFoundError(repository, commitId, { cause: error });
      throw error;
    }
    const author = commit?.author;
    const committedAt = codeCommitDate(commit?.committer?.date);
    return {
      author: author?.name && author.email ? { name: author.name, email: author.email } : undefined,
      message: commit?.message?.trim(),
      parents: commit?.parents,
      ...(committedAt ? { committedAt } : {}),
    };
  }

  /** GetBranch (https://docs.aws.amazon.com/codecommit/latest/APIReference/API_GetBranch.html): its last commit. */
  async head(repository: string, branch: string): Promise<string> {
    try {
      const answer = await this.codecommit.send(
        new GetBranchCommand({ repositoryName: repository, branchName: branch }),
      );
      if (!answer.branch?.commitId) throw new BranchNotFoundError(repository, branch, 'branch');
      return answer.branch.commitId;
    } catch (error) {
      if (error instanceof BranchDoesNotExistException)
        throw new BranchNotFoundError(repository, branch, 'branch', { cause: error });
      if (error instanceof RepositoryDoesNotExistException)
        throw new BranchNotFoundError(repository, branch, 'repository', { cause: error });
      throw error;
    }
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
