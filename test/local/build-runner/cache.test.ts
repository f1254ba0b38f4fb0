import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LocalBuildRunner, type BuildRequest } from '../../../local/build-runner';
import { LocalCodeBuild, projectCacheOf } from '../../../local/codebuild';
import { parseCommandLine } from '../../../cli/args';
import { parseBuildspec } from '../../../local/build-runner/buildspec';
import { createFixture, type Fixture } from './git-fixture';

/**
 * A stand-in for `npm ci`: installs `deps/` from `lock.txt` unless a restored `deps/` is there, and says
 * which it did. What the build then finds in deps/ is printed, so a test sees what was restored.
 */
const buildspec = (cache: string, build = 'true') => `version: 0.2
phases:
  install:
    commands:
      - '[ -d deps ] && echo "deps: restored" || { mkdir -p deps/nested && cp lock.txt deps/nested/installed.txt && ln -s nested/installed.txt deps/link && echo "deps: installed"; }'
  build:
    commands:
      - 'echo "deps hold: $(cat deps/link)"'
      - ${build}
cache:
${cache}`;
const KEYED = `  key: deps-$(codebuild-hash-files lock.txt)
  paths: ['deps/**/*']
`;

describe('the buildspec cache in local builds', () => {
  let fixture: Fixture;
  let runner: LocalBuildRunner;
  const cacheDir = () => join(fixture.dir, 'cache');
  const keyedArchives = () => {
    const dir = join(cacheDir(), 'demo', 'keyed');
    return existsSync(dir) ? readdirSync(dir).sort() : [];
  };
  const hashOf = (lock: string) => createHash('sha256').update('lock.txt\0').update(lock).update('\0').digest('hex');
  const run = async (spec: string, files: Record<string, string> = {}, request: Partial<BuildRequest> = {}) => {
    fixture.commit({ 'buildspec.yml': spec, ...files });
    const result = await runner.run({
      projectName: 'demo',
      buildspecPath: 'buildspec.yml',
      repositoryPath: fixture.repo,
      sourceVersion: 'main',
      ...request,
    });
    const log = readFileSync(result.logFile, 'utf8');
    return {
      status: result.build.buildStatus,
      log,
      deps: /^deps: (restored|installed)$/m.exec(log)?.[1],
      holds: /^deps hold: (.*)$/m.exec(log)?.[1],
    };
  };

  beforeEach(() => {
    fixture = createFixture({ 'lock.txt': 'v1' });
    runner = new LocalBuildRunner({ rootDir: fixture.rootDir, cacheDir: cacheDir() });
  });
  afterEach(() => fixture.cleanup());

  it('restores the keyed cache on a second build of the same lockfile, before the install phase', async () => {
    const first = await run(buildspec(KEYED));
    expect(first).toMatchObject({ status: 'SUCCEEDED', deps: 'installed', holds: 'v1' });
    expect(first.log).toContain(`No cache to restore: none for key deps-${hashOf('v1')}`);
    expect(first.log).toMatch(new RegExp(`Saved cache for key deps-${hashOf('v1')}: src/deps \\(`));
    expect(keyedArchives()).toEqual([`deps-${hashOf('v1')}.tar.gz`]);

    const second = await run(buildspec(KEYED));
    expect(second).toMatchObject({ status: 'SUCCEEDED', deps: 'restored', holds: 'v1' });
    const restoredAt = second.log.indexOf(`Restored cache for key deps-${hashOf('v1')}`);
    expect(restoredAt).toBeGreaterThan(-1);
    expect(restoredAt).toBeLessThan(second.log.indexOf('Entering phase INSTALL'));
  });

  it('misses when the lockfile changed, and installs from the new one', async () => {
    await run(buildspec(KEYED));
    const changed = await run(buildspec(KEYED), { 'lock.txt': 'v2' });
    expect(changed).toMatchObject({ status: 'SUCCEEDED', deps: 'installed', holds: 'v2' });
    expect(changed.log).toContain(`No cache to restore: none for key deps-${hashOf('v2')}`);
    expect(keyedArchives()).toEqual([`deps-${hashOf('v1')}.tar.gz`, `deps-${hashOf('v2')}.tar.gz`].sort());
  });

  it('expands environment variables and commands in the key in the build environment', async () => {
    const { log } = await run(
      buildspec(`  key: deps-$STAGE-$(echo x)-$CODEBUILD_BUILD_IMAGE-$(codebuild-hash-files lock.txt)
  paths: ['deps/**/*']
env:
  variables: { STAGE: beta }
`),
    );
    expect(log).toContain(`Cache key: deps-beta-x-local-${hashOf('v1')}`);
  });

  it('restores through a fallback key by prefix, the newest match first, when the key has no cache', async () => {
    const fallback = `  key: deps-$(codebuild-hash-files lock.txt)
  fallback-keys: [nothing-, deps-]
  paths: ['deps/**/*']
`;
    // Saved only, so that each archive holds its own lockfile's install, not one restored through the fallback.
    await run(buildspec(`${fallback}  action: save\n`), { 'lock.txt': 'old' });
    await run(buildspec(`${fallback}  action: save\n`), { 'lock.txt': 'newer' });
    const savedAt = (lock: string, day: number) => {
      const archive = join(cacheDir(), 'demo', 'keyed', `deps-${hashOf(lock)}.tar.gz`);
      utimesSync(archive, new Date(2026, 0, day), new Date(2026, 0, day));
    };
    savedAt('old', 1);
    savedAt('newer', 2);

    const third = await run(buildspec(fallback), { 'lock.txt': 'newest' });
    expect(third).toMatchObject({ status: 'SUCCEEDED', deps: 'restored', holds: 'newer' });
    expect(third.log).toContain(`Restored cache for key deps-${hashOf('newer')} (fallback key deps-)`);
    // The new key is saved for the next build, the fallback's archive left as it was.
    expect(keyedArchives()).toHaveLength(3);

    // Whichever was saved last wins, not the order of the names.
    savedAt('old', 5);
    savedAt('newer', 3);
    savedAt('newest', 4);
    const fourth = await run(buildspec(fallback), { 'lock.txt': 'fourth' });
    expect(fourth).toMatchObject({ status: 'SUCCEEDED', deps: 'restored', holds: 'old' });
  });

  it('with action: restore never saves, and with action: save never restores', async () => {
    const restoreOnly = await run(buildspec(`${KEYED}  action: restore\n`));
    expect(restoreOnly).toMatchObject({ status: 'SUCCEEDED', deps: 'installed' });
    expect(restoreOnly.log).toContain('cache/action is restore: the cache is not saved');
    expect(keyedArchives()).toEqual([]);

    await run(buildspec(KEYED));
    expect(keyedArchives()).toHaveLength(1);
    const saveOnly = await run(buildspec(`${KEYED}  action: save\n`));
    expect(saveOnly).toMatchObject({ status: 'SUCCEEDED', deps: 'installed' });
    expect(saveOnly.log).toContain('cache/action is save: no cache is restored');
    expect(saveOnly.log).not.toContain('Restored cache');
  });

  it('never overwrites a keyed cache, and updates the unkeyed one at each save', async () => {
    // The build adds to deps/ what the saved archive would then carry.
    const addsFile = `echo "build $CODEBUILD_BUILD_NUMBER" > deps/built-by.txt`;
    await run(buildspec(KEYED, addsFile));
    const archive = join(cacheDir(), 'demo', 'keyed', keyedArchives()[0]!);
    const saved = readFileSync(archive);
    const second = await run(buildspec(KEYED, addsFile));
    expect(second.log).toContain(`Cache for key deps-${hashOf('v1')} exists already: a keyed cache is never updated`);
    expect(readFileSync(archive).equals(saved)).toBe(true);

    const unkeyed = `  paths: ['deps/**/*']\n`;
    const printBuiltBy = `${addsFile.replace('>', '>>')}; cat deps/built-by.txt`;
    await run(buildspec(unkeyed, printBuiltBy));
    const again = await run(buildspec(unkeyed, printBuiltBy));
    expect(again.deps).toBe('restored');
    // Build 4 restored what build 3 saved and added its own line; build 5 finds both.
    const fifth = await run(buildspec(unkeyed, printBuiltBy));
    expect(fifth.log).toMatch(/^build 3\nbuild 4\nbuild 5$/m);
    expect(keyedArchives()).toHaveLength(1);
  });

  it('skips a damaged archive with one line in the log, and the build succeeds without it', async () => {
    await run(buildspec(KEYED));
    const archive = join(cacheDir(), 'demo', 'keyed', keyedArchives()[0]!);
    // Cut short, as a full disk or a copy cut off would leave it.
    writeFileSync(archive, readFileSync(archive).subarray(0, statSync(archive).size - 20));

    const damaged = await run(buildspec(KEYED));
    expect(damaged).toMatchObject({ status: 'SUCCEEDED', deps: 'installed', holds: 'v1' });
    const lines = damaged.log.split('\n').filter((line) => line.includes('damaged'));
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `Cache for key deps-${hashOf('v1')} skipped: its archive is damaged or unreadable \\(.+\\); the build goes on without it$`,
        ),
      ),
    ]);
  });

  it('saves nothing when the build fails', async () => {
    const failed = await run(buildspec(KEYED, 'false'));
    expect(failed.status).toBe('FAILED');
    expect(keyedArchives()).toEqual([]);
  });

  it('keeps /root paths under the builds home, and caches nothing outside it or the source', async () => {
    const home = join(fixture.rootDir, 'home');
    const spec = buildspec(
      `  paths: ['/root/.m2/**/*', '/etc/**/*']\n`,
      `'mkdir -p ~/.m2 && echo "m2 before: $(cat ~/.m2/settings.xml 2>/dev/null)" && echo m2 > ~/.m2/settings.xml'`,
    );
    const first = await run(spec);
    expect(first.log).toContain(
      "cache/paths /etc/**/* is not cached: an absolute path outside /root: local builds share this machine's files",
    );
    expect(first.log).toContain('m2 before: \n');
    rmSync(join(home, '.m2'), { recursive: true });
    const second = await run(spec);
    expect(second.log).toContain('m2 before: m2\n');
  });

  it('--no-cache: neither restores nor saves', async () => {
    expect(parseCommandLine(['start', '--no-cache'])).toMatchObject({ kind: 'run', values: { 'no-cache': true } });
    expect(parseCommandLine(['start', '--help'])).toMatchObject({ text: expect.stringContaining('--no-cache') });
    await run(buildspec(KEYED));
    const archives = keyedArchives();
    runner = new LocalBuildRunner({ rootDir: fixture.rootDir, cacheDir: cacheDir(), cache: false });
    const clean = await run(buildspec(KEYED), { 'lock.txt': 'v2' });
    expect(clean).toMatchObject({ status: 'SUCCEEDED', deps: 'installed', holds: 'v2' });
    expect(clean.log).toContain('Cache is turned off for this local mode (--no-cache): nothing is restored or saved');
    expect(keyedArchives()).toEqual(archives);
    const again = await run(buildspec(KEYED));
    expect(again.deps).toBe('installed');
  });

  it('a NO_CACHE project ignores the section; a LOCAL custom cache keeps one cache without keys', async () => {
    fixture.commit({ 'buildspec.yml': buildspec(KEYED) });
    const project = (cache: Parameters<typeof projectCacheOf>[0]) => ({
      name: 'demo',
      buildspecPath: 'buildspec.yml',
      repositoryPath: fixture.repo,
      timeoutMinutes: 5,
      cache: projectCacheOf(cache),
    });
    const logOf = async (codebuild: LocalCodeBuild) => {
      const build = await codebuild.runBuild({ ProjectName: 'demo' }, new AbortController().signal);
      expect(build.buildStatus).toBe('SUCCEEDED');
      return readFileSync(build.logs!.deepLink!.replace('file://', ''), 'utf8');
    };
    const none = new LocalCodeBuild(runner, [project({ type: 'none' })]);
    expect(await logOf(none)).toContain('The cache section is ignored: the cache type of the project is NO_CACHE');
    expect(existsSync(join(cacheDir(), 'demo'))).toBe(false);

    const local = new LocalCodeBuild(runner, [project({ type: 'local', modes: ['custom'] })]);
    expect(await logOf(local)).toContain('cache/key is ignored: the project has a LOCAL cache, not S3');
    expect(readdirSync(join(cacheDir(), 'demo'))).toContain('unkeyed.tar.gz');
    expect(await logOf(local)).toMatch(/^deps: restored$/m);

    const s3 = new LocalCodeBuild(runner, [project(undefined)]);
    expect(await logOf(s3)).toContain(`Saved cache for key deps-${hashOf('v1')}`);
  });

  it('removes what a build cut short left of a cache when local mode starts again', async () => {
    const projectDir = join(cacheDir(), 'demo');
    mkdirSync(projectDir, { recursive: true });
    writeFileSync(join(projectDir, '.0a1b2c.tmp'), 'half an archive');
    writeFileSync(join(projectDir, 'unkeyed.tar.gz'), 'kept');
    await runner.recover();
    expect(readdirSync(projectDir)).toEqual(['unkeyed.tar.gz']);
  });
});

describe("the example's buildspecs", () => {
  const dir = resolve(__dirname, '../../../examples/hello-service/buildspecs');
  it.each(readdirSync(dir))(
    '%s caches node_modules by the lockfile, with no fallback, and skips npm ci on a hit',
    (file) => {
      const spec = parseBuildspec(readFileSync(join(dir, file), 'utf8'));
      expect(spec.warnings).toEqual([]);
      expect(spec.cache).toEqual({
        key: 'npm-$(codebuild-hash-files package-lock.json)',
        fallbackKeys: [],
        paths: ['node_modules/**/*'],
        action: undefined,
      });
      expect(spec.phases.install?.commands).toEqual([
        '[ -d node_modules ] || npm ci --no-audit --no-fund --prefer-offline',
      ]);
    },
  );
});
