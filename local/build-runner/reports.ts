import type { Report, TestCase } from '@aws-sdk/client-codebuild';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { reportArn, reportGroupOf } from './arns';
import type { FileSetSpec } from './buildspec';
import { resolveFileSet } from './file-sets';
import { emptyCounts, parseJUnit, type TestCounts } from './junit';

export interface ReportContext {
  readonly projectName: string;
  readonly buildArn: string;
  readonly srcDir: string;
  readonly now: () => Date;
  readonly log: (message: string) => void;
}

/** A report as BatchGetReports returns it, with its test cases as DescribeTestCases returns them. */
export interface ReportWithCases {
  readonly report: Report;
  readonly testCases: TestCase[];
}

/**
 * Builds a test report per report group. A group whose files match nothing yields no report; one
 * whose files cannot be read as JUnit XML is INCOMPLETE, as on CodeBuild.
 */
export async function createReports(
  groups: Readonly<Record<string, FileSetSpec>>,
  context: ReportContext,
): Promise<ReportWithCases[]> {
  const reports: ReportWithCases[] = [];
  for (const [group, spec] of Object.entries(groups)) {
    const files = await resolveFileSet(context.srcDir, spec);
    if (files.length === 0) {
      context.log(`Report group ${group}: no report files found`);
      continue;
    }
    const counts = emptyCounts();
    const cases: TestCase[] = [];
    let readable = true;
    for (const file of files) {
      try {
        const result = parseJUnit(await readFile(file.source, 'utf8'));
        add(counts, result.counts);
        cases.push(...result.cases);
      } catch (error) {
        readable = false;
        context.log(
          `Report group ${group}: skipping ${relative(context.srcDir, file.source)}: ${(error as Error).message}`,
        );
      }
    }
    const report = toReport(group, counts, readable, context);
    reports.push({ report, testCases: cases.map((testCase) => ({ ...testCase, reportArn: report.arn })) });
  }
  return reports;
}

function toReport(group: string, counts: TestCounts, readable: boolean, context: ReportContext): Report {
  const reportGroup = reportGroupOf(context.projectName, group);
  const { total, durationInNanoSeconds, ...statusCounts } = counts;
  return {
    arn: reportArn(reportGroup.name, randomUUID()),
    type: 'TEST',
    name: reportGroup.name,
    reportGroupArn: reportGroup.arn,
    executionId: context.buildArn,
    status: !readable ? 'INCOMPLETE' : counts.FAILED + counts.ERROR > 0 ? 'FAILED' : 'SUCCEEDED',
    created: context.now(),
    truncated: false,
    testSummary: { total, statusCounts, durationInNanoSeconds },
  };
}

function add(sum: TestCounts, counts: TestCounts): void {
  for (const key of Object.keys(sum) as (keyof TestCounts)[]) sum[key] += counts[key];
}
