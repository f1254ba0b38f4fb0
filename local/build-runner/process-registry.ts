/**
 * Which build process groups are running, on disk, so that a local mode killed without warning
 * (kill -9, a crash, a closed terminal) leaves nothing running that nobody owns: the next start
 * reads the records and ends every group still alive. A record holds the group leader's start time
 * (Linux /proc), so a process id the system has since given to another program is never touched.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunningGroup {
  /** The process group id (= the pid of its leader, spawned `detached`). */
  readonly pgid: number;
  /** The leader's start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  readonly startTicks: string | undefined;
  readonly buildId: string;
  readonly buildDir: string;
}

export class ProcessRegistry {
  constructor(private readonly dir: string) {}

  /** Records a running group; the returned function removes the record when the group has ended. */
  register(pgid: number, owner: { buildId: string; buildDir: string }): () => void {
    mkdirSync(this.dir, { recursive: true });
    const record: RunningGroup = { pgid, startTicks: startTicksOf(pgid), ...owner };
    const file = join(this.dir, `${pgid}.json`);
    // Written aside and renamed into place: a kill mid-write leaves no half record for the next start.
    writeFileSync(`${file}.tmp`, JSON.stringify(record));
    renameSync(`${file}.tmp`, file);
    return () => rmSync(file, { force: true });
  }

  /**
   * Ends every recorded group whose leader is still the process that was recorded, and forgets all
   * records: run at start, when no build of this registry can be running.
   */
  reap(): { readonly group: RunningGroup; readonly killed: boolean }[] {
    if (!existsSync(this.dir)) return [];
    const reaped: { group: RunningGroup; killed: boolean }[] = [];
    for (const name of readdirSync(this.dir)) {
      const file = join(this.dir, name);
      // A whole record not yet renamed into place counts too; one a kill cut short mid-write cannot be
      // read, and only that instant's group can escape.
      const group = /\.json(\.tmp)?$/.test(name) ? readRecord(file) : undefined;
      if (group) {
        const running = group.startTicks !== undefined && startTicksOf(group.pgid) === group.startTicks;
        reaped.push({ group, killed: running && kill(group.pgid) });
      }
      rmSync(file, { force: true });
    }
    return reaped;
  }
}

function readRecord(file: string): RunningGroup | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunningGroup;
  } catch {
    return undefined;
  }
}

function kill(pgid: number): boolean {
  try {
    process.kill(-pgid, 'SIGKILL');
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** A process's start time in clock ticks since boot: with its pid, it names one process for good. */
export function startTicksOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
