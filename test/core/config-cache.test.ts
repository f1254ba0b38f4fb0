/** A stage's build cache in the config: its default, its three types, and the errors that name the field. */
import { parseConfig, stageSpecs } from '../../core/config/stepline-config';
import { pipeline, problemsOf } from '../support/config';
import { cachePrefix } from '../../core/platform';

const withBuildCache = (cache: unknown, build: object = {}) => ({
  pipelines: [{ ...pipeline, build: { ...pipeline.build, ...build, cache } }],
});

describe('a stage cache', () => {
  it('is S3 unless said, for the build stage and every test stage', () => {
    const [parsed] = parseConfig({ pipelines: [pipeline] }).pipelines;
    expect(stageSpecs(parsed!).map(({ name, cache }) => ({ name, cache }))).toEqual([
      { name: 'build', cache: { type: 's3' } },
      { name: 'unit', cache: { type: 's3' } },
    ]);
  });

  it('takes each type per stage, and stageSpecs hands it on', () => {
    const [parsed] = parseConfig({
      pipelines: [
        {
          ...pipeline,
          build: { buildspec: 'buildspec.yml', cache: { type: 'local', modes: ['custom', 'source'] } },
          tests: [
            { name: 'unit', buildspec: 'test.yml', cache: { type: 'none' } },
            { name: 'e2e', buildspec: 'e2e.yml', cache: { type: 's3' } },
          ],
        },
      ],
    }).pipelines;
    expect(stageSpecs(parsed!).map(({ name, cache }) => ({ name, cache }))).toEqual([
      { name: 'build', cache: { type: 'local', modes: ['custom', 'source'] } },
      { name: 'unit', cache: { type: 'none' } },
      { name: 'e2e', cache: { type: 's3' } },
    ]);
  });

  it('refuses an unknown type and an option S3 caches do not take, naming the field', () => {
    expect(problemsOf(withBuildCache({ type: 'efs' }))).toEqual([
      `pipeline "web" → build.cache.type: cache must be { type: 's3' }, { type: 'local', modes: [...] } or { type: 'none' }`,
    ]);
    expect(problemsOf(withBuildCache('s3'))).toEqual([
      `pipeline "web" → build.cache: cache must be { type: 's3' }, { type: 'local', modes: [...] } or { type: 'none' }`,
    ]);
    // The prefix is stepline's (cache/<pipeline>/<stage>), so that the stage's role can be granted it alone.
    expect(problemsOf(withBuildCache({ type: 's3', prefix: 'shared' }))).toEqual([
      'pipeline "web" → build.cache: Unrecognized key: "prefix"',
    ]);
  });

  it('refuses a local cache without modes, with an unknown or repeated mode', () => {
    expect(problemsOf(withBuildCache({ type: 'local' }))).toEqual([
      'pipeline "web" → build.cache.modes: a local cache needs its modes: a list of source, custom or both',
    ]);
    expect(problemsOf(withBuildCache({ type: 'local', modes: [] }))).toEqual([
      'pipeline "web" → build.cache.modes: a local cache needs at least one mode: source or custom',
    ]);
    expect(problemsOf(withBuildCache({ type: 'local', modes: ['source', 'layers'] }))).toEqual([
      'pipeline "web" → build.cache.modes[1]: cache modes are source and custom',
    ]);
    expect(problemsOf(withBuildCache({ type: 'local', modes: ['custom', 'custom'] }))).toEqual([
      'pipeline "web" → build.cache.modes: cache modes must be unique',
    ]);
  });

  it("refuses CodeBuild's Docker layer cache, saying why: it needs a privileged build", () => {
    expect(problemsOf(withBuildCache({ type: 'local', modes: ['docker-layer'] }))).toEqual([
      'pipeline "web" → build.cache.modes[0]: docker-layer needs a privileged build (CodeBuild\'s Docker layer cache), and stepline\'s builds never run privileged',
    ]);
  });

  it('refuses a local cache on 2xlarge compute, where CodeBuild keeps none, for test stages too', () => {
    const local = { type: 'local', modes: ['custom'] };
    expect(
      problemsOf({
        pipelines: [
          {
            ...pipeline,
            build: { buildspec: 'buildspec.yml', computeSize: '2xlarge', cache: local },
            tests: [{ name: 'unit', buildspec: 'test.yml', computeSize: '2xlarge', cache: local }],
          },
        ],
      }),
    ).toEqual([
      'pipeline "web" → build.cache: CodeBuild offers no local cache with computeSize \'2xlarge\': use an s3 cache',
      'pipeline "web" → tests[0].cache: CodeBuild offers no local cache with computeSize \'2xlarge\': use an s3 cache',
    ]);
    // An S3 cache is fine there, and a local one on any other size.
    expect(() => parseConfig(withBuildCache({ type: 's3' }, { computeSize: '2xlarge' }))).not.toThrow();
    expect(() => parseConfig(withBuildCache(local, { computeSize: 'large' }))).not.toThrow();
  });

  it("reserves the pipeline name 'cache': its artifact prefix would hold every pipeline's caches", () => {
    expect(problemsOf({ pipelines: [{ ...pipeline, name: 'cache' }] })).toEqual([
      'pipeline "cache" → name: \'cache\' is reserved: the artifact bucket keeps the build caches under cache/',
    ]);
    expect(() => parseConfig({ pipelines: [{ ...pipeline, name: 'cache-service' }] })).not.toThrow();
  });
});

describe('cachePrefix', () => {
  it('is cache/<pipeline>/<stage>, apart for every pipeline and stage', () => {
    expect(cachePrefix('web', 'build')).toBe('cache/web/build');
    expect(cachePrefix('web', 'unit')).toBe('cache/web/unit');
    // No stage's objects (<prefix>/…) are under another stage's prefix.
    expect(`${cachePrefix('web', 'unit-slow')}/`.startsWith(`${cachePrefix('web', 'unit')}/`)).toBe(false);
  });
});
