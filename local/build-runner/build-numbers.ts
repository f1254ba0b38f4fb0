import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Hands out a project's build numbers 1, 2, 3… across processes: a number is taken by creating its
 * marker file exclusively, so two runners never get the same one; `last` only saves scanning.
 */
export function nextBuildNumber(projectDir: string): number {
  const numbersDir = join(projectDir, 'build-numbers');
  mkdirSync(numbersDir, { recursive: true });
  const lastFile = join(numbersDir, 'last');
  let candidate = readLast(lastFile) + 1;
  for (;;) {
    try {
      closeSync(openSync(join(numbersDir, String(candidate)), 'wx'));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      candidate++;
    }
  }
  writeFileSync(lastFile, String(candidate));
  return candidate;
}

function readLast(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8')) || 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}
