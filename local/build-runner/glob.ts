import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { globToRegExp } from '../../core/glob';

export async function listFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    await Promise.all(
      entries.map(async (entry) => {
        const relative = prefix + entry.name;
        if (entry.isDirectory()) return walk(join(dir, entry.name), `${relative}/`);
        if (entry.isFile()) return void files.push(relative);
        if (entry.isSymbolicLink() && (await stat(join(dir, entry.name)).catch(() => undefined))?.isFile()) {
          files.push(relative);
        }
      }),
    );
  };
  await walk(root, '');
  return files.sort();
}

/** The files under `root` that match one of `patterns` and none of `excludes`. */
export async function matchFiles(
  root: string,
  patterns: readonly string[],
  excludes: readonly string[],
): Promise<string[]> {
  const include = patterns.map(globToRegExp);
  const exclude = excludes.map(globToRegExp);
  const files = await listFiles(root);
  return files.filter((file) => include.some((re) => re.test(file)) && !exclude.some((re) => re.test(file)));
}

/** The directories a `base-directory` value names; CodeBuild lets it carry a wildcard (`my-build*`). */
export async function expandBaseDirectories(root: string, baseDirectory: string | undefined): Promise<string[]> {
  if (baseDirectory === undefined) return [root];
  if (!/[*?[{]/.test(baseDirectory)) return [join(root, baseDirectory)];
  const pattern = globToRegExp(baseDirectory);
  const matches: string[] = [];
  const walk = async (dir: string, prefix: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.filter((e) => e.isDirectory())) {
      const relative = prefix + entry.name;
      if (pattern.test(relative)) matches.push(join(root, relative));
      else if (depth > 1) await walk(join(dir, entry.name), `${relative}/`, depth - 1);
    }
  };
  await walk(root, '', baseDirectory.split('/').length);
  return matches.sort();
}
