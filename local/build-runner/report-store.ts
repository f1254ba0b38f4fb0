import type { Report } from '@aws-sdk/client-codebuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const REPORT_ID = /:([0-9a-f-]{36})$/;

/** Reports as JSON files under the runner's root, one per report, so another process can read them. */
export class ReportStore {
  constructor(private readonly dir: string) {}

  save(report: Report): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.fileOf(report.arn ?? ''), JSON.stringify(report));
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

  private fileOf(arn: string): string {
    return join(this.dir, `${REPORT_ID.exec(arn)?.[1]}.json`);
  }
}
