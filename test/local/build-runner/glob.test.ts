import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { globToRegExp } from '../../../core/glob';
import { expandBaseDirectories, matchFiles } from '../../../local/build-runner/glob';

describe('globToRegExp', () => {
  it.each([
    ['**/*', 'a/b/c.txt', true],
    ['**/*', '.hidden', true],
    ['dir/*', 'dir/a.txt', true],
    ['dir/*', 'dir/sub/a.txt', false],
    ['dir/**/*', 'dir/sub/a.txt', true],
    ['dir/**/*', 'dir/a.txt', true],
    ['**/*.xml', 'x.xml', true],
    ['**/*.xml', 'a/b/x.xml', true],
    ['*.{js,map}', 'a.map', true],
    ['file?.[ch]', 'file1.c', true],
    ['file?.[!ch]', 'file1.c', false],
    ['./a.txt', 'a.txt', true],
    ['a+b(1).txt', 'a+b(1).txt', true],
  ])('%s against %s is %s', (pattern, path, expected) => {
    expect(globToRegExp(pattern).test(path)).toBe(expected);
  });
});

describe('matchFiles and expandBaseDirectories', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'stepline-glob-'));
    for (const file of ['my-build1/my-file1.txt', 'my-build2/my-file2.txt', 'my-build2/my-subdirectory/my-file3.txt']) {
      mkdirSync(join(root, file, '..'), { recursive: true });
      writeFileSync(join(root, file), file);
    }
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('matches and excludes relative to the base', async () => {
    expect(await matchFiles(join(root, 'my-build2'), ['*/my-file3.txt'], [])).toEqual(['my-subdirectory/my-file3.txt']);
    expect(await matchFiles(root, ['**/*'], ['my-build2/**/*'])).toEqual(['my-build1/my-file1.txt']);
  });

  it('expands a wildcard base directory to the top-level directories it names', async () => {
    expect(await expandBaseDirectories(root, 'my-build*')).toEqual([join(root, 'my-build1'), join(root, 'my-build2')]);
  });
});
