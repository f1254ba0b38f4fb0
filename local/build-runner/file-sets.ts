import { copyFile, mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FileSetSpec } from './buildspec';
import { expandBaseDirectories, matchFiles } from './glob';

export interface MatchedFile {
  /** Absolute path in the work tree. */
  readonly source: string;
  /** Path in the output: relative to the base directory, or the bare name with `discard-paths: yes`. */
  readonly target: string;
}

/** Resolves an `artifacts` or `reports/<group>` section against the work tree. */
export async function resolveFileSet(srcDir: string, spec: FileSetSpec): Promise<MatchedFile[]> {
  const matched: MatchedFile[] = [];
  for (const base of await expandBaseDirectories(srcDir, spec.baseDirectory)) {
    const files = await matchFiles(base, spec.files, spec.excludePaths).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    for (const file of files) {
      matched.push({ source: join(base, file), target: spec.discardPaths ? basename(file) : file });
    }
  }
  return matched;
}

/** Copies the files into `destination`, keeping their relative layout. */
export async function copyFiles(files: readonly MatchedFile[], destination: string): Promise<void> {
  const made = new Set<string>();
  for (const file of files) {
    const target = join(destination, file.target);
    const dir = dirname(target);
    if (!made.has(dir)) {
      await mkdir(dir, { recursive: true });
      made.add(dir);
    }
    await copyFile(file.source, target);
  }
}
