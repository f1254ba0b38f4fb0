/**
 * Local CodeCommit: what CodeCommit does for a pipeline besides storing git — the event it puts on
 * EventBridge for a ref update, and the two API operations the handlers call (GetCommit,
 * GetDifferences), served from the local bare repositories (local/git-source.ts).
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { CODECOMMIT_DETAIL_TYPE } from '../core/sources/triggers';
import { awsName, operation } from './aws-endpoint';
import { serviceError } from './aws-errors';
import { LOCAL_ACCOUNT, localArnOf } from './constants';
import { busEvent } from './event-bus';
import { LocalGitSource, type RefUpdate } from './git-source';

export const repositoryArn = (name: string) => localArnOf('codecommit', name);

/** The event CodeCommit puts on EventBridge for a ref update. */
export function codeCommitEvent(update: RefUpdate, time = new Date(), id: string = randomUUID()) {
  const [, kind, ...name] = update.ref.split('/');
  const event = LocalGitSource.refEvent(update);
  return busEvent({
    source: 'aws.codecommit',
    detailType: CODECOMMIT_DETAIL_TYPE,
    id,
    time,
    resources: [repositoryArn(update.repository)],
    detail: {
      callerUserArn: `arn:aws:iam::${LOCAL_ACCOUNT}:user/${process.env.USER ?? 'local'}`,
      commitId: event === 'referenceDeleted' ? update.oldCommitId : update.commitId,
      ...(event === 'referenceUpdated' ? { oldCommitId: update.oldCommitId } : {}),
      event,
      referenceFullName: update.ref,
      referenceName: name.join('/'),
      referenceType: kind === 'tags' ? 'tag' : 'branch',
      repositoryId: update.repository,
      repositoryName: update.repository,
    },
  });
}

/**
 * CodeCommit's GetCommit, GetBranch and GetDifferences over the local repositories, answering as CodeCommit's API
 * reference says (each operation's page, https://docs.aws.amazon.com/codecommit/latest/APIReference/): a
 * repository local mode does not have is RepositoryDoesNotExistException; a missing commit is
 * CommitIdDoesNotExistException for GetCommit and CommitDoesNotExistException for GetDifferences; a missing
 * branch BranchDoesNotExistException.
 */
export function codeCommitOperations(git: LocalGitSource) {
  const repositoryOf = (name: string) => {
    if (!git.hasRepository(name)) throw serviceError('RepositoryDoesNotExistException', `${name} does not exist`);
    return name;
  };
  return {
    'CodeCommit_20150413.GetDifferences': operation(
      z.object({
        repositoryName: awsName,
        beforeCommitSpecifier: awsName.optional(),
        afterCommitSpecifier: awsName,
        NextToken: z.string().optional(),
      }),
      async (r) => {
        const differences = await git
          .differences(repositoryOf(r.repositoryName), r.beforeCommitSpecifier, r.afterCommitSpecifier)
          .catch(() => {
            throw serviceError('CommitDoesNotExistException', `Commit ${r.afterCommitSpecifier} does not exist`);
          });
        const blob = (path?: string) => (path ? { path, mode: '100644', blobId: '' } : undefined);
        return {
          differences: differences.map((d) => ({
            changeType: d.changeType,
            beforeBlob: blob(d.beforePath),
            afterBlob: blob(d.afterPath),
          })),
        };
      },
    ),
    'CodeCommit_20150413.GetCommit': operation(z.object({ repositoryName: awsName, commitId: awsName }), async (r) => {
      const repository = repositoryOf(r.repositoryName);
      // "The commit ID. Commit IDs are the full SHA ID of the commit."
      if (!/^[0-9a-f]{40}$/.test(r.commitId))
        throw serviceError('InvalidCommitIdException', `The specified commit ID is not valid: ${r.commitId}`);
      let commit;
      try {
        commit = await git.getCommit(repository, r.commitId);
      } catch {
        throw serviceError('CommitIdDoesNotExistException', `Commit ${r.commitId} does not exist`);
      }
      const { author, committer, message, parents } = commit;
      return {
        commit: {
          commitId: r.commitId,
          message,
          author: { ...author, date: codeCommitUserDate(author.date) },
          committer: { ...committer, date: codeCommitUserDate(committer.date) },
          parents,
        },
      };
    }),
    'CodeCommit_20150413.GetBranch': operation(
      z.object({ repositoryName: awsName, branchName: z.string().min(1).max(256) }),
      async (r) => {
        const commitId = await git.branchHead(repositoryOf(r.repositoryName), r.branchName);
        if (!commitId) throw serviceError('BranchDoesNotExistException', `Branch ${r.branchName} does not exist`);
        return { branch: { branchName: r.branchName, commitId } };
      },
    ),
  };
}

/**
 * A git date (strict ISO 8601 with its offset) as CodeCommit's `UserInfo.date` writes it: "timestamp format
 * with GMT offset", epoch seconds and the offset, e.g. `"1484167798 -0800"`
 * (https://docs.aws.amazon.com/codecommit/latest/APIReference/API_UserInfo.html; the form from aws-cli's
 * get-commit example, awscli/examples/codecommit/get-commit.rst).
 */
export function codeCommitUserDate(isoDate: string): string {
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(isoDate);
  const zone = offset ? `${offset[1]}${offset[2]}${offset[3]}` : '+0000';
  return `${Math.floor(Date.parse(isoDate) / 1000)} ${zone}`;
}
