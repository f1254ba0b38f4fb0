/**
 * Local source repositories: bare git repositories standing in for CodeCommit. A push to one runs
 * its post-receive hook, which tells the local runtime; the runtime turns each updated ref into a
 * CodeCommit-shaped event.
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PipelineConfig } from '../core/config/stepline-config';
import type { Person } from '../core/records';

const run = promisify(execFile);
/** The remote local mode adds to a user's repository. */
export const LOCAL_REMOTE = 'stepline';
const ZERO = /^0+$/;
/** Files of a seed directory that a commit never carries (build outputs, installed packages). */
const NOT_SOURCE = new Set(['.git', 'node_modules', 'dist', '.build', 'reports']);

/** Who local mode's commits of a seed directory are by. */
export const SEED_AUTHOR = { name: 'stepline local', email: 'local@stepline.invalid' } as const;

/**
 * The emails a pipeline's local commits are written by, as separation of duties sees them: the
 * seed's author, or the git identity (user.email) of the user's repository; none when it has none.
 */
export async function localAuthors(pipeline: Pick<PipelineConfig, 'localSeed' | 'localRepository'>): Promise<string[]> {
  if (pipeline.localSeed) return [SEED_AUTHOR.email];
  if (!pipeline.localRepository) return [];
  const email = await git(pipeline.localRepository, 'config', 'user.email').catch(() => '');
  return email.trim() ? [email.trim()] : [];
}

/**
 * The local repository that stands in for a pipeline's source: its CodeCommit repository's name, or
 * `github.<owner>.<repo>` for a GitHub one (a push to it is delivered as GitHub would deliver it).
 */
export function localRepositoryName(pipeline: PipelineConfig): string {
  const { source } = pipeline;
  return source.type === 'codecommit' ? source.repository : `github.${source.owner}.${source.repo}`;
}

export interface RefUpdate {
  readonly repository: string;
  readonly oldCommitId: string;
  readonly commitId: string;
  readonly ref: string;
}

export class LocalGitSource {
  constructor(private readonly rootDir: string) {}

  repositoryPath(repository: string): string {
    return join(this.rootDir, 'git', `${repository}.git`);
  }

  /** Creates the bare repository if needed and (re)writes its hook to notify `hookUrl`. */
  async ensureRepository(repository: string, hookUrl: string): Promise<string> {
    const path = this.repositoryPath(repository);
    if (!existsSync(path)) {
      await mkdir(path, { recursive: true });
      await git(path, 'init', '--bare', '--quiet', '--initial-branch=main');
    }
    const hook = join(path, 'hooks', 'post-receive');
    await writeFile(hook, postReceiveHook(repository, hookUrl));
    await chmod(hook, 0o755);
    return path;
  }

  /**
   * Connects a repository of the user's to a local repository: a remote named `stepline` pointing at
   * it, so `git push stepline <ref>` runs the pipeline on exactly the pushed commit.
   */
  async connect(repository: string, userRepository: string): Promise<void> {
    const remotes = (await git(userRepository, 'remote')).split('\n');
    const url = this.repositoryPath(repository);
    if (remotes.includes(LOCAL_REMOTE)) await git(userRepository, 'remote', 'set-url', LOCAL_REMOTE, url);
    else await git(userRepository, 'remote', 'add', LOCAL_REMOTE, url);
  }

  /**
   * Pushes the user repository's HEAD to `branch` of the local repository. Resolves with the commit
   * id and whether the branch moved (pushing a commit the branch already has changes nothing).
   */
  async pushHead(
    repository: string,
    userRepository: string,
    branch: string,
  ): Promise<{ commitId: string; moved: boolean }> {
    const before = await git(
      this.repositoryPath(repository),
      'rev-parse',
      '--verify',
      '--quiet',
      `refs/heads/${branch}`,
    ).catch(() => '');
    await git(userRepository, 'push', '--quiet', '--force', LOCAL_REMOTE, `HEAD:refs/heads/${branch}`);
    const commitId = (await git(userRepository, 'rev-parse', 'HEAD')).trim();
    return { commitId, moved: before.trim() !== commitId };
  }

  /** Commits the seed directory's files to `branch` from a work tree and pushes them. */
  async commitAndPush(repository: string, branch: string, seedDir: string, message: string): Promise<string> {
    const workTree = join(this.rootDir, 'workspaces', repository);
    if (!existsSync(join(workTree, '.git'))) {
      await rm(workTree, { recursive: true, force: true });
      await git(this.rootDir, 'clone', '--quiet', this.repositoryPath(repository), workTree);
      await git(workTree, 'config', 'user.name', SEED_AUTHOR.name);
      await git(workTree, 'config', 'user.email', SEED_AUTHOR.email);
    }
    await git(workTree, 'checkout', '--quiet', '-B', branch);
    for (const entry of await readdir(workTree)) {
      if (entry !== '.git') await rm(join(workTree, entry), { recursive: true, force: true });
    }
    await cp(seedDir, workTree, { recursive: true, filter: (src) => !NOT_SOURCE.has(src.split('/').pop() ?? '') });
    await git(workTree, 'add', '--all');
    await git(workTree, 'commit', '--quiet', '--allow-empty', '-m', message);
    await git(workTree, 'push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`);
    return (await git(workTree, 'rev-parse', 'HEAD')).trim();
  }

  /** A commit's author and committer (each date strict ISO 8601 with its offset), message and parents. */
  async getCommit(
    repository: string,
    commitId: string,
  ): Promise<{
    author: Person & { date: string };
    committer: Person & { date: string };
    message: string;
    parents: string[];
  }> {
    const out = await git(
      this.repositoryPath(repository),
      'show',
      '-s',
      '--format=%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%P%x00%B',
      `${commitId}^{commit}`,
      '--',
    );
    const [name = '', email = '', date = '', cName = '', cEmail = '', cDate = '', parents = '', message = ''] =
      out.split('\0');
    return {
      author: { name, email, date },
      committer: { name: cName, email: cEmail, date: cDate },
      message: message.trim(),
      parents: parents.split(' ').filter(Boolean),
    };
  }

  /** Whether the repository exists (a bare repository under the root). */
  hasRepository(repository: string): boolean {
    return existsSync(this.repositoryPath(repository));
  }

  /** The commit `refs/heads/<branch>` points at; undefined when there is no such branch. */
  async branchHead(repository: string, branch: string): Promise<string | undefined> {
    const out = await git(
      this.repositoryPath(repository),
      'rev-parse',
      '--verify',
      '--quiet',
      `refs/heads/${branch}^{commit}`,
    ).catch(() => '');
    return out.trim() || undefined;
  }

  /**
   * The files that differ between two commits, as CodeCommit's GetDifferences lists them (both paths
   * of a rename); without `before`, every file of `after`, as added.
   */
  async differences(
    repository: string,
    before: string | undefined,
    after: string,
  ): Promise<{ changeType: 'A' | 'M' | 'D'; beforePath?: string; afterPath?: string }[]> {
    const path = this.repositoryPath(repository);
    if (before === undefined) {
      const files = (await git(path, 'ls-tree', '-r', '-z', '--name-only', after)).split('\0').filter(Boolean);
      return files.map((file) => ({ changeType: 'A' as const, afterPath: file }));
    }
    const out = await git(path, 'diff', '--name-status', '-z', '--no-renames', before, after);
    const fields = out.split('\0').filter(Boolean);
    const differences: { changeType: 'A' | 'M' | 'D'; beforePath?: string; afterPath?: string }[] = [];
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const status = fields[i]!.charAt(0);
      const path = fields[i + 1]!;
      if (status === 'A') differences.push({ changeType: 'A', afterPath: path });
      else if (status === 'D') differences.push({ changeType: 'D', beforePath: path });
      else differences.push({ changeType: 'M', beforePath: path, afterPath: path });
    }
    return differences;
  }

  /** Parses post-receive lines (`<old> <new> <ref>`). */
  static refUpdates(repository: string, lines: string): RefUpdate[] {
    return lines
      .split('\n')
      .filter((l) => l.trim())
      .map((line) => {
        const [oldCommitId = '', commitId = '', ref = ''] = line.trim().split(/\s+/);
        return { repository, oldCommitId, commitId, ref };
      });
  }

  static refEvent(update: RefUpdate): 'referenceCreated' | 'referenceUpdated' | 'referenceDeleted' {
    if (ZERO.test(update.oldCommitId)) return 'referenceCreated';
    if (ZERO.test(update.commitId)) return 'referenceDeleted';
    return 'referenceUpdated';
  }
}

/**
 * The post-receive hook of a local repository: tells local mode of the push at `hookUrl` with the ref
 * lines git gives it. It must not fail a push, and says on the pusher's terminal when the push was not
 * delivered. The delivery id is made once per push: a replay of the request is recognised as the same push.
 *
 * curl, where the machine has it with a UUID source, sends the request in a few milliseconds (`-q`: no
 * ~/.curlrc; `--noproxy`: never through the user's proxy, as Node's fetch). Otherwise Node, the one
 * interpreter local mode can count on, sends it: its start alone costs tens of milliseconds, and more on
 * a busy machine, on the way from every push to its run. Ref names hold no control characters or
 * backslashes (git check-ref-format), so only their quotes need escaping in the JSON.
 */
export function postReceiveHook(repository: string, hookUrl: string): string {
  const notify = `const repository=${JSON.stringify(repository)};let d='';process.stdin.on('data',c=>d+=c).on('end',()=>fetch(${JSON.stringify(hookUrl)},{method:'POST',body:JSON.stringify({repository,lines:d,delivery:crypto.randomUUID()})}).then(async r=>{if(!r.ok)console.error('stepline: push not delivered:',r.status,await r.text())},e=>console.error('stepline: local runtime not reachable:',e.message)))`;
  return `#!/bin/sh
lines=$(cat)
delivery=$(cat /proc/sys/kernel/random/uuid 2>/dev/null || uuidgen 2>/dev/null | tr 'A-F' 'a-f')
if [ -n "$delivery" ] && command -v curl >/dev/null 2>&1; then
  escaped=$(printf '%s\\n' "$lines" | awk '{ gsub(/"/, "\\\\\\""); printf "%s\\\\n", $0 }')
  if answer=$(printf '{"repository":"%s","lines":"%s","delivery":"%s"}' ${shellQuote(repository)} "$escaped" "$delivery" |
    curl -q -sS --noproxy '*' -H 'content-type: application/json' --data-binary @- -w '\\n%{http_code}' ${shellQuote(hookUrl)} 2>&1); then
    status=$(printf '%s\\n' "$answer" | tail -n 1)
    case $status in 2??) ;; *) echo "stepline: push not delivered: $status $(printf '%s\\n' "$answer" | sed '$d')" >&2 ;; esac
  else
    echo "stepline: local runtime not reachable: $(printf '%s\\n' "$answer" | sed '$d')" >&2
  fi
  exit 0
fi
printf '%s\\n' "$lines" | "${process.execPath}" -e ${shellQuote(notify)}
`;
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  return stdout;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
