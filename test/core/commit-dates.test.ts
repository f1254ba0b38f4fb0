import { codeCommitDate, gitHubTimestamp } from '../../core/sources/commit-dates';

describe('commit times', () => {
  it("reads CodeCommit's date, epoch seconds and the committer's offset (aws-cli's get-commit example)", () => {
    // 1484167798 is 2017-01-11T20:49:58Z; the offset names the committer's zone, not another instant.
    expect(codeCommitDate('1484167798 -0800')).toBe('2017-01-11T20:49:58.000Z');
    expect(codeCommitDate('1484167798 +0530')).toBe('2017-01-11T20:49:58.000Z');
  });

  it("reads a GitHub push's timestamp with any offset", () => {
    expect(gitHubTimestamp('2015-05-05T19:40:15-04:00')).toBe('2015-05-05T23:40:15.000Z');
    expect(gitHubTimestamp('2019-05-15T15:19:25Z')).toBe('2019-05-15T15:19:25.000Z');
  });

  it('says "not known" for a form it does not read, never a guess', () => {
    for (const date of [undefined, '', '2017-01-11', 'Wed Jan 11 12:49:58 2017 -0800', '1484167798'])
      expect(codeCommitDate(date)).toBeUndefined();
    for (const timestamp of [undefined, '', '1484167798 -0800', '2015-05-05 19:40:15', '2015-13-45T99:40:15Z'])
      expect(gitHubTimestamp(timestamp)).toBeUndefined();
  });
});
