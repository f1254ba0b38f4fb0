/**
 * The command line as a user meets it, each case a real CLI process: a typo is a one-line error and
 * the command's usage with exit 2, never a stack trace; each command has its own help; `--version`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, stepline } from '../support/cli';

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

describe('stepline on the command line', () => {
  it('refuses an unknown flag with exit 2: one line naming it, then the usage of that command only', async () => {
    const result = await stepline(['approve', 'web-1', '--frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const [first, blank, usage] = result.stderr.split('\n');
    expect(first).toBe('stepline approve: unknown option --frobnicate');
    expect(blank).toBe('');
    expect(usage).toBe('usage: stepline approve RUN [--override --reason TEXT] [--aws] [--state-dir DIR]');
    expect(result.stderr).not.toMatch(/TypeError|ERR_PARSE_ARGS|at .*\.ts:\d+/);
    expect(result.stderr).not.toContain('stepline start');
  });

  it("refuses another command's flag, saying whose it is; a short flag and a missing value likewise", async () => {
    const serve = await stepline(['approvals', '--serve']);
    expect(serve.code).toBe(2);
    expect(serve.stderr).toMatch(
      /^stepline approvals: unknown option --serve \(an option of start\)\n\nusage: stepline approvals /,
    );
    const short = await stepline(['start', '-x']);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/^stepline start: unknown option -x\n/);
    const missing = await stepline(['start', '--state-dir', '--serve']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^stepline start: --state-dir needs a value \(--state-dir DIR\)\n/);
  });

  it('refuses an unknown command, and a command missing its argument or a required option, with exit 2', async () => {
    const unknown = await stepline(['aprove', 'web-1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^stepline: unknown command "aprove"\n\nusage: stepline <command> \[options\]/);
    expect(unknown.stderr).toContain('  approve    approve RUN');
    const reject = await stepline(['reject', 'web-1']);
    expect(reject.code).toBe(2);
    expect(reject.stderr).toMatch(/^stepline reject: --reason is required\n\nusage: stepline reject RUN --reason TEXT/);
    const deploy = await stepline(['deploy', 'rollback', 'web-1', '--reason', 'broken']);
    expect(deploy.code).toBe(2);
    expect(deploy.stderr).toMatch(
      /^stepline deploy: unknown action "rollback": one of promote, pause, resume, abort\n/,
    );
  });

  it("prints each command's own usage for --help and -h, exit 0; start's lists every option it takes", async () => {
    const start = await stepline(['start', '--help']);
    expect(start.code).toBe(0);
    expect(start.stderr).toBe('');
    expect(start.stdout).toMatch(/^usage: stepline start \[--serve\]/);
    for (const option of ['--time-scale N', '--smtp-relay URL', '--max-builds N', '--aws-credentials', '--config FILE'])
      expect(start.stdout).toContain(`  ${option} `);
    expect(start.stdout).toContain('0  every run it followed succeeded');
    expect(start.stdout).not.toContain('usage: stepline approve');

    const reject = await stepline(['reject', '-h']);
    expect(reject.code).toBe(0);
    expect(reject.stdout).toMatch(/^usage: stepline reject RUN --reason TEXT \[--aws\] \[--state-dir DIR\]\n/);
    expect(reject.stdout).toContain('1  the decision was refused');
    expect(reject.stdout).not.toContain('--time-scale');
    expect(reject.stdout).not.toContain('--override');

    const global = await stepline(['-h']);
    expect(global.code).toBe(0);
    expect(global.stdout).toContain('2  a usage error');
  });

  it("--version prints the package's version, exit 0", async () => {
    const result = await stepline(['--version']);
    expect(result).toEqual({ code: 0, stdout: `stepline ${version}\n`, stderr: '' });
  });
});
