import { parseJUnit } from '../../../local/build-runner/junit';

describe('parseJUnit', () => {
  it('counts test cases by status and sums their time, through nested suites', () => {
    const counts = parseJUnit(`<?xml version="1.0"?>
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
  });

  it('reads a bare <testsuite> root', () => {
    expect(parseJUnit('<testsuite><testcase name="x"/></testsuite>').total).toBe(1);
  });

  it('refuses what is not JUnit XML', () => {
    expect(() => parseJUnit('<html><body/></html>')).toThrow('not a JUnit report');
    expect(() => parseJUnit('<testsuite><testcase>')).toThrow(/invalid XML at line 1/);
  });
});
