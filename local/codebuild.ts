/**
 * Local CodeBuild: the projects of the configured pipelines, run by the local build runner, and the
 * read APIs the handlers call (BatchGetBuilds, BatchGetReports, and GetLogEvents over build logs).
 */
import type { Build, Report, TestCase } from '@aws-sdk/client-codebuild';
import * as z from 'zod';
import { CODEBUILD_CACHE_MODES, type StageCache } from '../core/config/stepline-config';
import { awsName, operation } from './aws-endpoint';
import { serviceError } from './aws-errors';
import { localBuildLogFile, readLogEvents, type LogEventsRequest } from './build-logs';
import {
  DEFAULT_PROJECT_CACHE,
  type BuildRequest,
  type LocalBuildResult,
  type ProjectCache,
  type RecoveryReport,
} from './build-runner';

export interface LocalProject {
  readonly name: string;
  readonly buildspecPath: string;
  readonly repositoryPath: string;
  readonly timeoutMinutes: number;
  /**
   * The project's cache, as CodeBuild's ProjectCache: NO_CACHE ignores the buildspec's `cache` section.
   * @default { type: 'S3' }: the buildspec's cache section honoured with keys
   */
  readonly cache?: ProjectCache;
}

/** The local project's cache for a stage's `cache` setting; none given is the config's default, S3. */
export function projectCacheOf(setting: StageCache | undefined): ProjectCache {
  if (setting === undefined || setting.type === 's3') return DEFAULT_PROJECT_CACHE;
  if (setting.type === 'none') return { type: 'NO_CACHE' };
  return { type: 'LOCAL', modes: setting.modes.map((mode) => CODEBUILD_CACHE_MODES[mode]) };
}

/** The build runner as local CodeBuild uses it (LocalBuildRunner, or a wrapper in tests). */
export interface BuildRunner {
  run(request: BuildRequest): Promise<LocalBuildResult>;
  getReports(arns: readonly string[]): Report[];
  describeTestCases(reportArn: string, status?: string): TestCase[] | undefined;
  /** Cleans up after a local mode that ended without stopping its builds (LocalBuildRunner.recover). */
  recover?(): Promise<RecoveryReport>;
}

export interface StartBuildParameters {
  readonly ProjectName: string;
  readonly SourceVersion?: string;
  readonly EnvironmentVariablesOverride?: ReadonlyArray<{ Name: string; Value: string; Type?: string }>;
}

export class LocalCodeBuild {
  private readonly projects = new Map<string, LocalProject>();
  private readonly builds = new Map<string, LocalBuildResult>();
  /** The log file of each build this local mode started, by its stream, from its start. */
  private readonly logFiles = new Map<string, string>();

  constructor(
    private readonly runner: BuildRunner,
    projects: readonly LocalProject[],
    private readonly onLogLine?: (project: string, line: string) => void,
    /** Where the runner keeps its builds (`<state dir>/codebuild`): the logs of builds earlier local modes ran. */
    private readonly codebuildDir?: string,
  ) {
    projects.forEach((p) => this.projects.set(p.name, p));
  }

  /**
   * Runs a build to its end, as `startBuild.sync` waits for it; `onStarted` is told the build as StartBuild answers
   * it, once it has an id and a log.
   */
  async runBuild(
    parameters: StartBuildParameters,
    signal: AbortSignal,
    onStarted?: (build: Build) => void,
  ): Promise<Build> {
    const project = this.projects.get(parameters.ProjectName);
    if (!project) throw new Error(`Project cannot be found: ${parameters.ProjectName}`);
    const result = await this.runner.run({
      projectName: project.name,
      buildspecPath: project.buildspecPath,
      repositoryPath: project.repositoryPath,
      sourceVersion: parameters.SourceVersion ?? 'HEAD',
      environmentVariables: (parameters.EnvironmentVariablesOverride ?? []).map((v) => ({
        name: v.Name,
        value: v.Value,
      })),
      timeoutMinutes: project.timeoutMinutes,
      projectCache: project.cache ?? DEFAULT_PROJECT_CACHE,
      signal,
      onLogLine: this.onLogLine && ((line) => this.onLogLine!(project.name, line)),
      onStarted: (build, logFile) => {
        this.logFiles.set(build.logs!.streamName!, logFile);
        onStarted?.(build);
      },
    });
    this.builds.set(result.build.id!, result);
    if (result.build.logs?.streamName) this.logFiles.set(result.build.logs.streamName, result.logFile);
    return result.build;
  }

  batchGetBuilds(ids: readonly string[]): { builds: Build[]; buildsNotFound: string[] } {
    const found = ids.map((id) => this.builds.get(id)?.build);
    return {
      builds: found.filter((b): b is Build => b !== undefined),
      buildsNotFound: ids.filter((_, i) => !found[i]),
    };
  }

  batchGetReports(arns: readonly string[]): { reports: Report[]; reportsNotFound: string[] } {
    const reports = this.runner.getReports(arns);
    return { reports, reportsNotFound: arns.filter((arn) => !reports.some((r) => r.arn === arn)) };
  }

  /** DescribeTestCases: a report's test cases, filtered by status; at most `maxResults`. */
  describeTestCases(request: { reportArn: string; filter?: { status?: string }; maxResults?: number }) {
    const testCases = this.runner.describeTestCases(request.reportArn, request.filter?.status);
    if (!testCases) {
      throw serviceError('ResourceNotFoundException', `Report ${request.reportArn} does not exist`);
    }
    return { testCases: testCases.slice(0, request.maxResults ?? 50) };
  }

  /**
   * CloudWatch Logs' GetLogEvents over a build's log file (the stream name is the build's): a build of this local
   * mode's, running or ended, or one an earlier local mode ran; undefined when there is no such stream.
   */
  async getLogEvents(request: LogEventsRequest) {
    const logFile =
      this.logFiles.get(request.logStreamName) ??
      (this.codebuildDir && request.logGroupName
        ? localBuildLogFile(this.codebuildDir, request.logGroupName, request.logStreamName)
        : undefined);
    return logFile === undefined ? undefined : readLogEvents(logFile, request);
  }
}

/**
 * The CodeBuild and CloudWatch Logs operations the recorder calls, over the local builds: BatchGetBuilds,
 * BatchGetReports, DescribeTestCases, and GetLogEvents of a build's log stream.
 */
export function codeBuildOperations(codebuild: LocalCodeBuild) {
  return {
    'CodeBuild_20161006.BatchGetBuilds': operation(z.object({ ids: z.array(awsName).min(1).max(100) }), (r) =>
      codebuild.batchGetBuilds(r.ids),
    ),
    'CodeBuild_20161006.BatchGetReports': operation(z.object({ reportArns: z.array(awsName).min(1).max(100) }), (r) =>
      codebuild.batchGetReports(r.reportArns),
    ),
    'CodeBuild_20161006.DescribeTestCases': operation(
      z.object({
        reportArn: awsName,
        filter: z
          .object({ status: z.enum(['SUCCEEDED', 'FAILED', 'ERROR', 'SKIPPED', 'UNKNOWN']).optional() })
          .optional(),
        maxResults: z.number().int().min(1).max(100).optional(),
        nextToken: z.string().optional(),
      }),
      (r) => codebuild.describeTestCases(r),
    ),
    'Logs_20140328.GetLogEvents': operation(
      z.object({
        logGroupName: awsName.optional(),
        logStreamName: awsName,
        limit: z.number().int().min(1).max(10_000).optional(),
        startFromHead: z.boolean().optional(),
        nextToken: z.string().min(1).optional(),
      }),
      async (r) => {
        const events = await codebuild.getLogEvents(r);
        if (!events) throw serviceError('ResourceNotFoundException', 'The specified log stream does not exist.');
        return events;
      },
    ),
  };
}
