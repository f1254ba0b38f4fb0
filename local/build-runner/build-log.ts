import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

/** The build's log file, in CodeBuild's format: `[Container] <UTC time> <message>` lines between command output. */
export class BuildLog {
  private readonly stream: WriteStream;

  constructor(
    readonly path: string,
    private readonly now: () => Date,
    private readonly onLine?: (line: string) => void,
  ) {
    this.stream = createWriteStream(path);
  }

  /** A line of the build agent's own narration. */
  container(message: string): void {
    this.output(`[Container] ${containerTime(this.now())} ${message}`);
  }

  /** A line a command printed (stdout and stderr are one stream, as on CodeBuild). */
  output(line: string): void {
    this.stream.write(`${line}\n`);
    this.onLine?.(line);
  }

  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

/** `2026/11/25 09:00:00.123000`: CodeBuild prints microseconds; a Date carries milliseconds. */
export function containerTime(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '/')} ${iso.slice(11, 23)}000`;
}
