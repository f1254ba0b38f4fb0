import { parseBuildspec } from '../../../local/build-runner/buildspec';
import { BuildspecError } from '../../../local/build-runner/errors';
import { everyKeyBuildspec } from './every-key';

const refusal = (text: string): string => {
  try {
    parseBuildspec(text);
  } catch (error) {
    expect(error).toBeInstanceOf(BuildspecError);
    return (error as Error).message;
  }
  throw new Error('expected the buildspec to be refused');
};

describe('parseBuildspec', () => {
  it('reads phases, env, reports and artifacts with their defaults', () => {
    const spec = parseBuildspec(`version: 0.2
env:
  variables: { A: x, PORT: 8080 }
  exported-variables: [A]
phases:
  install:
    runtime-versions: { nodejs: 20 }
  build:
    on-failure: CONTINUE
    commands: [make]
    finally: [echo done]
reports:
  unit:
    files: ['**/*.xml']
    base-directory: reports
artifacts:
  files: ['**/*']
  discard-paths: yes
cache:
  paths: ['node_modules/**/*']
`);
    expect(spec.variables).toEqual({ A: 'x', PORT: '8080' });
    expect(spec.exportedVariables).toEqual(['A']);
    expect(spec.runtimeVersions).toEqual({ nodejs: '20' });
    expect(spec.phases.build).toEqual({ onFailure: 'CONTINUE', commands: ['make'], finally: ['echo done'] });
    expect(spec.phases.install).toEqual({ onFailure: 'ABORT', commands: [], finally: [] });
    expect(spec.reports.unit).toEqual({
      files: ['**/*.xml'],
      baseDirectory: 'reports',
      discardPaths: false,
      excludePaths: [],
    });
    expect(spec.artifacts?.discardPaths).toBe(true);
  });

  it.each([
    ['version: 0.2\nphases:\n  build:\n    commands: [a\n', /^YAML syntax error: /],
    [
      'version: 0.3\nphases:\n  build:\n    commands: [a]\n',
      "invalid buildspec version '0.3': expected 0.2 (or 0.1) at line 1",
    ],
    ['version: 0.2\n', 'phases is required at line 1'],
    [
      'version: 0.2\nphases:\n  build:\n    commands:\n      - echo a: b\n',
      'Expected Commands[0] to be of string type: found subkeys instead at line 5',
    ],
    ['version: 0.2\nphases:\n  build: {}\n', 'phases/build/commands is required at line 3'],
    [
      'version: 0.2\nphases:\n  build:\n    on-failure: RETRY\n    commands: [a]\n',
      "invalid on-failure 'RETRY': expected ABORT or CONTINUE at line 4",
    ],
    [
      'version: 0.2\nphases:\n  build:\n    commands: [a]\nartifacts:\n  base-directory: out\n',
      'artifacts/files is required at line 6',
    ],
    [
      'version: 0.2\nenv:\n  shell: powershell.exe\nphases:\n  build:\n    commands: [a]\n',
      "env/shell 'powershell.exe' is not a shell of CodeBuild's Linux images: use bash or /bin/sh at line 3",
    ],
  ])('refuses %j', (text, expected) => {
    const message = refusal(text);
    if (typeof expected === 'string') expect(message).toBe(expected);
    else expect(message).toMatch(expected);
  });
});

describe('parseBuildspec: every key CodeBuild documents is accepted', () => {
  const everyKey = everyKeyBuildspec('22');

  it('reads what local mode honours and names each key it does not, with its line', () => {
    const spec = parseBuildspec(everyKey);
    expect(spec.version).toBe('0.2');
    expect(spec.variables).toEqual({ STAGE: 'test' });
    expect(Object.keys(spec.reports)).toEqual(['unit']);
    expect(spec.artifacts).toEqual({
      files: ['**/*'],
      baseDirectory: 'dist',
      discardPaths: false,
      excludePaths: ['**/*.map'],
    });
    expect(spec.secondaryArtifacts).toEqual({
      docs: { files: ['**/*'], baseDirectory: 'docs', discardPaths: false, excludePaths: [] },
    });
    expect(spec.warnings).toEqual([
      'run-as is not honoured locally: commands run as the user who runs local mode at line 2',
      'proxy is not honoured locally: local builds use the network of this machine at line 11',
      'batch is not honoured locally: batch builds are not run locally; this build runs on its own at line 14',
      'env/parameter-store is not honoured locally: local mode reads no Parameter Store: these variables are not set (DB_HOST) at line 6',
      'env/secrets-manager is not honoured locally: local mode reads no Secrets Manager secret: these variables are not set (TOKEN) at line 8',
      'env/git-credential-helper is not honoured locally: local sources need no git credentials at line 9',
      'The following keys cannot be identified: artifacts/type (ignored) at line 44',
      'artifacts/enable-symlinks is not honoured locally: local artifacts are copied as files at line 50',
      'phases/install/run-as is not honoured locally: commands run as the user who runs local mode at line 17',
      'reports/features: file-format CUCUMBERJSON is not read locally (only JUNITXML is); no report is made of it at line 42',
    ]);
  });

  describe('the cache section', () => {
    const withCache = (cache: string) => `version: 0.2\nphases:\n  build:\n    commands: [a]\ncache:\n${cache}`;

    it('reads paths, key, fallback keys and action', () => {
      const spec = parseBuildspec(
        withCache(
          "  key: npm-$(codebuild-hash-files package-lock.json)\n  fallback-keys: [npm-]\n  action: restore\n  paths: ['node_modules/**/*', '/root/.m2/**/*']\n",
        ),
      );
      expect(spec.cache).toEqual({
        paths: ['node_modules/**/*', '/root/.m2/**/*'],
        key: 'npm-$(codebuild-hash-files package-lock.json)',
        fallbackKeys: ['npm-'],
        action: 'restore',
      });
      expect(spec.warnings).toEqual([]);
    });

    it('has no cache without the section, and both actions without action', () => {
      expect(parseBuildspec(withCache('').replace('cache:\n', '')).cache).toBeUndefined();
      expect(parseBuildspec(withCache("  paths: ['x']\n")).cache).toEqual({
        paths: ['x'],
        key: undefined,
        fallbackKeys: [],
        action: undefined,
      });
    });

    it('refuses more than five fallback keys, and an unknown action, naming the field', () => {
      expect(refusal(withCache('  key: k\n  paths: [x]\n  fallback-keys: [a, b, c, d, e, f]\n'))).toBe(
        'cache/fallback-keys has 6 keys: at most 5 are allowed at line 8',
      );
      expect(refusal(withCache('  paths: [x]\n  action: both\n'))).toBe(
        "invalid cache/action 'both': expected restore or save at line 7",
      );
      expect(refusal(withCache('  paths: x\n'))).toBe('cache/paths must be a sequence at line 6');
    });

    it('warns of unknown keys, fallback keys without a key, and no paths', () => {
      const spec = parseBuildspec(withCache('  fallback-keys: [a]\n  location: bucket\n'));
      expect(spec.warnings).toEqual([
        'The following keys cannot be identified: cache/location (ignored) at line 7',
        'cache/paths is empty: local mode caches nothing without paths at line 6',
        'cache/fallback-keys is used only with cache/key (ignored) at line 6',
      ]);
      expect(spec.cache?.fallbackKeys).toEqual([]);
    });
  });

  it('accepts version 0.1 and an sh shell', () => {
    expect(parseBuildspec('version: 0.1\nenv:\n  shell: /bin/sh\nphases:\n  build:\n    commands: [a]\n').version).toBe(
      '0.1',
    );
  });
});
