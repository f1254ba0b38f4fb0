import { readFileSync, readdirSync } from 'node:fs';

/** A process's state letter and process group, read from /proc; undefined once it is gone. */
function statOf(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: state!, pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

/** Whether a process still runs: it exists and is not a zombie its parent has yet to reap. */
export function isLive(pid: number): boolean {
  const stat = statOf(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** The live (not zombie) processes of a process group. */
export function liveMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => statOf(pid)?.pgrp === pgid && isLive(pid));
}
