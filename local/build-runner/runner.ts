import type { Build, Report, TestCase } from '@aws-sdk/client-codebuild';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { appendFile, mkdir, readdir, rm, stat, symlink } from 'node:fs/promises';
import { availableParallelism, homedir } from 'node:os';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { BUILD_ARTIFACT_NAME } from '../../core/platform';
import { buildArn, projectArn } from './arns';
import { BuildExecution } from './build-execution';
import { localBuildLogGroup } from '../build-logs';
import { containerTime } from './build-log';
import { BuildSlots } from './build-slots';
import { CACHE_SCRATCH_DIRS, DEFAULT_PROJECT_CACHE, isUnfinishedArchive, type ProjectCache } from './cache';
import { ProcessRegistry } from './process-registry';
import { AWS_CREDENTIAL_VARIABLES } from './environment';
import { NPM_GLOBALCONFIG_VARIABLE, readMachineNetwork, writeBuildNpmrc, type MachineNetwork } from './network';
import { nextBuildNumber } from './build-numbers';
import { InvalidBuildRequestError, UnknownRepositoryError } from './errors';
import { ReportStore } from './report-store';
import { isGitRepository } from './source';

export interface BuildRequest {
  readonly projectName: string;
  /** Path of the buildspec inside the source, e.g. `buildspecs/build.yml`. */
  readonly buildspecPath: string;
  /** A local git repository, bare or not. */
  readonly repositoryPath: string;
  /** A commit id or a ref the repository resolves. */
  readonly sourceVersion: string;
  /** Start-build overrides: they win over the buildspec's `env/variables`. */
  readonly environmentVariables?: ReadonlyArray<{ name: string; value: string }>;
  /** @default 60 — fractions allowed, for tests. */
  readonly timeoutMinutes?: number;
  /** Aborting stops the build: its processes are killed and it ends STOPPED. */
  readonly signal?: AbortSignal;
  /** Each log line as it is written, for a live terminal. */
  readonly onLogLine?: (line: string) => void;
  /** The build once it has an id and a log, before it runs: what StartBuild answers (its status IN_PROGRESS). */
  readonly onStarted?: (build: Build, logFile: string) => void;
  /**
   * The project's cache type (CodeBuild's ProjectCache): S3 honours the buildspec's `cache` section
   * with keys, LOCAL with LOCAL_CUSTOM_CACHE without them, NO_CACHE ignores it.
   * @default { type: 'S3' }: a keyed archive per project under the runner's cacheDir
   */
  readonly projectCache?: ProjectCache;
}

/** What `recover` found of a local mode that ended without stopping its builds. */
export interface RecoveryReport {
  /** Builds whose processes were still recorded as running. */
  readonly stoppedBuilds: readonly string[];
  /** Process groups still alive, and ended. */
  readonly endedProcessGroups: number;
  readonly removedWorkTrees: number;
}

export interface LocalBuildResult {
  readonly build: Build;
  readonly logFile: string;
  readonly reports: Report[];
}

export interface LocalBuildRunnerOptions {
  /** Builds (logs, artifacts), build numbers and reports live here. */
  readonly rootDir: string;
  /** @default ~/.cache/stepline/runtimes */
  readonly runtimeCacheDir?: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /**
   * Pass the AWS credentials of the shell that runs local mode (AWS_ACCESS_KEY_ID, AWS_PROFILE and
   * the rest, with the user's ~/.aws files) to builds. Off, a build has no credentials at all; on
   * CodeBuild it would have its project's service role instead.
   * @default false
   */
  readonly passAwsCredentials?: boolean;
  /** @default 'local' */
  readonly region?: string;
  /**
   * Artifacts are kept for a project's newest builds only: older builds keep their log and report,
   * and lose their artifact copies (tens of MB each for a typical Node project).
   * @default 10
   */
  readonly keepArtifactsOfBuilds?: number;
  /**
   * How many builds run at once; the rest wait in order, their wait recorded as the QUEUED phase,
   * as a CodeBuild account's concurrent-build quota queues builds.
   * @default the number of CPU cores
   */
  readonly maxConcurrentBuilds?: number;
  /**
   * Where the buildspecs' caches are kept, a directory per project (local mode: `<state dir>/cache`).
   * @default `<rootDir>/cache`
   */
  readonly cacheDir?: string;
  /**
   * Honour the buildspecs' `cache` sections. Off (`stepline start --no-cache`), no build restores or
   * saves a cache, whatever its project's cache type: a clean run.
   * @default true
   */
  readonly cache?: boolean;
}

/** CodeBuild's rule for project names, which also keeps them safe as directory names. */
const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/;
const DEFAULT_TIMEOUT_MINUTES = 60;

/** Runs CodeBuild builds on this machine: the stand-in for `codebuild:startBuild.sync` in local mode. */
export class LocalBuildRunner {
  private readonly rootDir: string;
  private readonly runtimeCacheDir: string;
  private readonly now: () => Date;
  private readonly reportStore: ReportStore;
  private readonly home: string;
  private readonly region: string;
  private readonly awsCredentials: Readonly<Record<string, string>>;
  private readonly keepArtifactsOfBuilds: number;
  private readonly slots: BuildSlots;
  private readonly processes: ProcessRegistry;
  private readonly cacheDir: string;
  private readonly cacheEnabled: boolean;
  private network: Promise<{ machine: MachineNetwork; variables: Record<string, string> }> | undefined;

  constructor(options: LocalBuildRunnerOptions) {
    this.rootDir = options.rootDir;
    this.runtimeCacheDir = options.runtimeCacheDir ?? join(homedir(), '.cache', 'stepline', 'runtimes');
    this.now = options.now ?? (() => new Date());
    this.reportStore = new ReportStore(join(options.rootDir, 'reports'));
    this.home = join(options.rootDir, 'home');
    this.region = options.region ?? 'local';
    this.awsCredentials = options.passAwsCredentials ? awsCredentialsOfThisShell() : {};
    this.keepArtifactsOfBuilds = options.keepArtifactsOfBuilds ?? 10;
    this.slots = new BuildSlots(options.maxConcurrentBuilds ?? availableParallelism());
    this.processes = new ProcessRegistry(join(options.rootDir, 'running'));
    this.cacheDir = options.cacheDir ?? join(options.rootDir, 'cache');
    this.cacheEnabled = options.cache ?? true;
  }

  /**
   * After local mode ended without stopping its builds (killed, crashed): ends the process groups
   * they left running, says so at the end of their logs, and removes every work tree left behind.
   * Call it at start, before any build runs on this root.
   */
  async recover(): Promise<RecoveryReport> {
    const reaped = this.processes.reap();
    const stoppedBuilds = [...new Map(reaped.map(({ group }) => [group.buildId, group])).values()];
    for (const { buildDir } of stoppedBuilds) {
      const log = join(buildDir, 'build.log');
      if (existsSync(log)) {
        await appendFile(
          log,
          `[Container] ${containerTime(this.now())} Build was stopped: local mode ended while it ran; its processes were ended when local mode started again\n`,
        );
      }
    }
    const buildsDir = join(this.rootDir, 'builds');
    const workTrees = existsSync(buildsDir)
      ? (await readdir(buildsDir)).flatMap((project) =>
          readdirSync(join(buildsDir, project)).map((build) => join(buildsDir, project, build, 'src')),
        )
      : [];
    const stale = workTrees.filter((dir) => existsSync(dir));
    await Promise.all(stale.map((dir) => rm(dir, { recursive: true, force: true })));
    await removeUnfinishedCaches(this.cacheDir, workTrees.map(dirname));
    return {
      stoppedBuilds: stoppedBuilds.map((group) => group.buildId),
      endedProcessGroups: reaped.filter(({ killed }) => killed).length,
      removedWorkTrees: stale.length,
    };
  }

  /** Resolves with the finished build whatever its status; rejects only when the request itself is bad. */
  async run(request: BuildRequest): Promise<LocalBuildResult> {
    validate(request);
    const streamName = randomUUID();
    const buildId = `${request.projectName}:${streamName}`;
    const projectDir = join(this.rootDir, 'builds', request.projectName);
    const buildDir = join(projectDir, streamName);
    await mkdir(buildDir, { recursive: true });
    await this.prepareHome();
    const network = await this.machineNetwork();
    const execution = new BuildExecution({
      ...request,
      environmentVariables: request.environmentVariables ?? [],
      timeoutMinutes: request.timeoutMinutes ?? DEFAULT_TIMEOUT_MINUTES,
      buildId,
      buildArn: buildArn(buildId),
      projectArn: projectArn(request.projectName),
      buildNumber: nextBuildNumber(projectDir),
      buildDir,
      logStreamName: streamName,
      runtimeCacheDir: this.runtimeCacheDir,
      reportStore: this.reportStore,
      now: this.now,
      home: this.home,
      region: this.region,
      awsCredentials: this.awsCredentials,
      machineNetwork: network.machine,
      networkVariables: network.variables,
      slots: this.slots,
      processes: this.processes,
      projectCache: request.projectCache ?? DEFAULT_PROJECT_CACHE,
      cacheEnabled: this.cacheEnabled,
      projectCacheDir: join(this.cacheDir, request.projectName),
    });
    request.onStarted?.(
      {
        id: buildId,
        arn: buildArn(buildId),
        projectName: request.projectName,
        buildStatus: 'IN_PROGRESS',
        logs: { groupName: localBuildLogGroup(request.projectName), streamName },
      },
      join(buildDir, 'build.log'),
    );
    const result = await execution.run();
    await pruneArtifacts(projectDir, this.keepArtifactsOfBuilds);
    return result;
  }

  /**
   * The builds' home, like the image's /root: empty of the user's dotfiles (no ~/.aws, ~/.npmrc,
   * ~/.gitconfig), except npm's download cache, linked to the user's so installs stay fast.
   */
  private async prepareHome(): Promise<void> {
    const npmCache = join(this.home, '.npm');
    if (existsSync(npmCache)) return;
    await mkdir(this.home, { recursive: true });
    await mkdir(join(homedir(), '.npm'), { recursive: true });
    await symlink(join(homedir(), '.npm'), npmCache).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }

  /**
   * The machine's network settings, read when the first build starts, and npm's written as the builds'
   * global npmrc (network.ts says why a file and not variables).
   */
  private machineNetwork(): Promise<{ machine: MachineNetwork; variables: Record<string, string> }> {
    this.network ??= (async () => {
      const machine = await readMachineNetwork();
      const npmrc = join(this.rootDir, 'npmrc');
      await writeBuildNpmrc(npmrc, machine.npmSettings);
      return { machine, variables: { ...machine.variables, [NPM_GLOBALCONFIG_VARIABLE]: npmrc } };
    })().catch((error: unknown) => {
      this.network = undefined;
      throw error;
    });
    return this.network;
  }

  /** Reports this runner (or another process on the same root) produced, as BatchGetReports returns them. */
  getReports(arns: readonly string[]): Report[] {
    return this.reportStore.get(arns);
  }

  /** A report's test cases as DescribeTestCases returns them, optionally of one status; undefined for an unknown report. */
  describeTestCases(reportArn: string, status?: string): TestCase[] | undefined {
    return this.reportStore.testCases(reportArn)?.filter((testCase) => !status || testCase.status === status);
  }
}

/** What a build cut short left of a cache: restores and archives under way (never a cache under its name). */
async function removeUnfinishedCaches(cacheDir: string, buildDirs: readonly string[]): Promise<void> {
  const scratch = buildDirs.flatMap((dir) => CACHE_SCRATCH_DIRS.map((name) => join(dir, name)));
  const projects = existsSync(cacheDir) ? await readdir(cacheDir) : [];
  const temporaries = projects.flatMap((project) =>
    readdirSync(join(cacheDir, project))
      .filter(isUnfinishedArchive)
      .map((name) => join(cacheDir, project, name)),
  );
  await Promise.all([...scratch, ...temporaries].map((path) => rm(path, { recursive: true, force: true })));
}

/** Removes the artifact copies of all but the newest `keep` builds of a project (by their log's time). */
async function pruneArtifacts(projectDir: string, keep: number): Promise<void> {
  const builds = await readdir(projectDir, { withFileTypes: true });
  const dated = await Promise.all(
    builds
      .filter((entry) => entry.isDirectory())
      .map(async (entry) => {
        const dir = join(projectDir, entry.name);
        const log = await stat(join(dir, 'build.log')).catch(() => undefined);
        return { dir, time: log?.mtimeMs ?? 0 };
      }),
  );
  const old = dated.sort((a, b) => b.time - a.time).slice(keep);
  await Promise.all(
    old.flatMap(({ dir }) =>
      [BUILD_ARTIFACT_NAME, 'secondary-artifacts'].map((name) => rm(join(dir, name), { recursive: true, force: true })),
    ),
  );
}

function awsCredentialsOfThisShell(): Record<string, string> {
  const passed: Record<string, string> = {
    AWS_CONFIG_FILE: join(homedir(), '.aws', 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(homedir(), '.aws', 'credentials'),
  };
  for (const name of AWS_CREDENTIAL_VARIABLES) {
    const value = process.env[name];
    if (value) passed[name] = value;
  }
  return passed;
}

function validate(request: BuildRequest): void {
  if (!PROJECT_NAME.test(request.projectName)) {
    throw new InvalidBuildRequestError(
      `Invalid project name '${request.projectName}': 2-255 of A-Z a-z 0-9 - _, starting with a letter or digit`,
    );
  }
  if (!isGitRepository(request.repositoryPath)) throw new UnknownRepositoryError(request.repositoryPath);
  const buildspecPath = normalize(request.buildspecPath);
  if (isAbsolute(buildspecPath) || buildspecPath.split(sep)[0] === '..') {
    throw new InvalidBuildRequestError(`buildspecPath must be a path inside the source: '${request.buildspecPath}'`);
  }
  const timeout = request.timeoutMinutes ?? DEFAULT_TIMEOUT_MINUTES;
  if (!(timeout > 0) || !Number.isFinite(timeout)) {
    throw new InvalidBuildRequestError(`timeoutMinutes must be a positive number, got ${request.timeoutMinutes}`);
  }
  for (const { name } of request.environmentVariables ?? []) {
    if (name === '' || name.includes('=') || name.includes('\0')) {
      throw new InvalidBuildRequestError(`Invalid environment variable name '${name}'`);
    }
  }
}
