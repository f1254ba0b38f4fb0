import type { Report, TestCase } from '@aws-sdk/client-codebuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const REPORT_ID = /:([0-9a-f-]{36})$/;

/**
 * Reports as JSON files under the runner's root, one per report and one for its test cases, so
 * another process can read them.
 */
export class ReportStore {
  constructor(private readonly dir: string) {}

  save(report: Report, testCases: readonly TestCase[]): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.fileOf(report.arn ?? ''), JSON.stringify(report));
    writeFileSync(this.fileOf(report.arn ?? '', '.cases'), JSON.stringify(testCases));
  }

  /** A report's test cases, as DescribeTestCases returns them; undefined for a report never produced. */
  testCases(arn: string): TestCase[] | undefined {
    if (!REPORT_ID.test(arn)) return undefined;
    try {
      return JSON.parse(readFileSync(this.fileOf(arn, '.cases'), 'utf8')) as TestCase[];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** The reports with these ARNs, in the order asked; ARNs this runner never produced are left out. */
  get(arns: readonly string[]): Report[] {
    return arns.flatMap((arn) => {
      if (!REPORT_ID.test(arn)) return [];
      let text: string;
      try {
        text = readFileSync(this.fileOf(arn), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      const stored = JSON.parse(text) as Report & { created?: string };
      return stored.arn === arn ? [{ ...stored, created: stored.created ? new Date(stored.created) : undefined }] : [];
    });
  }

  private fileOf(arn: string, kind = ''): string {
    return join(this.dir, `${REPORT_ID.exec(arn)?.[1]}${kind}.json`);
  }
}
