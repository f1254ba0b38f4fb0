/**
 * Commit times, as each source writes them, made ISO 8601 (UTC) for the run record's `committedAt`, where
 * a change's lead time starts (core/metrics/). A date a source writes in another form is "not known", never
 * a guess.
 */

/**
 * CodeCommit's `UserInfo.date` (GetCommit's author and committer): "in timestamp format with GMT offset"
 * (https://docs.aws.amazon.com/codecommit/latest/APIReference/API_UserInfo.html), which its examples show as
 * git's raw date, epoch seconds and the committer's offset: `"1484167798 -0800"` (aws-cli's example for
 * get-commit, awscli/examples/codecommit/get-commit.rst). The offset names the committer's zone; the instant is
 * the seconds alone.
 */
export function codeCommitDate(date: string | undefined): string | undefined {
  const match = /^(\d{1,12}) [+-]\d{4}$/.exec(date?.trim() ?? '');
  return match ? new Date(Number(match[1]) * 1000).toISOString() : undefined;
}

/**
 * A GitHub push's `head_commit.timestamp`: ISO 8601 with the committer's offset, e.g.
 * `2015-05-05T19:40:15-04:00` (GitHub's docs, webhook events and payloads, push).
 */
export function gitHubTimestamp(timestamp: string | undefined): string | undefined {
  if (!timestamp || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(timestamp))
    return undefined;
  const time = new Date(timestamp);
  return Number.isNaN(time.getTime()) ? undefined : time.toISOString();
}
