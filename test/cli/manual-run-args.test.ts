/** `stepline rerun` and `stepline release` as the command line reads them (cli/args.ts), before anything is sent. */
import { parseCommandLine } from '../../cli/args';

describe('rerun and release on the command line', () => {
  it('takes a run, or a pipeline and a full commit id', () => {
    expect(parseCommandLine(['rerun', 'demo-0123456789ab-00000001'])).toMatchObject({
      kind: 'run',
      command: 'rerun',
      args: ['demo-0123456789ab-00000001'],
    });
    expect(parseCommandLine(['release', 'demo', '--commit', 'a'.repeat(40), '--aws'])).toMatchObject({
      kind: 'run',
      command: 'release',
      args: ['demo'],
      values: { commit: 'a'.repeat(40), aws: true },
    });
  });

  it('refuses a short or malformed commit, and a missing argument, as usage errors', () => {
    expect(parseCommandLine(['release', 'demo', '--commit', 'abc1234'])).toMatchObject({
      kind: 'usage-error',
      message: '--commit must be a full commit id (40 hex characters), got "abc1234"',
    });
    expect(parseCommandLine(['rerun'])).toMatchObject({ kind: 'usage-error', message: 'RUN is missing' });
    expect(parseCommandLine(['release'])).toMatchObject({ kind: 'usage-error', message: 'PIPELINE is missing' });
  });
});
