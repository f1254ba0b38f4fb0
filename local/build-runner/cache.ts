/**
 * The buildspec `cache` section, kept on this machine as CodeBuild keeps it in its project's S3 cache:
 * restored after the source is downloaded, before the install phase; saved when the build ends.
 *
 * What is imitated, and where CodeBuild says so:
 * - `paths` are file patterns as `artifacts/files` takes them (a file, `dir/*`, `dir/**\/*`: all files
 *   under `dir`), relative to the source directory or absolute in the image (`/root/.npm/**\/*`)
 *   (https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html#build-spec.cache; "the
 *   '**\/*' is required to indicate all files in this directory":
 *   https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_codebuild.Cache.html). Locally `/root` is
 *   the builds' home.
 * - Without `key`, one cache per project, "automatically stored and updated"; with `key`, "a unique cache
 *   copy that will not be updated once created". The key may hold environment variables and shell
 *   commands, `$(codebuild-hash-files <globs>)` among them: "the SHA-256 hash of a set of files in the
 *   CodeBuild source directory using glob patterns"
 *   (https://docs.aws.amazon.com/codebuild/latest/userguide/caching-s3.html). How CodeBuild combines the
 *   files is not said; here: each file's path and content, in path order.
 * - `fallback-keys` (at most five) are tried in order when no cache has the key, each matching the keys
 *   it is a prefix of; `action: restore | save` does only that half (both by default). These come from
 *   shared/field-notes.md's summary of the buildspec reference; the stored copies of the pages read for
 *   this module did not reach that part: unconfirmed here. Which of several matches a fallback key
 *   restores is our choice: the most recently saved (as GitHub's cache does).
 * - A project whose cache type is NO_CACHE "does not use any cache"
 *   (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_ProjectCache.html), and the section "is
 *   not required if the cache type of the project is No Cache": it is ignored.
 * - A cache that cannot be read is reported in the log and the build goes on without it (CodeBuild's
 *   cache is best effort; its exact log line is not documented).
 *
 * Local choices: the key is expanded once, before the install phase, and used for the
 * save too; the cache is saved only when the build succeeded (CodeBuild does not say whether a failed
 * build saves — a keyed cache of a half-done install would then be kept for good); absolute paths
 * outside `/root` are not cached (local builds share this machine's files, there is no image to restore
 * into); a restored file never replaces one the source already has; a LOCAL project's custom cache
 * (CodeBuild links cached directories in before the source is downloaded, best effort) is kept as the
 * one unkeyed archive of the project.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { cp, link, lstat, mkdir, readdir, rename, rm, stat, symlink, unlink } from 'node:fs/promises';
import { isAbsolute, join, normalize, posix } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tar from 'tar';
import type { CacheSpec } from './buildspec';
import { matchFiles } from './glob';

/** A project's cache as CodeBuild's ProjectCache names it; locally S3 is an archive per key on disk. */
export type ProjectCache =
  | { readonly type: 'NO_CACHE' }
  | { readonly type: 'S3' }
  | { readonly type: 'LOCAL'; readonly modes: readonly LocalCacheMode[] };
export type LocalCacheMode = 'LOCAL_SOURCE_CACHE' | 'LOCAL_DOCKER_LAYER_CACHE' | 'LOCAL_CUSTOM_CACHE';

/** What a local project gets unless told otherwise: the S3-like keyed cache, as stepline's config defaults to. */
export const DEFAULT_PROJECT_CACHE: ProjectCache = { type: 'S3' };

/**
 * Archives are gzipped (level 1: fast) for gzip's length and CRC check more than for their size: a
 * truncated or altered archive fails its extraction instead of restoring part of a tree.
 */
const GZIP = { level: 1 };
/** The archive of the project's one unkeyed cache. */
const UNKEYED_ARCHIVE = 'unkeyed.tar.gz';
const KEYED_DIR = 'keyed';
const ARCHIVE_SUFFIX = '.tar.gz';
/** Keys are file names locally; longer ones (encoded) would pass most file systems' 255 bytes. */
const MAX_ENCODED_KEY = 200;
const RESTORE_SCRATCH = 'cache-restore';
const SAVE_SCRATCH = 'cache-save';
/** The directories a build's cache works in, in its build directory. */
export const CACHE_SCRATCH_DIRS = [RESTORE_SCRATCH, SAVE_SCRATCH];
const TEMPORARY_SUFFIX = '.tmp';
/** An archive being written: it gets its real name only once whole. */
export const isUnfinishedArchive = (name: string): boolean => name.startsWith('.') && name.endsWith(TEMPORARY_SUFFIX);
const HASH_FILES = /\$\(\s*codebuild-hash-files\s+([^)]*)\)/g;
const GLOB_CHARACTER = /[*?[{]/;

/** The parts of a build the cache works on. */
export interface BuildCacheContext {
  /** This project's cache directory (`<state dir>/cache/<project>`). */
  readonly projectCacheDir: string;
  readonly srcDir: string;
  /** The builds' home: the image's `/root`. */
  readonly home: string;
  /** Scratch space of this build (removed with it). */
  readonly scratchDir: string;
  readonly log: (message: string) => void;
  /** Expands environment variables and commands of a key in the build's environment, as bash does. */
  readonly expand: (template: string) => Promise<{ ok: true; value: string } | { ok: false; message: string }>;
}

/** Where an archive's entries go: the source directory, or the home standing in for `/root`. */
type Root = 'src' | 'home';

/** One build's use of the cache: `restore` before the install phase, `save` when it ends. */
export class BuildCache {
  private key: string | undefined;
  private usable = true;

  private constructor(
    private readonly spec: CacheSpec,
    private readonly context: BuildCacheContext,
  ) {}

  /**
   * The build's cache, or undefined when it has none: no section, a NO_CACHE project, a LOCAL project
   * without LOCAL_CUSTOM_CACHE, or caching turned off for this local mode (`--no-cache`).
   */
  static of(
    spec: CacheSpec | undefined,
    project: ProjectCache,
    enabled: boolean,
    context: BuildCacheContext,
  ): BuildCache | undefined {
    if (spec === undefined) return undefined;
    if (!enabled) {
      context.log('Cache is turned off for this local mode (--no-cache): nothing is restored or saved');
      return undefined;
    }
    if (project.type === 'NO_CACHE') {
      context.log('The cache section is ignored: the cache type of the project is NO_CACHE');
      return undefined;
    }
    if (project.type === 'LOCAL') {
      if (!project.modes.includes('LOCAL_CUSTOM_CACHE')) {
        context.log(
          `The cache section is ignored: the project's LOCAL cache has no LOCAL_CUSTOM_CACHE mode (${project.modes.join(', ') || 'none'})`,
        );
        return undefined;
      }
      // A LOCAL custom cache keeps directories on the build host, one per project: no keys.
      if (spec.key !== undefined) context.log('cache/key is ignored: the project has a LOCAL cache, not S3');
      return new BuildCache({ ...spec, key: undefined, fallbackKeys: [] }, context);
    }
    return new BuildCache(spec, context);
  }

  /** Restores the cache that matches, if any; never fails the build. */
  async restore(): Promise<void> {
    const { log } = this.context;
    await this.resolveKey();
    if (!this.usable) return;
    if (this.spec.action === 'save') {
      log('cache/action is save: no cache is restored');
      return;
    }
    const found = await this.find();
    if (found === undefined) {
      log(
        this.key === undefined
          ? 'No cache to restore: this project has saved none yet'
          : `No cache to restore: none for key ${this.key}${this.spec.fallbackKeys.length ? ` nor its fallback keys ${this.spec.fallbackKeys.join(', ')}` : ''}`,
      );
      return;
    }
    const started = Date.now();
    const staging = join(this.context.scratchDir, RESTORE_SCRATCH);
    try {
      const files = await extractArchive(found.archive, staging);
      await mergeInto(join(staging, 'src'), this.context.srcDir);
      await mergeInto(join(staging, 'home'), this.context.home);
      log(`Restored cache ${found.name} (${files} entries) in ${Date.now() - started} ms`);
    } catch (error) {
      log(
        `Cache ${found.name} skipped: its archive is damaged or unreadable (${(error as Error).message}); the build goes on without it`,
      );
    } finally {
      // A failed extraction may still be writing the entries it had begun: retried until they are done.
      await rm(staging, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }).catch(() => undefined);
    }
  }

  /** Saves the cache at the end of a successful build; never fails the build. */
  async save(): Promise<void> {
    const { log, projectCacheDir } = this.context;
    if (!this.usable) return;
    if (this.spec.action === 'restore') {
      log('cache/action is restore: the cache is not saved');
      return;
    }
    const target =
      this.key === undefined ? join(projectCacheDir, UNKEYED_ARCHIVE) : keyedArchive(projectCacheDir, this.key);
    if (this.key !== undefined && (await exists(target))) {
      log(`Cache for key ${this.key} exists already: a keyed cache is never updated once made`);
      return;
    }
    const started = Date.now();
    const entries = await this.entries();
    if (entries.length === 0) {
      log('No cache saved: nothing matches cache/paths');
      return;
    }
    await mkdir(join(projectCacheDir, KEYED_DIR), { recursive: true });
    const temporary = join(projectCacheDir, `.${randomBytes(6).toString('hex')}${TEMPORARY_SUFFIX}`);
    const stage = join(this.context.scratchDir, SAVE_SCRATCH);
    try {
      // The archive names its entries src/… and home/…: links to both roots give tar one directory to work from.
      await mkdir(stage, { recursive: true });
      await symlink(this.context.srcDir, join(stage, 'src'));
      await symlink(this.context.home, join(stage, 'home'));
      await tar.create({ file: temporary, cwd: stage, portable: true, strict: true, gzip: GZIP }, entries);
      const size = (await stat(temporary)).size;
      // The archive appears under its real name whole or not at all. A keyed one is linked in, which fails
      // if another build saved that key meanwhile: it is never replaced.
      if (this.key === undefined) await rename(temporary, target);
      else {
        const linked = await link(temporary, target).then(
          () => true,
          (error: NodeJS.ErrnoException) => {
            if (error.code === 'EEXIST') return false;
            throw error;
          },
        );
        if (!linked) {
          log(`Cache for key ${this.key} was saved by another build meanwhile: a keyed cache is never updated`);
          return;
        }
      }
      log(
        `Saved cache ${this.key === undefined ? '(unkeyed)' : `for key ${this.key}`}: ${entries.join(', ')} (${(size / 2 ** 20).toFixed(1)} MiB) in ${Date.now() - started} ms`,
      );
    } catch (error) {
      log(`Cache not saved: ${(error as Error).message}`);
    } finally {
      await unlink(temporary).catch(() => undefined);
      await rm(stage, { recursive: true, force: true });
    }
  }

  /** Expands the key once, before the install phase; a key that cannot be expanded turns the cache off. */
  private async resolveKey(): Promise<void> {
    const { log, expand, srcDir } = this.context;
    if (this.spec.key === undefined) return;
    const template = await replaceHashFiles(this.spec.key, srcDir, log);
    const expanded = await expand(template);
    if (!expanded.ok) {
      this.usable = false;
      log(`Cache not used: cache/key could not be expanded (${expanded.message})`);
      return;
    }
    const key = expanded.value;
    if (key === '' || /[\n\0]/.test(key) || encodeURIComponent(key).length > MAX_ENCODED_KEY) {
      this.usable = false;
      log(`Cache not used: cache/key expands to ${key === '' ? 'nothing' : `an unusable key '${key.slice(0, 80)}'`}`);
      return;
    }
    this.key = key;
    log(`Cache key: ${key}`);
  }

  /** The archive to restore: the key's, else the newest whose key starts with a fallback key, in their order. */
  private async find(): Promise<{ archive: string; name: string } | undefined> {
    const { projectCacheDir } = this.context;
    if (this.key === undefined) {
      const archive = join(projectCacheDir, UNKEYED_ARCHIVE);
      return (await exists(archive)) ? { archive, name: '(unkeyed)' } : undefined;
    }
    const exact = keyedArchive(projectCacheDir, this.key);
    if (await exists(exact)) return { archive: exact, name: `for key ${this.key}` };
    if (this.spec.fallbackKeys.length === 0) return undefined;
    const saved = await savedKeys(projectCacheDir);
    for (const prefix of this.spec.fallbackKeys) {
      const newest = saved.filter(({ key }) => key.startsWith(prefix)).sort((a, b) => b.savedAt - a.savedAt)[0];
      if (newest) return { archive: newest.archive, name: `for key ${newest.key} (fallback key ${prefix})` };
    }
    return undefined;
  }

  /** What `paths` names now, as archive entries (`src/node_modules`, `home/.m2/settings.xml`). */
  private async entries(): Promise<string[]> {
    const { srcDir, home, log } = this.context;
    const found = new Set<string>();
    for (const path of this.spec.paths) {
      const located = locate(path);
      if ('problem' in located) {
        log(`cache/paths ${path} is not cached: ${located.problem}`);
        continue;
      }
      const root = located.root === 'src' ? srcDir : home;
      for (const entry of await expandPattern(root, located.pattern)) found.add(posix.join(located.root, entry));
    }
    // An entry inside another is archived with it.
    const sorted = [...found].sort();
    return sorted.filter((entry) => !sorted.some((other) => other !== entry && entry.startsWith(`${other}/`)));
  }
}

/** The path of a key's archive. */
function keyedArchive(projectCacheDir: string, key: string): string {
  return join(projectCacheDir, KEYED_DIR, `${encodeURIComponent(key)}${ARCHIVE_SUFFIX}`);
}

async function savedKeys(projectCacheDir: string): Promise<{ key: string; archive: string; savedAt: number }[]> {
  const dir = join(projectCacheDir, KEYED_DIR);
  const names = await readdir(dir).catch(() => [] as string[]);
  const saved = await Promise.all(
    names
      .filter((name) => name.endsWith(ARCHIVE_SUFFIX))
      .map(async (name) => {
        const archive = join(dir, name);
        const info = await stat(archive).catch(() => undefined);
        const key = safeDecode(name.slice(0, -ARCHIVE_SUFFIX.length));
        return info && key !== undefined ? { key, archive, savedAt: info.mtimeMs } : undefined;
      }),
  );
  return saved.filter((entry) => entry !== undefined);
}

function safeDecode(name: string): string | undefined {
  try {
    return decodeURIComponent(name);
  } catch {
    return undefined;
  }
}

/** Which root a `paths` pattern lives under, and the pattern relative to it. */
function locate(path: string): { root: Root; pattern: string } | { problem: string } {
  const home = /^(?:\/root|~)(?:\/(.*))?$/.exec(path);
  if (home) return relativePattern('home', home[1] ?? '');
  if (isAbsolute(path)) {
    return {
      problem: "an absolute path outside /root: local builds share this machine's files, so none is restored there",
    };
  }
  return relativePattern('src', path);
}

function relativePattern(root: Root, pattern: string): { root: Root; pattern: string } | { problem: string } {
  const normalized = normalize(pattern === '' ? '**/*' : pattern).replace(/\/+$/, '');
  if (normalized === '..' || normalized.startsWith('../')) return { problem: 'a path outside its directory' };
  return { root, pattern: normalized === '.' ? '**/*' : normalized };
}

/**
 * The entries a pattern names under `root`: a directory whole for `dir/**\/*` (links and empty
 * directories kept, as a restore needs them), else the matching files.
 */
async function expandPattern(root: string, pattern: string): Promise<string[]> {
  const segments = pattern.split('/');
  const firstGlob = segments.findIndex((segment) => GLOB_CHARACTER.test(segment));
  if (firstGlob === -1) return (await exists(join(root, pattern), true)) ? [pattern] : [];
  const prefix = segments.slice(0, firstGlob).join('/');
  const rest = segments.slice(firstGlob).join('/');
  const base = join(root, prefix);
  if (rest === '**/*' || rest === '**') {
    if (prefix !== '') return (await exists(base, true)) ? [prefix] : [];
    return readdir(root).catch(() => [] as string[]);
  }
  const files = await matchFiles(base, [rest], []).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
    throw error;
  });
  return files.map((file) => posix.join(prefix, file));
}

/**
 * Replaces each `$(codebuild-hash-files <globs>)` by the SHA-256 of the source files the globs match:
 * each file's path and content, in path order.
 */
async function replaceHashFiles(template: string, srcDir: string, log: (message: string) => void): Promise<string> {
  let result = '';
  let last = 0;
  for (const match of template.matchAll(HASH_FILES)) {
    const globs = match[1]!
      .trim()
      .split(/\s+/)
      .map((glob) => glob.replace(/^(['"])(.*)\1$/, '$2'));
    const files = await matchFiles(srcDir, globs, ['.git/**']);
    if (files.length === 0) log(`codebuild-hash-files: no file matches ${globs.join(' ')}`);
    const hash = createHash('sha256');
    for (const file of files) {
      hash.update(`${file}\0`);
      for await (const chunk of createReadStream(join(srcDir, file))) hash.update(chunk as Buffer);
      hash.update('\0');
    }
    result += template.slice(last, match.index) + hash.digest('hex');
    last = match.index + match[0].length;
  }
  return result + template.slice(last);
}

/**
 * Extracts the whole archive into `into`; rejects on anything tar finds wrong. Resolves with the entry count.
 * The extraction runs synchronously in a worker thread: node-tar's synchronous unpacking of a `node_modules`
 * of thousands of small files takes about 60 % of its asynchronous time here (5.2 s against 8.2 s for 8,100
 * entries), and the worker keeps local mode's event loop (its endpoints, executions and other builds) free.
 */
async function extractArchive(archive: string, into: string): Promise<number> {
  await rm(into, { recursive: true, force: true });
  await mkdir(into, { recursive: true });
  const { entries, foreign, error } = await new Promise<{ entries: number; foreign?: string; error?: string }>(
    (resolve, reject) => {
      const worker = new Worker(EXTRACT_IN_WORKER, {
        eval: true,
        workerData: { tarPath: require.resolve('tar'), archive, into },
      });
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the extraction ended with exit code ${code}`)));
    },
  );
  if (error !== undefined) throw new Error(error);
  if (foreign !== undefined) throw new Error(`an entry outside src/ and home/: ${foreign}`);
  if (entries === 0) throw new Error('it holds no entry');
  return entries;
}

/** The extraction's worker: every entry under src/ or home/, strictly; the first other entry is named. */
const EXTRACT_IN_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const tar = require(workerData.tarPath);
let entries = 0;
let foreign;
try {
  tar.extract({
    file: workerData.archive,
    cwd: workerData.into,
    strict: true,
    sync: true,
    filter: (path) => {
      entries++;
      const root = path.split('/')[0];
      if (root !== 'src' && root !== 'home' && foreign === undefined) foreign = path;
      return root === 'src' || root === 'home';
    },
  });
  parentPort.postMessage({ entries, foreign });
} catch (error) {
  parentPort.postMessage({ entries, error: error instanceof Error ? error.message : String(error) });
}
`;

/**
 * Moves what was restored into place. A name the destination has already stays as it is (the source's
 * files win over the cache's); directories on both sides are merged.
 */
async function mergeInto(from: string, to: string): Promise<void> {
  const names = await readdir(from).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  if (names.length > 0) await mkdir(to, { recursive: true });
  for (const name of names) {
    const source = join(from, name);
    const target = join(to, name);
    const existing = await lstat(target).catch(() => undefined);
    if (existing === undefined) {
      await rename(source, target).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EXDEV') throw error;
        await cp(source, target, { recursive: true, verbatimSymlinks: true });
      });
    } else if (existing.isDirectory() && (await lstat(source)).isDirectory()) {
      await mergeInto(source, target);
    }
  }
}

async function exists(path: string, orLink = false): Promise<boolean> {
  return (orLink ? lstat(path) : stat(path)).then(
    () => true,
    () => false,
  );
}
