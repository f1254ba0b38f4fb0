/**
 * Which build process groups are running, on disk, so that a local mode killed without warning
 * (kill -9, a crash, a closed terminal) leaves nothing running that nobody owns: the next start
 * reads the records and ends every group still alive. A record holds the group leader's start time
 * (Linux /proc), so a process id the system has since given to another program is never touched.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
    writeFileSync(file, JSON.stringify(record));
    return () => rmSync(file, { force: true });
  }

  /**
   * Ends every recorded group whose leader is still the process that was recorded, and forgets all
   * records: run at start, when no build of this registry can be running.
   */
  reap(): { readonly group: RunningGroup; readonly killed: boolean }[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((name) => name.endsWith('.json'))
      .map((name) => {
        const file = join(this.dir, name);
        const group = JSON.parse(readFileSync(file, 'utf8')) as RunningGroup;
        const killed =
          group.startTicks !== undefined && startTicksOf(group.pgid) === group.startTicks && kill(group.pgid);
        rmSync(file, { force: true });
        return { group, killed };
      });
  }
}

/** Whether a group with this id has a live process (signal 0 tests without sending). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
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
