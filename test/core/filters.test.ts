import {
  DEFAULT_SKIP_MARKERS,
  matchesRefPattern,
  pathSkipReason,
  skipReason,
  type PushFilters,
} from '../../core/sources/filters';

describe('matchesRefPattern', () => {
  it.each([
    ['main', 'main', true],
    ['main', 'main2', false],
    ['release/*', 'release/1.2', true],
    ['release/*', 'release/1.2/hotfix', true],
    ['release/*', 'releases/1.2', false],
    ['*', 'anything/at/all', true],
    ['v1.*', 'v1.x', true],
    ['v1.*', 'v1x', false],
    ['feat-(x)', 'feat-(x)', true],
  ])('%s against %s: %s', (pattern, name, expected) => {
    expect(matchesRefPattern(pattern, name)).toBe(expected);
  });
});

describe('skipReason', () => {
  const filters: PushFilters = { branches: ['main', 'release/*'], tags: false, skipMarkers: [...DEFAULT_SKIP_MARKERS] };

  it('runs a followed branch whose commit carries no marker', () => {
    expect(skipReason({ referenceType: 'branch', reference: 'release/2', message: 'Fix the build' }, filters)).toBe(
      undefined,
    );
  });

  it('names the branch and the patterns for a branch not followed', () => {
    expect(skipReason({ referenceType: 'branch', reference: 'feature/x' }, filters)).toBe(
      "branch feature/x matches none of the pipeline's branch patterns (main, release/*)",
    );
  });

  it('skips tag pushes unless tags are on', () => {
    expect(skipReason({ referenceType: 'tag', reference: 'v1.0' }, filters)).toBe(
      'tag v1.0: tag pushes do not run this pipeline (filters.tags is off)',
    );
    expect(skipReason({ referenceType: 'tag', reference: 'v1.0' }, { ...filters, tags: true })).toBe(undefined);
  });

  it('names the skip marker a commit message carries, in any case', () => {
    expect(skipReason({ referenceType: 'branch', reference: 'main', message: 'Docs only [SKIP CI]' }, filters)).toBe(
      'the commit message says [skip ci]',
    );
    expect(
      skipReason(
        { referenceType: 'branch', reference: 'main', message: 'Docs [skip ci]' },
        { ...filters, skipMarkers: [] },
      ),
    ).toBe(undefined);
  });
});

describe('pathSkipReason', () => {
  const filters: PushFilters = {
    branches: ['main'],
    tags: false,
    skipMarkers: [],
    paths: { include: ['src/**', 'package.json'], exclude: ['src/**/*.md'] },
  };

  it('runs when a changed file is included and not excluded', () => {
    expect(pathSkipReason(['docs/a.md', 'src/app/handler.ts'], filters)).toBe(undefined);
    expect(pathSkipReason(['package.json'], filters)).toBe(undefined);
  });

  it('names the rules when no changed file counts', () => {
    expect(pathSkipReason(['docs/a.md', 'src/notes/readme.md'], filters)).toBe(
      "none of the 2 changed files matches the pipeline's paths (include src/**, package.json; exclude src/**/*.md)",
    );
  });

  it('never skips without path filters, or when the changed files cannot be known', () => {
    expect(pathSkipReason(['docs/a.md'], { ...filters, paths: undefined })).toBe(undefined);
    expect(pathSkipReason(undefined, filters)).toBe(undefined);
  });

  it('with only excludes, runs when anything else changed', () => {
    const onlyExclude = { ...filters, paths: { include: [], exclude: ['docs/**'] } };
    expect(pathSkipReason(['docs/a.md'], onlyExclude)).toMatch(/^none of the 1 changed files/);
    expect(pathSkipReason(['docs/a.md', 'x.ts'], onlyExclude)).toBe(undefined);
  });
});
