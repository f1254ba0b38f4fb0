import { parseJUnit } from '../../../local/build-runner/junit';

describe('parseJUnit', () => {
  it('counts test cases by status and sums their time, through nested suites', () => {
    const { counts, cases } = parseJUnit(`<?xml version="1.0"?>
<testsuites>
  <testsuite name="a">
    <testcase name="passes" time="0.5"/>
    <testcase name="fails" time="0.25"><failure message="expected 1">stack</failure></testcase>
    <testcase name="skipped"><skipped/></testcase>
    <testcase name="errors"><error message="boom"/></testcase>
    <testsuite name="nested"><testcase name="deep" time="1,000"/></testsuite>
  </testsuite>
</testsuites>`);
    expect(counts).toEqual({
      total: 5,
      SUCCEEDED: 2,
      FAILED: 1,
      SKIPPED: 1,
      ERROR: 1,
      UNKNOWN: 0,
      durationInNanoSeconds: 1000.75e9,
    });
    expect(cases).toEqual([
      { name: 'passes', testSuiteName: 'a', status: 'SUCCEEDED', durationInNanoSeconds: 0.5e9 },
      {
        name: 'fails',
        testSuiteName: 'a',
        status: 'FAILED',
        durationInNanoSeconds: 0.25e9,
        message: 'expected 1\nstack',
      },
      { name: 'skipped', testSuiteName: 'a', status: 'SKIPPED', durationInNanoSeconds: 0 },
      { name: 'errors', testSuiteName: 'a', status: 'ERROR', durationInNanoSeconds: 0, message: 'boom' },
      { name: 'deep', testSuiteName: 'nested', status: 'SUCCEEDED', durationInNanoSeconds: 1000e9 },
    ]);
  });

  it("keeps a test case's class name as its prefix, and a failure given only as text", () => {
    const { cases } = parseJUnit(
      '<testsuite name="s"><testcase classname="pkg.Spec" name="t"><failure>plain text</failure></testcase></testsuite>',
    );
    expect(cases).toEqual([
      {
        name: 't',
        prefix: 'pkg.Spec',
        testSuiteName: 's',
        status: 'FAILED',
        durationInNanoSeconds: 0,
        message: 'plain text',
      },
    ]);
  });

  it('reads a bare <testsuite> root', () => {
    expect(parseJUnit('<testsuite><testcase name="x"/></testsuite>').counts.total).toBe(1);
  });

  it('refuses what is not JUnit XML', () => {
    expect(() => parseJUnit('<html><body/></html>')).toThrow('not a JUnit report');
    expect(() => parseJUnit('<testsuite><testcase>')).toThrow(/invalid XML at line 1/);
  });
});
