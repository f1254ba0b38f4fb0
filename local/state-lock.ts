/**
 * One local mode per state directory: two would share dynalite's files, the repositories and the
 * build records. The lock names its holder by pid and start time, so a lock left by a local mode
 * that was killed is taken over, and one held by a live local mode is refused with its pid.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTicksOf } from './build-runner/process-registry';

export class LocalModeBusyError extends Error {
  override readonly name = 'LocalModeBusyError';
  constructor(
    readonly stateDir: string,
    readonly pid: number,
  ) {
    super(`local mode is already running on ${stateDir} (pid ${pid}): stop it first, or use another --state-dir`);
  }
}

interface Holder {
  readonly pid: number;
  readonly startTicks?: string;
}

/** Takes the state directory's lock; the returned function releases it. */
export function lockStateDir(stateDir: string): () => void {
  const file = join(stateDir, 'local-mode.lock');
  const holder = readHolder(file);
  if (holder?.startTicks && startTicksOf(holder.pid) === holder.startTicks) {
    throw new LocalModeBusyError(stateDir, holder.pid);
  }
  const mine: Holder = { pid: process.pid, startTicks: startTicksOf(process.pid) };
  writeFileSync(file, JSON.stringify(mine));
  return () => rmSync(file, { force: true });
}

function readHolder(file: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}
