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

export function emptyCounts(): TestCounts {
  return { total: 0, SUCCEEDED: 0, FAILED: 0, SKIPPED: 0, ERROR: 0, UNKNOWN: 0, durationInNanoSeconds: 0 };
}

type Element = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  isArray: (name) => ['testsuite', 'testcase'].includes(name),
});

/** Counts the test cases of one JUnit XML document (`<testsuites>` or a bare `<testsuite>`, suites may nest). */
export function parseJUnit(xml: string): TestCounts {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`invalid XML at line ${valid.err.line}: ${valid.err.msg}`);
  const document = parser.parse(xml) as Element;
  const root = (document.testsuites ?? { testsuite: document.testsuite }) as Element;
  if (root.testsuite === undefined) throw new Error('not a JUnit report: no <testsuites> or <testsuite> element');
  const counts = emptyCounts();
  countSuites(root, counts);
  return counts;
}

function countSuites(parent: Element, counts: TestCounts): void {
  for (const suite of elements(parent.testsuite)) {
    for (const testCase of elements(suite.testcase)) {
      counts.total++;
      counts[statusOf(testCase)]++;
      counts.durationInNanoSeconds += Math.round(seconds(testCase['@time']) * 1e9);
    }
    countSuites(suite, counts);
  }
}

function statusOf(testCase: Element): 'SUCCEEDED' | 'FAILED' | 'SKIPPED' | 'ERROR' {
  if ('failure' in testCase) return 'FAILED';
  if ('error' in testCase) return 'ERROR';
  if ('skipped' in testCase) return 'SKIPPED';
  return 'SUCCEEDED';
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
