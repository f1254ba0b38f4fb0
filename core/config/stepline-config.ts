/**
 * The pipeline configuration: one typed declaration read by the CDK app and by local mode alike.
 * `parseConfig` is the only way in; an invalid config stops synth and start with a message that
 * names the pipeline and the field.
 */
import * as z from 'zod';
import { approvalPolicySchema } from '../approval/policy';
import { ConfigError } from './errors';
import { deploySchema } from '../deployment/config';
import { DEFAULT_SKIP_MARKERS, type PushFilters } from '../sources/filters';
import { CACHE_ROOT, RESOURCE_PREFIX } from '../platform';
import type { PipelineCatalogEntry } from '../catalog';
import type { RunInput } from '../records';

const NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
const nameOf = (what: string) =>
  z
    .string()
    .regex(NAME, `${what} must be 2-32 characters of a-z, 0-9 and '-', starting with a letter and not ending with '-'`);

/** Test stages per pipeline: each is a CodeBuild project and a branch of the run's Map state. */
export const MAX_TEST_STAGES = 10;

export const COMPUTE_TYPES = {
  small: 'BUILD_GENERAL1_SMALL',
  medium: 'BUILD_GENERAL1_MEDIUM',
  large: 'BUILD_GENERAL1_LARGE',
  '2xlarge': 'BUILD_GENERAL1_2XLARGE',
} as const;

const buildspecPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'buildspec must be a path inside the repository');

/**
 * The modes of a `local` cache, as CodeBuild names them: `source` → LOCAL_SOURCE_CACHE (the git metadata
 * of the source), `custom` → LOCAL_CUSTOM_CACHE (the directories the buildspec's `cache.paths` name).
 * CodeBuild's third, `docker-layer` (LOCAL_DOCKER_LAYER_CACHE), needs a privileged build, and stepline's
 * builds never run privileged (a privileged container reaches every device of its host), so it is refused.
 * https://docs.aws.amazon.com/codebuild/latest/userguide/caching-local.html
 */
export const LOCAL_CACHE_MODES = ['source', 'custom'] as const;
export type LocalCacheMode = (typeof LOCAL_CACHE_MODES)[number];
/** Each mode's name in CodeBuild's API (ProjectCache.modes), for the CDK app and local CodeBuild alike. */
export const CODEBUILD_CACHE_MODES = {
  source: 'LOCAL_SOURCE_CACHE',
  custom: 'LOCAL_CUSTOM_CACHE',
} as const satisfies Record<LocalCacheMode, string>;

const localCacheMode = z.enum(LOCAL_CACHE_MODES, {
  error: (issue) =>
    issue.input === 'docker-layer'
      ? "docker-layer needs a privileged build (CodeBuild's Docker layer cache), and stepline's builds never run privileged"
      : `cache modes are ${LOCAL_CACHE_MODES.join(' and ')}`,
});

/**
 * A stage's build cache on AWS: what CodeBuild keeps between the stage's builds, the buildspec's
 * `cache` section saying what (https://docs.aws.amazon.com/codebuild/latest/userguide/build-caching.html).
 * - `s3`: in the platform's artifact bucket under `cache/<pipeline>/<stage>/` (core/platform.ts
 *   cachePrefix), encrypted with the platform key; the stage's role may read and write that prefix alone.
 * - `local`: on the build host, in the given modes (LOCAL_CACHE_MODES).
 * - `none`: every build starts from nothing.
 *
 * S3 by default: an S3 cache is available to every build host and survives the host, and only an S3
 * cache takes the buildspec's `key`, `fallback-keys` and `action` (keyed caches: a cache per lockfile
 * hash, never overwritten once made) (https://docs.aws.amazon.com/codebuild/latest/userguide/caching-s3.html).
 * A local cache lives on one build host and is available to that host only, so a build on another
 * host (every build, when builds are infrequent) starts without it; CodeBuild does not offer it with
 * the BUILD_GENERAL1_2XLARGE compute type or in a VPC
 * (https://docs.aws.amazon.com/codebuild/latest/userguide/caching-local.html).
 * @default { type: 's3' }
 */
const stageCacheSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('s3') }),
    z.strictObject({
      type: z.literal('local'),
      modes: z
        .array(localCacheMode, { error: 'a local cache needs its modes: a list of source, custom or both' })
        .min(1, 'a local cache needs at least one mode: source or custom')
        .refine((modes) => new Set(modes).size === modes.length, 'cache modes must be unique'),
    }),
    z.strictObject({ type: z.literal('none') }),
  ],
  { error: "cache must be { type: 's3' }, { type: 'local', modes: [...] } or { type: 'none' }" },
);
export type StageCache = z.output<typeof stageCacheSchema>;

const stageFields = {
  /** Path of the buildspec inside the source repository. */
  buildspec: buildspecPath,
  /** CodeBuild compute size. @default 'small' */
  computeSize: z.enum(Object.keys(COMPUTE_TYPES) as [keyof typeof COMPUTE_TYPES]).default('small'),
  /** CodeBuild timeout for the stage, in minutes (5-480). @default 60 */
  timeoutMinutes: z.number().int().min(5).max(480).default(60),
  /** The stage's build cache on AWS (stageCacheSchema). @default { type: 's3' } */
  cache: stageCacheSchema.default({ type: 's3' }),
};

/** CodeBuild keeps no local cache on its 2xlarge hosts (caching-local.html, cited above). */
const cacheFitsCompute = (stage: { computeSize: keyof typeof COMPUTE_TYPES; cache: StageCache }) =>
  !(stage.cache.type === 'local' && stage.computeSize === '2xlarge');
const CACHE_COMPUTE_ERROR = {
  message: "CodeBuild offers no local cache with computeSize '2xlarge': use an s3 cache",
  path: ['cache'],
};

const codeCommitSource = z.strictObject({
  type: z.literal('codecommit'),
  /** Name of the CodeCommit repository. */
  repository: z.string().regex(/^[\w.-]{1,100}$/, 'repository must be a CodeCommit repository name'),
  branch: z.string().min(1).max(256),
});

/** A CodeConnections connection (GitHub App): `codeconnections`, or `codestar-connections` for ones made before July 2024. */
const CONNECTION_ARN =
  /^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[0-9a-f-]{36}$/;

const gitHubSource = z.strictObject({
  type: z.literal('github'),
  owner: z.string().regex(/^[A-Za-z0-9-]{1,39}$/, 'owner must be a GitHub user or organisation'),
  repo: z.string().regex(/^[\w.-]{1,100}$/, 'repo must be a GitHub repository name'),
  branch: z.string().min(1).max(256),
  /**
   * The AWS CodeConnections connection (a GitHub App installation) through which CodeBuild fetches
   * the exact commit of each run: create it under Developer Tools → Settings → Connections.
   */
  connectionArn: z
    .string({
      error: 'connectionArn is required: the CodeConnections connection CodeBuild fetches GitHub sources through',
    })
    .regex(
      CONNECTION_ARN,
      'connectionArn must be a CodeConnections connection ARN, arn:aws:codeconnections:<region>:<account>:connection/<id>',
    ),
});

/**
 * Secrets stepline reads for notifications live under this prefix: the notifier's role may read
 * these and no others, and the platform's template stays the same whatever the pipelines name.
 */
export const NOTIFICATION_SECRET_PREFIX = 'stepline/notifications/';
const notificationSecret = z
  .string()
  .regex(
    /^stepline\/notifications\/[A-Za-z0-9/_+=.@-]{1,200}$/,
    `must be the name of a Secrets Manager secret under ${NOTIFICATION_SECRET_PREFIX} (the only secrets the notifier may read)`,
  );
const emailAddress = z.email({ error: 'must be an email address' });

/** Who hears of a pipeline's runs, and when. */
const notificationsSchema = z.strictObject({
  /** Which run endings notify: a failure, the first success after a failure, every success. */
  on: z
    .strictObject({
      failed: z.boolean().default(true),
      fixed: z.boolean().default(true),
      succeeded: z.boolean().default(false),
    })
    .default({ failed: true, fixed: true, succeeded: false }),
  /** A Slack incoming webhook; its URL is the value of this secret. */
  slack: z.strictObject({ webhookUrlSecret: notificationSecret }).optional(),
  /** Email through SES: `from` must be an identity verified in SES (in the sandbox, so must `to`). */
  email: z
    .strictObject({ from: emailAddress, to: z.array(emailAddress).min(1).max(50, 'at most 50 recipients') })
    .optional(),
  /** Commit statuses on GitHub sources, one context per stage; a token with "Commit statuses: write". */
  githubStatuses: z.strictObject({ tokenSecret: notificationSecret }).optional(),
});

export const pipelineSchema = z.strictObject({
  name: nameOf('pipeline name').refine(
    (name) => name !== CACHE_ROOT,
    `'${CACHE_ROOT}' is reserved: the artifact bucket keeps the build caches under ${CACHE_ROOT}/`,
  ),
  source: z.discriminatedUnion('type', [codeCommitSource, gitHubSource]),
  build: z.strictObject(stageFields).refine(cacheFitsCompute, CACHE_COMPUTE_ERROR),
  tests: z
    .array(
      z.strictObject({ name: nameOf('test stage name'), ...stageFields }).refine(cacheFitsCompute, CACHE_COMPUTE_ERROR),
    )
    .max(MAX_TEST_STAGES, `at most ${MAX_TEST_STAGES} test stages per pipeline`)
    .default([])
    .refine((tests) => new Set(tests.map((t) => t.name)).size === tests.length, 'test stage names must be unique')
    .refine((tests) => tests.every((t) => t.name !== 'build'), "'build' is the build stage's name"),
  /**
   * Which pushes of the repository run the pipeline; the others are recorded SKIPPED with the reason.
   * @default branches: [source.branch], tags: false, skipMarkers: DEFAULT_SKIP_MARKERS
   */
  filters: z
    .strictObject({
      /** Branch name patterns (at most 8); `*` matches any run of characters, `/` included. */
      branches: z.array(z.string().min(1).max(256)).min(1).max(8, 'at most 8 branch patterns').optional(),
      /** Whether tag pushes run the pipeline. */
      tags: z.boolean().default(false),
      /** Commit message markers that skip a run (case-insensitive); [] to run every commit. */
      skipMarkers: z
        .array(z.string().min(1).max(64))
        .max(8, 'at most 8 skip markers')
        .default([...DEFAULT_SKIP_MARKERS]),
      /** Path globs over the changed files (at most 8 each): a push runs when one is included and not excluded. */
      paths: z
        .strictObject({
          include: z.array(z.string().min(1).max(256)).max(8, 'at most 8 include globs').default([]),
          exclude: z.array(z.string().min(1).max(256)).max(8, 'at most 8 exclude globs').default([]),
        })
        .optional(),
    })
    .default({ tags: false, skipMarkers: [...DEFAULT_SKIP_MARKERS] }),
  /**
   * How many test stages build at once; 0 runs them all at once. Lower it when the account's
   * CodeBuild concurrent-build quota is small: the rest wait in the state machine, not in a retry.
   * @default 0
   */
  testConcurrency: z.number().int().min(0).max(MAX_TEST_STAGES).default(0),
  /**
   * How runs share the pipeline: QUEUED, one at a time in push order; SUPERSEDED, one at a time, and
   * of the runs that waited only the newest starts (the others are recorded SUPERSEDED); PARALLEL,
   * every run at once. QUEUED by default: every push gets its result, and two runs of one pipeline
   * never deploy at once.
   * @default 'QUEUED'
   */
  executionMode: z
    .enum(['QUEUED', 'SUPERSEDED', 'PARALLEL'], { error: 'executionMode must be QUEUED, SUPERSEDED or PARALLEL' })
    .default('QUEUED'),
  /** Slack, email and GitHub commit statuses for this pipeline's runs. */
  notifications: notificationsSchema.optional(),
  /**
   * The release gate after the test stages: risk rules, approvers, separation of duties, change
   * windows (docs/governance.md). Without it, a run that passes its tests succeeds at once.
   */
  approval: approvalPolicySchema.optional(),
  /**
   * The release to Lambda after the gate (docs/deployments.md): the build's artifact becomes a new
   * version of `function`, and traffic moves to it through `alias` by the strategy, rolled back the
   * moment one of the deployment's alarms fires.
   */
  deploy: deploySchema.optional(),
  /** Local mode: the directory whose files are committed into the local repository on `npm start`. */
  localSeed: z.string().min(1).optional(),
  /**
   * Local mode: a git repository of yours (a path). Local mode adds it a remote named `stepline`;
   * `git push stepline` from it runs this pipeline on exactly your commit, and `npm start` runs its HEAD.
   */
  localRepository: z.string().min(1).optional(),
  /**
   * A pipeline for local mode only (your own repository, an experiment): `cdk synth` and `cdk deploy`
   * leave it out.
   * @default false
   */
  localOnly: z.boolean().default(false),
});

export const configSchema = z
  .strictObject({
    pipelines: z
      .array(
        pipelineSchema
          .refine((p) => !(p.localSeed && p.localRepository), {
            message: 'declare localSeed or localRepository, not both: local mode runs one source per pipeline',
            path: ['localRepository'],
          })
          .refine((p) => !p.notifications?.githubStatuses || p.source.type === 'github', {
            message: 'commit statuses are posted to GitHub: only a pipeline with a github source can have them',
            path: ['notifications', 'githubStatuses'],
          }),
      )
      .min(1, 'declare at least one pipeline'),
  })
  .superRefine((config, context) => {
    const first = new Map<string, number>();
    config.pipelines.forEach((pipeline, index) => {
      const earlier = first.get(pipeline.name);
      if (earlier === undefined) first.set(pipeline.name, index);
      else {
        context.addIssue({
          code: 'custom',
          path: ['pipelines', index, 'name'],
          message: `pipeline names must be unique: pipelines[${earlier}] is "${pipeline.name}" too`,
        });
      }
    });
  });

export type ConfigInput = z.input<typeof configSchema>;
export type SteplineConfig = z.output<typeof configSchema>;
export type PipelineConfig = z.output<typeof pipelineSchema>;
export type SourceConfig = PipelineConfig['source'];
export type CodeCommitPipeline = PipelineConfig & { readonly source: Extract<SourceConfig, { type: 'codecommit' }> };
export type GitHubSource = Extract<SourceConfig, { type: 'github' }>;

export function isCodeCommitPipeline(pipeline: PipelineConfig): pipeline is CodeCommitPipeline {
  return pipeline.source.type === 'codecommit';
}

/** Typed helper for `stepline.config.ts`. */
export function defineConfig(config: ConfigInput): ConfigInput {
  return config;
}

/** Validates a config, naming each problem by pipeline and field: `pipeline "web" → build.buildspec: ...`. */
export function parseConfig(input: unknown, file?: string): SteplineConfig {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => describeIssue(input, issue)),
    file,
  );
}

function describeIssue(input: unknown, issue: z.core.$ZodIssue): string {
  const [top, index, ...rest] = issue.path;
  if (top === 'pipelines' && typeof index === 'number') {
    const name = pipelineName(input, index);
    const where = name ? `pipeline "${name}"` : `pipelines[${index}]`;
    return `${where} → ${rest.length ? formatPath(rest) : '(pipeline)'}: ${issue.message}`;
  }
  return `${issue.path.length ? formatPath(issue.path) : '(config)'}: ${issue.message}`;
}

function pipelineName(input: unknown, index: number): string | undefined {
  const pipelines = (input as { pipelines?: unknown } | null)?.pipelines;
  const name = Array.isArray(pipelines) ? (pipelines[index] as { name?: unknown } | undefined)?.name : undefined;
  return typeof name === 'string' ? name : undefined;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

/** The name of a stage's CodeBuild project; the CDK app and local mode derive it the same way. */
export function projectName(pipeline: string, stage: string): string {
  return `${RESOURCE_PREFIX}${pipeline}-${stage}`;
}

export const BUILD_STAGE = 'build';

/** One stage of a pipeline with its CodeBuild project name: what the CDK app and local mode build. */
export type StageSpec = PipelineConfig['build'] & { readonly name: string; readonly project: string };

/** A pipeline's stages, the build stage first, then the test stages in declaration order. */
export function stageSpecs(pipeline: PipelineConfig): StageSpec[] {
  const spec = (name: string, stage: PipelineConfig['build']): StageSpec => ({
    name,
    project: projectName(pipeline.name, name),
    buildspec: stage.buildspec,
    computeSize: stage.computeSize,
    timeoutMinutes: stage.timeoutMinutes,
    cache: stage.cache,
  });
  return [spec(BUILD_STAGE, pipeline.build), ...pipeline.tests.map((t) => spec(t.name, t))];
}

/** The stage plan a run's execution input carries: names and projects, build apart from the tests. */
export function stagePlan(pipeline: PipelineConfig): RunInput['stages'] {
  const [build, ...tests] = stageSpecs(pipeline).map(({ name, project }) => ({ name, project }));
  return { build: build!, tests, testConcurrency: pipeline.testConcurrency };
}

/** A pipeline's push filters with their defaults: its source branch alone. */
export function pushFilters(pipeline: PipelineConfig): PushFilters {
  return {
    branches: pipeline.filters.branches ?? [pipeline.source.branch],
    tags: pipeline.filters.tags,
    skipMarkers: pipeline.filters.skipMarkers,
    ...(pipeline.filters.paths ? { paths: pipeline.filters.paths } : {}),
  };
}

/** A pipeline's catalog entry once its state machine exists: what its stack (or local mode) publishes. */
export function catalogEntry(pipeline: PipelineConfig, stateMachineArn: string): PipelineCatalogEntry {
  return {
    stateMachineArn,
    source: sourceOf(pipeline),
    stages: stagePlan(pipeline),
    filters: pushFilters(pipeline),
    executionMode: pipeline.executionMode,
    ...(pipeline.notifications ? { notifications: pipeline.notifications } : {}),
    ...(pipeline.approval ? { approval: pipeline.approval } : {}),
    ...(pipeline.deploy ? { deploy: pipeline.deploy } : {}),
  };
}

/** Where a pipeline's pushes come from, as SourceChanged events name it: `owner/repo` on GitHub. */
export function sourceOf(pipeline: PipelineConfig): PipelineCatalogEntry['source'] {
  const { source } = pipeline;
  return source.type === 'codecommit'
    ? { kind: 'codecommit', repository: source.repository, branch: source.branch }
    : { kind: 'github', repository: `${source.owner}/${source.repo}`, branch: source.branch };
}

/** The name of a pipeline's state machine, as the Step Functions console lists it. */
export function stateMachineName(pipeline: string): string {
  return `${RESOURCE_PREFIX}${pipeline}`;
}
