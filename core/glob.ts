/** Path globs as CodeBuild reads them in buildspecs, and stepline in path filters. */

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
