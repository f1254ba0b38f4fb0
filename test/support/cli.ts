/** The stepline CLI as a user runs it: a child process (through tsx, as `npm start` does), its output and exit code. */
import { execFile, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports';

export const ROOT = join(__dirname, '..', '..');
export const TSX_CLI = join(ROOT, 'node_modules/tsx/dist/cli.mjs');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `stepline <args>`; `email` is the git identity it runs as (`git config user.email`). A `start`
 * that names no `--port` is given a free one: tests run side by side, and never count on the default
 * port (test/cli/start-port.test.ts is the one that uses it).
 */
export async function stepline(args: readonly string[], options: { email?: string } = {}): Promise<CliResult> {
  if (args[0] === 'start' && !args.some((arg) => arg === '--port' || arg.startsWith('--port=')))
    args = [...args, '--port', String(await freePort())];
  const env = options.email
    ? { ...process.env, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'user.email', GIT_CONFIG_VALUE_0: options.email }
    : process.env;
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [TSX_CLI, 'cli/stepline.ts', ...args], {
      cwd: ROOT,
      env,
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as CliResult;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/**
 * `stepline start --serve` on a config file and state directory, run by Node itself (tsx as a loader, not
 * tsx's wrapper process) so that signals reach local mode, on a free port (never the default another test
 * may hold). `detached`: in a process group of its own, to be killed whole as a closed terminal would.
 */
export async function serveLocalMode(
  configFile: string,
  stateDir: string,
  options: { readonly stdio: StdioOptions; readonly detached?: boolean },
): Promise<ChildProcess> {
  const args = ['--import', 'tsx', 'cli/stepline.ts', 'start', '--serve', '--config', configFile];
  args.push('--state-dir', stateDir, '--port', String(await freePort()));
  return spawn(process.execPath, args, { cwd: ROOT, stdio: options.stdio, detached: options.detached ?? false });
}
