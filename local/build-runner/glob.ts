import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Compiles a buildspec location pattern to a RegExp over '/'-separated relative paths:
 * `**` spans any number of directories, `*` and `?` stay inside one name, `[...]` and `{a,b}` as in bash.
 */
export function globToRegExp(pattern: string): RegExp {
  const segments = pattern.replace(/^\.\//, '').replace(/\/+$/, '').split('/');
  const parts = segments.map((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '**') return last ? '.*' : '(?:[^/]*/)*';
    return segmentSource(segment) + (last ? '' : '/');
  });
  return new RegExp(`^${parts.join('')}$`);
}

function segmentSource(segment: string): string {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i];
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end === -1) source += '\\[';
      else {
        const body = segment
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        source += `[${body}]`;
        i = end;
      }
    } else if (char === '{') {
      const end = segment.indexOf('}', i);
      if (end === -1) source += '\\{';
      else {
        source += `(?:${segment
          .slice(i + 1, end)
          .split(',')
          .map(segmentSource)
          .join('|')})`;
        i = end;
      }
    } else source += char.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return source;
}

/** Every regular file under `root` (symlinks to files included), as '/'-separated paths relative to it. */
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
