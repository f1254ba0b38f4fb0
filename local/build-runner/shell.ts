import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { killGroup } from './process-group';

/**
 * One bash instance for the whole build, so `cd`, variables and exports carry over from command to command
 * and phase to phase, as buildspec 0.2 promises. Node sends each command on fd 3 (NUL-terminated); bash runs
 * it and prints a marker with its exit status on stdout, behind everything the command printed, so output
 * and statuses arrive in order on one stream. `exit` in a command ends that command, not the shell, as a
 * failing `... || exit 1` does on CodeBuild.
 */
const LOOP = `exec 2>&1
shopt -s expand_aliases
alias exit=return
__stepline_run() { eval "$1"; }
while IFS= read -r -d '' -u 3 __stepline_command; do
  __stepline_run "$__stepline_command" 3<&-
  printf '\\036%s %d\\n' "$__STEPLINE_MARKER" "$?"
done
`;

export interface CommandResult {
  readonly status: number;
  /** The command's output when it was run with `capture`; otherwise it went to the log. */
  readonly output: string;
}

interface Pending {
  readonly capture: boolean;
  output: string;
  resolve(result: CommandResult): void;
}

export class BuildShell {
  private readonly child: ChildProcess;
  private readonly control: Writable;
  private readonly marker = randomBytes(12).toString('hex');
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';
  /** Commands sent and not yet finished, oldest first: bash runs them one after another. */
  private readonly pending: Pending[] = [];
  private exitStatus: number | undefined;

  /**
   * @param track records the shell's process group while it runs (the ProcessRegistry), returning
   *   the function that forgets it
   */
  constructor(
    env: NodeJS.ProcessEnv,
    cwd: string,
    private readonly onLine: (line: string) => void,
    track: (pgid: number) => () => void = () => () => undefined,
  ) {
    this.child = spawn('bash', ['-c', LOOP], {
      cwd,
      env: { ...env, __STEPLINE_MARKER: this.marker },
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore', 'pipe'],
    });
    const untrack = this.child.pid === undefined ? () => undefined : track(this.child.pid);
    this.control = this.child.stdio[3] as Writable;
    // A shell killed on abort or timeout breaks the pipe; its exit is reported through `close` instead.
    this.control.on('error', () => undefined);
    this.child.stdout?.on('data', (chunk: Buffer) => this.read(this.decoder.write(chunk)));
    this.child.once('close', (code, signal) => {
      untrack();
      this.exited(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15));
    });
  }

  /** False once bash has exited: a command ran `set -e` and failed, or the build was stopped. */
  get alive(): boolean {
    return this.exitStatus === undefined;
  }

  run(command: string, options: { capture?: boolean } = {}): Promise<CommandResult> {
    if (this.exitStatus !== undefined) return Promise.resolve({ status: this.exitStatus, output: '' });
    return new Promise((resolve) => {
      this.pending.push({ capture: options.capture ?? false, output: '', resolve });
      this.control.write(`${command.replace(/\0/g, '')}\0`);
    });
  }

  /** Ends the shell and anything it left running in the background. */
  kill(): void {
    killGroup(this.child);
  }

  private read(text: string): void {
    this.buffer += text;
    const markerStart = `\x1e${this.marker} `;
    for (;;) {
      const at = this.buffer.indexOf(markerStart);
      const newline = this.buffer.indexOf('\n', at);
      if (at === -1 || newline === -1) break;
      this.emit(this.buffer.slice(0, at));
      const status = Number(this.buffer.slice(at + markerStart.length, newline));
      this.buffer = this.buffer.slice(newline + 1);
      this.settle(status);
    }
    // Hand on whole lines only, and nothing from where a marker may be arriving in pieces.
    const partialMarker = this.buffer.lastIndexOf('\x1e');
    const tail = partialMarker === -1 ? '' : this.buffer.slice(partialMarker);
    const markerPending = partialMarker !== -1 && (markerStart.startsWith(tail) || tail.startsWith(markerStart));
    const end = markerPending ? partialMarker : this.buffer.length;
    const complete = this.buffer.lastIndexOf('\n', end - 1) + 1;
    this.emit(this.buffer.slice(0, complete));
    this.buffer = this.buffer.slice(complete);
  }

  private emit(text: string): void {
    if (text === '') return;
    const current = this.pending[0];
    if (current?.capture) {
      current.output += text;
      return;
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const line of lines) this.onLine(line);
  }

  private settle(status: number): void {
    const finished = this.pending.shift();
    finished?.resolve({ status, output: finished.output });
  }

  private exited(status: number): void {
    this.emit(this.buffer + this.decoder.end());
    this.buffer = '';
    this.exitStatus = status;
    while (this.pending.length > 0) this.settle(status);
  }
}
