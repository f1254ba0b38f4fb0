import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A scratch directory holding a real git repository with one commit of the given files. */
export interface Fixture {
  readonly dir: string;
  readonly repo: string;
  readonly rootDir: string;
  commit(files: Record<string, string>): string;
  cleanup(): void;
}

export function createFixture(files: Record<string, string>): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'stepline-build-runner-'));
  const repo = join(dir, 'repo');
  const git = (...args: string[]): string =>
    execFileSync('git', ['-C', repo, '-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], {
      encoding: 'utf8',
    }).trim();
  mkdirSync(repo);
  git('init', '--quiet', '--initial-branch=main');
  const commit = (next: Record<string, string>): string => {
    for (const [path, content] of Object.entries(next)) {
      mkdirSync(dirname(join(repo, path)), { recursive: true });
      writeFileSync(join(repo, path), content);
    }
    git('add', '--all');
    git('commit', '--quiet', '--allow-empty', '--message', 'fixture');
    return git('rev-parse', 'HEAD');
  };
  commit(files);
  return {
    dir,
    repo,
    rootDir: join(dir, 'root'),
    commit,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
