import {
  BatchGetBuildsCommand,
  BatchGetReportsCommand,
  CodeBuildClient,
  DescribeTestCasesCommand,
  type Report,
} from '@aws-sdk/client-codebuild';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { BuildNotFoundError } from '../../core/errors';
import type { BuildDetails, BuildInspector } from '../../core/ports';
import { MAX_FAILED_TESTS } from '../../core/runs/progress';
import type { FailedTest, LogPointer, TestSummary } from '../../core/records';

/** Reads builds, their test reports and their logs from CodeBuild and CloudWatch Logs. */
export class CodeBuildInspector implements BuildInspector {
  constructor(
    private readonly codebuild: CodeBuildClient,
    private readonly logs: CloudWatchLogsClient,
  ) {}

  async describeBuild(buildId: string): Promise<BuildDetails> {
    const { builds = [] } = await this.codebuild.send(new BatchGetBuildsCommand({ ids: [buildId] }));
    const build = builds[0];
    if (!build?.id) throw new BuildNotFoundError(buildId);
    const failed = build.phases?.find((p) => p.phaseStatus && p.phaseStatus !== 'SUCCEEDED');
    const reportArns = build.reportArns ?? [];
    const { reports = [] } = reportArns.length
      ? await this.codebuild.send(new BatchGetReportsCommand({ reportArns }))
      : { reports: [] };
    return {
      id: build.id,
      status: build.buildStatus ?? 'UNKNOWN',
      startTime: build.startTime,
      endTime: build.endTime,
      logs: build.logs && {
        groupName: build.logs.groupName,
        streamName: build.logs.streamName,
        deepLink: build.logs.deepLink,
      },
      failedPhase: failed && {
        type: failed.phaseType ?? 'UNKNOWN',
        status: failed.phaseStatus ?? 'UNKNOWN',
        context: failed.contexts
          ?.map((c) => [c.statusCode, c.message].filter(Boolean).join(': '))
          .filter(Boolean)
          .join('; '),
      },
      tests: reports.length ? { ...summarize(reports), failures: await this.failedTests(reports) } : undefined,
      ...(build.artifacts?.location ? { artifact: artifactUrl(build.artifacts.location) } : {}),
    };
  }

  /** The first failed, then erred, test cases of the reports that have any (DescribeTestCases). */
  private async failedTests(reports: readonly Report[]): Promise<FailedTest[] | undefined> {
    const failures: FailedTest[] = [];
    for (const report of reports) {
      for (const status of ['FAILED', 'ERROR'] as const) {
        const room = MAX_FAILED_TESTS - failures.length;
        if (room <= 0 || !report.arn || !report.testSummary?.statusCounts?.[status]) continue;
        const { testCases = [] } = await this.codebuild.send(
          new DescribeTestCasesCommand({ reportArn: report.arn, filter: { status }, maxResults: room }),
        );
        for (const testCase of testCases.slice(0, room)) {
          const suite = [testCase.testSuiteName, testCase.prefix].filter(Boolean).join(' › ');
          failures.push({
            name: testCase.name ?? '(unnamed)',
            status,
            ...(suite ? { suite } : {}),
            message: testCase.message,
          });
        }
      }
    }
    return failures.length ? failures : undefined;
  }

  async logTail(logs: LogPointer, lines: number): Promise<string[]> {
    if (!logs.groupName || !logs.streamName) return [];
    const { events = [] } = await this.logs.send(
      new GetLogEventsCommand({
        logGroupName: logs.groupName,
        logStreamName: logs.streamName,
        startFromHead: false,
        limit: lines,
      }),
    );
    return events.flatMap((e) => (e.message ?? '').replace(/\n$/, '').split('\n')).slice(-lines);
  }
}

function summarize(reports: readonly Report[]): TestSummary {
  const count = (status: string) => reports.reduce((n, r) => n + (r.testSummary?.statusCounts?.[status] ?? 0), 0);
  const total = reports.reduce((n, r) => n + (r.testSummary?.total ?? 0), 0);
  const [passed, failed, skipped] = [count('SUCCEEDED'), count('FAILED'), count('SKIPPED')];
  return {
    total,
    passed,
    failed,
    skipped,
    other: total - passed - failed - skipped,
    durationMs: Math.round(reports.reduce((n, r) => n + (r.testSummary?.durationInNanoSeconds ?? 0), 0) / 1e6),
    reports: reports.map((r) => r.arn ?? '').filter(Boolean),
  };
}

/** CodeBuild names an S3 artifact `arn:aws:s3:::bucket/key`; the deployment takes it as `s3://bucket/key`. */
function artifactUrl(location: string): string {
  const s3 = /^arn:aws[a-z-]*:s3:::([^/]+)\/(.+)$/.exec(location);
  return s3 ? `s3://${s3[1]}/${s3[2]}` : location;
}
