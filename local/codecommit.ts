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

/** CodeCommit's GetCommit and GetDifferences over the local repositories; a missing commit is CommitDoesNotExistException. */
export function codeCommitOperations(git: LocalGitSource) {
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
          .differences(r.repositoryName, r.beforeCommitSpecifier, r.afterCommitSpecifier)
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
      try {
        const { author, message, parents } = await git.getCommit(r.repositoryName, r.commitId);
        return { commit: { commitId: r.commitId, message, author, committer: author, parents } };
      } catch {
        throw serviceError('CommitDoesNotExistException', `Commit ${r.commitId} does not exist`);
      }
    }),
  };
}
