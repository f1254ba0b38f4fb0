import type { TestCase } from '@aws-sdk/client-codebuild';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** Test case statuses CodeBuild reports (https://docs.aws.amazon.com/codebuild/latest/userguide/test-report.html). */
export interface TestCounts {
  total: number;
  SUCCEEDED: number;
  FAILED: number;
  SKIPPED: number;
  ERROR: number;
  UNKNOWN: number;
  durationInNanoSeconds: number;
}

/** A JUnit document as CodeBuild reads it: its counts, and each test case in DescribeTestCases' shape. */
export interface JUnitResult {
  readonly counts: TestCounts;
  readonly cases: TestCase[];
}

export function emptyCounts(): TestCounts {
  return { total: 0, SUCCEEDED: 0, FAILED: 0, SKIPPED: 0, ERROR: 0, UNKNOWN: 0, durationInNanoSeconds: 0 };
}

type Element = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  isArray: (name) => ['testsuite', 'testcase'].includes(name),
});

/** Reads one JUnit XML document (`<testsuites>` or a bare `<testsuite>`, suites may nest). */
export function parseJUnit(xml: string): JUnitResult {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`invalid XML at line ${valid.err.line}: ${valid.err.msg}`);
  const document = parser.parse(xml) as Element;
  const root = (document.testsuites ?? { testsuite: document.testsuite }) as Element;
  if (root.testsuite === undefined) throw new Error('not a JUnit report: no <testsuites> or <testsuite> element');
  const result: JUnitResult = { counts: emptyCounts(), cases: [] };
  readSuites(root, result);
  return result;
}

function readSuites(parent: Element, result: JUnitResult): void {
  for (const suite of elements(parent.testsuite)) {
    for (const testCase of elements(suite.testcase)) {
      const status = statusOf(testCase);
      const durationInNanoSeconds = Math.round(seconds(testCase['@time']) * 1e9);
      result.counts.total++;
      result.counts[status]++;
      result.counts.durationInNanoSeconds += durationInNanoSeconds;
      result.cases.push({
        name: text(testCase['@name']),
        // CodeBuild prefixes a case with its class name where the report gives one.
        prefix: text(testCase['@classname']) || undefined,
        testSuiteName: text(suite['@name']),
        status,
        durationInNanoSeconds,
        message: messageOf(testCase),
      });
    }
    readSuites(suite, result);
  }
}

function statusOf(testCase: Element): 'SUCCEEDED' | 'FAILED' | 'SKIPPED' | 'ERROR' {
  if ('failure' in testCase) return 'FAILED';
  if ('error' in testCase) return 'ERROR';
  if ('skipped' in testCase) return 'SKIPPED';
  return 'SUCCEEDED';
}

/** The failure's or error's `message` attribute and its text (often the stack), as CodeBuild keeps both. */
function messageOf(testCase: Element): string | undefined {
  const detail = testCase.failure ?? testCase.error;
  if (detail === undefined) return undefined;
  const first = Array.isArray(detail) ? (detail[0] as unknown) : detail;
  const parts =
    typeof first === 'object' && first !== null
      ? [text((first as Element)['@message']), text((first as Element)['#text'])]
      : [text(first)];
  const message = parts.filter(Boolean).join('\n');
  return message || undefined;
}

function text(value: unknown): string {
  return value === undefined || value === null ? '' : String(value).trim();
}

function elements(value: unknown): Element[] {
  // An empty element (`<testsuite/>`) parses to '' rather than an object.
  return Array.isArray(value) ? value.map((item) => (typeof item === 'object' && item !== null ? item : {})) : [];
}

/** Some frameworks write `time="1,234.5"`; a missing or unreadable time counts as zero. */
function seconds(value: unknown): number {
  const parsed = Number(String(value ?? '0').replace(/,/g, ''));
  return Number.isFinite(parsed) ? parsed : 0;
}
