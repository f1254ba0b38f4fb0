import {
  alarmDefinitionSchema,
  datapoints,
  evaluateAlarm,
  statistic,
  type AlarmDefinition,
  type AlarmState,
  type MetricSample,
  type TreatMissingData,
} from '../../core/alarms/evaluator';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** 25/11/26 10:30:20 UTC: the alarm's last evaluation boundary is 10:30:00. */
const NOW = Date.UTC(2026, 10, 25, 10, 30, 20);
const BOUNDARY = Date.UTC(2026, 10, 25, 10, 30, 0);
const STATES: readonly AlarmState[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA'];

function alarm(overrides: Partial<AlarmDefinition> = {}): AlarmDefinition {
  return alarmDefinitionSchema.parse({
    name: 'canary-errors',
    statistic: 'Maximum',
    periodSeconds: 60,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    threshold: 1,
    comparisonOperator: 'GreaterThanThreshold',
    treatMissingData: 'missing',
    ...overrides,
  });
}

/**
 * Samples in the docs' notation, oldest period first and the newest ending at the evaluation boundary before `now`:
 * `0` a non-breaching datapoint (value 0), `X` a breaching one (value 5), `-` a missing one (no sample).
 */
function samplesFor(notation: string, definition: AlarmDefinition, now = NOW): MetricSample[] {
  const cells = notation.split(' ');
  const period = definition.periodSeconds * SECOND;
  const end = Math.floor(now / MINUTE) * MINUTE;
  return cells.flatMap((cell, index) => {
    const start = end - (cells.length - index) * period;
    if (cell === '-') return [];
    return [{ timestamp: start + SECOND, value: cell === 'X' ? 5 : 0 }];
  });
}

/** One sample per value, one period each, the last value in the newest complete minute before NOW. */
function perMinute(values: readonly number[]): MetricSample[] {
  return values.map((value, index) => ({ timestamp: BOUNDARY - (values.length - index) * MINUTE + 5 * SECOND, value }));
}

describe('statistic', () => {
  const values = [3, 1, 4, 1, 5];

  it('computes the five standard statistics', () => {
    const results = {
      SampleCount: statistic('SampleCount', values),
      Sum: statistic('Sum', values),
      Average: statistic('Average', values),
      Minimum: statistic('Minimum', values),
      Maximum: statistic('Maximum', values),
    };

    expect(results).toEqual({ SampleCount: 5, Sum: 14, Average: 2.8, Minimum: 1, Maximum: 5 });
  });

  it('has no value for a period without samples', () => {
    const stats = ['SampleCount', 'Sum', 'Average', 'Minimum', 'Maximum', 'p99'] as const;

    const results = stats.map((stat) => statistic(stat, []));

    expect(results).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('interpolates p50 over an even count between the two middle values: [4, 1, 3, 2] → 2.5', () => {
    const median = statistic('p50', [4, 1, 3, 2]);

    expect(median).toBe(2.5);
  });

  it('computes p99 over 1,000 samples 1..1000 as 990.01 (h = 999 × 0.99 = 989.01)', () => {
    const samples = Array.from({ length: 1000 }, (_, index) => ((index * 7919) % 1000) + 1); // 1..1000, shuffled

    const p99 = statistic('p99', samples);

    expect(new Set(samples).size).toBe(1000);
    expect(p99).toBeCloseTo(990.01, 9);
  });

  it('computes p99.9 over 1..1000 as 999.001 and p0/p100 as the minimum and maximum', () => {
    const samples = Array.from({ length: 1000 }, (_, index) => index + 1);

    const results = [statistic('p99.9', samples), statistic('p0', samples), statistic('p100', samples)];

    expect(results[0]).toBeCloseTo(999.001, 9);
    expect(results.slice(1)).toEqual([1, 1000]);
  });

  it('gives no percentile over negative values, as CloudWatch does', () => {
    const p50 = statistic('p50', [1, -2, 3]);

    expect(p50).toBeUndefined();
  });

  it('refuses a statistic CloudWatch does not have', () => {
    const compute = () => statistic('p101', [1]);

    expect(compute).toThrow('not a CloudWatch statistic: p101');
  });
});

describe('datapoints', () => {
  it('aligns 60 s periods to the minute, leaves out the minute in progress and counts a sample at a boundary in the later period', () => {
    const definition = alarm({ statistic: 'Sum' });
    const samples = [
      { timestamp: Date.UTC(2026, 10, 25, 10, 26, 59, 999), value: 100 }, // before the range
      { timestamp: Date.UTC(2026, 10, 25, 10, 27, 0), value: 1 },
      { timestamp: Date.UTC(2026, 10, 25, 10, 28, 0), value: 2 }, // exactly at a boundary
      { timestamp: Date.UTC(2026, 10, 25, 10, 28, 30), value: 3 },
      { timestamp: Date.UTC(2026, 10, 25, 10, 30, 10), value: 1000 }, // the minute in progress
    ];

    const result = datapoints(definition, samples, NOW, 3);

    expect(result).toEqual([
      { start: Date.UTC(2026, 10, 25, 10, 27), value: 1, sampleCount: 1 },
      { start: Date.UTC(2026, 10, 25, 10, 28), value: 5, sampleCount: 2 },
      { start: Date.UTC(2026, 10, 25, 10, 29), sampleCount: 0 },
    ]);
  });

  it('slides a 300 s period by the minute: at 10:07:30 it covers 10:02–10:07', () => {
    const definition = alarm({ statistic: 'SampleCount', periodSeconds: 300 });
    const samples = [
      Date.UTC(2026, 10, 25, 10, 1, 59),
      Date.UTC(2026, 10, 25, 10, 2),
      Date.UTC(2026, 10, 25, 10, 6, 59),
    ].map((timestamp) => ({ timestamp, value: 1 }));

    const result = datapoints(definition, samples, Date.UTC(2026, 10, 25, 10, 7, 30), 1);

    expect(result).toEqual([{ start: Date.UTC(2026, 10, 25, 10, 2), value: 2, sampleCount: 2 }]);
  });

  it('evaluates high-resolution periods on 10 s boundaries', () => {
    const definition = alarm({ statistic: 'Sum', periodSeconds: 10 });
    const at = (seconds: number) => Date.UTC(2026, 10, 25, 10, 0, seconds);
    const samples = [
      { timestamp: at(5), value: 1 },
      { timestamp: at(12), value: 2 },
      { timestamp: at(21), value: 4 },
    ];

    const result = datapoints(definition, samples, at(27), 2);

    expect(result).toEqual([
      { start: at(0), value: 1, sampleCount: 1 },
      { start: at(10), value: 2, sampleCount: 1 },
    ]);
  });

  it('evaluates an alarm spanning more than a day on the hour', () => {
    const definition = alarm({ statistic: 'Sum', periodSeconds: 3600, evaluationPeriods: 30, datapointsToAlarm: 1 });
    const samples = [
      { timestamp: Date.UTC(2026, 10, 25, 9, 30), value: 1 },
      { timestamp: Date.UTC(2026, 10, 25, 10, 2), value: 7 },
    ];

    const result = datapoints(definition, samples, Date.UTC(2026, 10, 25, 10, 43), 1);

    expect(result).toEqual([{ start: Date.UTC(2026, 10, 25, 9), value: 1, sampleCount: 1 }]);
  });

  it('drops samples that are not finite numbers', () => {
    const definition = alarm({ statistic: 'Average' });
    const samples = [
      { timestamp: BOUNDARY - 30 * SECOND, value: Number.NaN },
      { timestamp: BOUNDARY - 20 * SECOND, value: Infinity },
      { timestamp: BOUNDARY - 10 * SECOND, value: 4 },
    ];

    const result = datapoints(definition, samples, NOW, 1);

    expect(result).toEqual([{ start: BOUNDARY - MINUTE, value: 4, sampleCount: 1 }]);
  });
});

describe('evaluateAlarm: M out of N with every datapoint present', () => {
  it('goes to ALARM when 2 of 3 non-consecutive datapoints breach', () => {
    const definition = alarm({ datapointsToAlarm: 2 });

    const result = evaluateAlarm(definition, perMinute([5, 0, 3]), NOW, 'OK');

    expect(result.state).toBe('ALARM');
    expect(result.reason).toBe(
      'Threshold Crossed: 2 out of the last 3 datapoints [3.0 (25/11/26 10:29:00), 5.0 (25/11/26 10:27:00)] were ' +
        'greater than the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition).',
    );
    expect(result.evaluated.map((point) => point.value)).toEqual([5, 0, 3]);
  });

  it('stays OK with M − 1 breaching datapoints', () => {
    const definition = alarm({ datapointsToAlarm: 2 });

    const result = evaluateAlarm(definition, perMinute([0, 0, 3]), NOW, 'OK');

    expect(result.state).toBe('OK');
    expect(result.reason).toBe(
      'Threshold Crossed: 2 out of the last 3 datapoints [0.0 (25/11/26 10:28:00), 0.0 (25/11/26 10:27:00)] were ' +
        'not greater than the threshold (1.0) (minimum 2 datapoints for ALARM -> OK transition).',
    );
  });

  it('leaves ALARM for OK as soon as N − M + 1 datapoints are good (the asymmetry)', () => {
    const definition = alarm(); // 3 out of 3: one good datapoint is enough for OK

    const result = evaluateAlarm(definition, perMinute([5, 5, 0]), NOW, 'ALARM');

    expect(result.state).toBe('OK');
    expect(result.reason).toBe(
      'Threshold Crossed: 1 out of the last 3 datapoints [0.0 (25/11/26 10:29:00)] was not greater than the ' +
        'threshold (1.0) (minimum 1 datapoint for ALARM -> OK transition).',
    );
  });

  it('evaluates only the newest N datapoints when every datapoint of the range is present', () => {
    const definition = alarm();

    const result = evaluateAlarm(definition, perMinute([5, 5, 0, 5, 5]), NOW, 'OK');

    expect(result.state).toBe('OK');
    expect(result.evaluated.map((point) => point.value)).toEqual([0, 5, 5]);
  });

  it.each([
    ['GreaterThanThreshold', 1.6, 'OK'],
    ['GreaterThanOrEqualToThreshold', 1.6, 'ALARM'],
    ['LessThanThreshold', 1.4, 'OK'],
    ['LessThanOrEqualToThreshold', 1.4, 'ALARM'],
  ] as const)('compares with %s: %d breaches, the threshold 1.5 itself gives %s', (operator, beyond, atThreshold) => {
    const definition = alarm({
      threshold: 1.5,
      comparisonOperator: operator,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
    });

    const states = [beyond, 1.5].map((value) => evaluateAlarm(definition, perMinute([value]), NOW, 'OK').state);

    expect(states).toEqual(['ALARM', atThreshold]);
  });

  it('aggregates 10,000 samples over 5 periods with the alarm statistic', () => {
    const definition = alarm({ statistic: 'p99', evaluationPeriods: 5, datapointsToAlarm: 5, threshold: 900 });
    const samples = Array.from({ length: 10_000 }, (_, index) => ({
      timestamp: BOUNDARY - 5 * MINUTE + Math.floor(index / 2000) * MINUTE + (index % 2000) * 25,
      value: (index % 2000) / 2, // 0..999.5 in every period
    }));

    const result = evaluateAlarm(definition, samples, NOW, 'OK');

    expect(result.state).toBe('ALARM');
    expect(result.evaluated.map((point) => point.sampleCount)).toEqual([2000, 2000, 2000, 2000, 2000]);
    expect(result.evaluated[0].value).toBeCloseTo(989.505, 9); // h = 1999 × 0.99 = 1979.01
  });
});

/** The docs' columns: MISSING, IGNORE, BREACHING, NOT BREACHING. */
const COLUMNS: readonly TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];
type Outcome = AlarmState | 'Retain current state';
type TableRow = readonly [
  notation: string,
  missing: Outcome,
  ignore: Outcome,
  breaching: Outcome,
  notBreaching: Outcome,
];

/**
 * "How alarm state is evaluated when data is missing": period 5 minutes, evaluation range 5, newest datapoint on the
 * right. First table: Datapoints to Alarm and Evaluation Periods both 3.
 */
const THREE_OUT_OF_THREE: readonly TableRow[] = [
  ['0 - X - X', 'OK', 'OK', 'OK', 'OK'],
  ['0 - - - -', 'OK', 'OK', 'OK', 'OK'],
  ['- - - - -', 'INSUFFICIENT_DATA', 'Retain current state', 'ALARM', 'OK'],
  ['0 X X - X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
  ['- - X - -', 'ALARM', 'Retain current state', 'ALARM', 'OK'],
];

/** Second table: "Datapoints to Alarm is only 2 while Evaluation Periods is 3. This is a 2 out of 3, M out of N alarm." */
const TWO_OUT_OF_THREE: readonly TableRow[] = [
  ['0 - X - X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
  ['0 0 X 0 X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
  ['0 - X - -', 'OK', 'OK', 'ALARM', 'OK'],
  ['- - - - 0', 'OK', 'OK', 'ALARM', 'OK'],
  ['- - - X -', 'ALARM', 'Retain current state', 'ALARM', 'OK'],
];

/** Rows of the 2019 edition of the page that the current one dropped: a lone breach, newest and oldest. */
const EARLIER_EDITION: readonly (readonly [number, ...TableRow])[] = [
  [3, '- - - - X', 'INSUFFICIENT_DATA', 'Retain current state', 'ALARM', 'OK'],
  [3, 'X - - - -', 'ALARM', 'Retain current state', 'ALARM', 'OK'],
  [2, '- - - - X', 'INSUFFICIENT_DATA', 'Retain current state', 'ALARM', 'OK'],
];

function tableTests(datapointsToAlarm: number, rows: readonly TableRow[]): void {
  for (const [notation, ...outcomes] of rows) {
    COLUMNS.forEach((treatMissingData, column) => {
      const expected = outcomes[column];
      it(`${notation} | ${treatMissingData} → ${expected}`, () => {
        const definition = alarm({ periodSeconds: 300, datapointsToAlarm, treatMissingData });
        const samples = samplesFor(notation, definition);

        const states = STATES.map((previous) => evaluateAlarm(definition, samples, NOW, previous).state);

        expect(states).toEqual(expected === 'Retain current state' ? STATES : STATES.map(() => expected));
      });
    });
  }
}

describe('the docs missing-data table, 3 out of 3', () => tableTests(3, THREE_OUT_OF_THREE));
describe('the docs missing-data table, 2 out of 3', () => tableTests(2, TWO_OUT_OF_THREE));
describe('the 2019 edition of the missing-data table', () => {
  for (const [datapointsToAlarm, ...row] of EARLIER_EDITION) {
    describe(`${datapointsToAlarm} out of 3`, () => tableTests(datapointsToAlarm, [row]));
  }
});

describe('evaluateAlarm: missing data', () => {
  it('does not alarm at once on a lone newest breaching point after missing ones (missing): only once it is M periods old', () => {
    const definition = alarm({ treatMissingData: 'missing' });
    const breach = [{ timestamp: BOUNDARY - MINUTE + SECOND, value: 5 }];

    const states = [0, 1, 2].map((minutesLater) =>
      evaluateAlarm(definition, breach, NOW + minutesLater * MINUTE, 'OK'),
    );

    expect(states.map((result) => result.state)).toEqual(['INSUFFICIENT_DATA', 'INSUFFICIENT_DATA', 'ALARM']);
    expect(states[0].reason).toBe('Insufficient Data: 2 datapoints were unknown.');
  });

  it('goes to OK instead when the next datapoint is good (- - - X 0)', () => {
    const definition = alarm({ treatMissingData: 'missing' });

    const result = evaluateAlarm(definition, samplesFor('- - - X 0', definition), NOW, 'OK');

    expect(result.state).toBe('OK');
  });

  it('looks back beyond N periods for real datapoints and then ignores the treatment (X X - - X)', () => {
    const definition = alarm({ treatMissingData: 'notBreaching' });

    const result = evaluateAlarm(definition, samplesFor('X X - - X', definition), NOW, 'OK');

    expect(result.state).toBe('ALARM');
    expect(result.evaluated.map((point) => point.start)).toEqual([
      BOUNDARY - 5 * MINUTE,
      BOUNDARY - 4 * MINUTE,
      BOUNDARY - MINUTE,
    ]);
  });

  it('fills only the most recent missing periods, as few as needed (0 - X - - at 2 out of 3, breaching)', () => {
    const definition = alarm({ periodSeconds: 300, datapointsToAlarm: 2, treatMissingData: 'breaching' });

    const result = evaluateAlarm(definition, samplesFor('0 - X - -', definition), NOW, 'OK');

    expect(result.state).toBe('ALARM');
    expect(result.evaluated).toEqual([
      { start: BOUNDARY - 25 * MINUTE, value: 0, sampleCount: 1 },
      { start: BOUNDARY - 15 * MINUTE, value: 5, sampleCount: 1 },
      { start: BOUNDARY - 5 * MINUTE, sampleCount: 0 },
    ]);
    expect(result.reason).toBe(
      'Threshold Crossed: 1 out of the last 3 datapoints [5.0 (25/11/26 10:15:00)] was greater than the threshold ' +
        '(1.0) and 1 missing datapoint was treated as [Breaching] (minimum 2 datapoints for OK -> ALARM transition).',
    );
  });

  it('goes to ALARM once the last good point leaves the range, with missing data treated as breaching', () => {
    const definition = alarm({ periodSeconds: 60, treatMissingData: 'breaching' });
    const samples = samplesFor('0 - - - -', definition);

    const now = evaluateAlarm(definition, samples, NOW, 'OK').state;
    const next = evaluateAlarm(definition, samples, NOW + MINUTE, 'OK').state;

    expect([now, next]).toEqual(['OK', 'ALARM']);
  });

  it.each([
    ['missing', 'INSUFFICIENT_DATA', 'Insufficient Data: 3 datapoints were unknown.'],
    [
      'notBreaching',
      'OK',
      'Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [NonBreaching].',
    ],
    [
      'breaching',
      'ALARM',
      'Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching].',
    ],
  ] as const)('with every datapoint missing and %s goes to %s', (treatMissingData, state, reason) => {
    const definition = alarm({ treatMissingData });

    const result = evaluateAlarm(definition, [], NOW, 'OK');

    expect(result).toEqual({
      state,
      reason,
      evaluated: [
        { start: BOUNDARY - 3 * MINUTE, sampleCount: 0 },
        { start: BOUNDARY - 2 * MINUTE, sampleCount: 0 },
        { start: BOUNDARY - MINUTE, sampleCount: 0 },
      ],
    });
  });

  it('keeps the state with every datapoint missing and ignore', () => {
    const definition = alarm({ treatMissingData: 'ignore' });

    const result = evaluateAlarm(definition, [], NOW, 'ALARM');

    expect(result.state).toBe('ALARM');
    expect(result.reason).toBe(
      'Missing data ignored: no datapoints were received for 3 periods and treatMissingData is ignore, so the alarm ' +
        'keeps its state (ALARM).',
    );
  });

  it('words the premature-alarm case after the breaching datapoint', () => {
    const definition = alarm({ periodSeconds: 300 });

    const result = evaluateAlarm(definition, samplesFor('- - X - -', definition), NOW, 'OK');

    expect(result.reason).toBe(
      'Threshold Crossed: 1 out of the last 3 datapoints [5.0 (25/11/26 10:15:00)] was greater than the threshold ' +
        '(1.0) and 2 missing datapoints were treated as [Missing]; the oldest breaching datapoint is 3 periods old ' +
        'and no later datapoint is good (minimum 3 datapoints for OK -> ALARM transition).',
    );
  });

  it('says how many datapoints were received when missing ones decide (- - - - 0 at 2 out of 3, breaching)', () => {
    const definition = alarm({ periodSeconds: 300, datapointsToAlarm: 2, treatMissingData: 'breaching' });

    const result = evaluateAlarm(definition, samplesFor('- - - - 0', definition), NOW, 'OK');

    expect(result.reason).toBe(
      'Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing datapoints were treated as [Breaching].',
    );
  });
});

describe('evaluateAlarm: reasons', () => {
  it('writes values as CloudWatch does (Java doubles) and dates as dd/MM/yy HH:mm:ss UTC', () => {
    const definition = alarm({ statistic: 'Average', evaluationPeriods: 2, datapointsToAlarm: 2, threshold: 0.1 });

    const result = evaluateAlarm(definition, perMinute([0.25, 15_000_000]), NOW, 'OK');

    expect(result.reason).toBe(
      'Threshold Crossed: 2 out of the last 2 datapoints [1.5E7 (25/11/26 10:29:00), 0.25 (25/11/26 10:28:00)] were ' +
        'greater than the threshold (0.1) (minimum 2 datapoints for OK -> ALARM transition).',
    );
  });
});

describe('evaluateAlarm: percentiles with few samples', () => {
  const p99 = (evaluateLowSampleCountPercentile: 'evaluate' | 'ignore') =>
    alarm({
      statistic: 'p99',
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      threshold: 100,
      evaluateLowSampleCountPercentile,
    });
  const fifty = Array.from({ length: 50 }, (_, index) => ({
    timestamp: BOUNDARY - MINUTE + index * SECOND,
    value: index === 49 ? 5000 : 10,
  }));

  it('evaluates p99 over 50 samples (fewer than 10/(1 − 0.99) = 1,000) with evaluate', () => {
    const definition = p99('evaluate');

    const result = evaluateAlarm(definition, fifty, NOW, 'OK');

    expect(result.state).toBe('ALARM');
  });

  it('keeps the current state for p99 over 50 samples with ignore', () => {
    const definition = p99('ignore');

    const states = STATES.map((previous) => evaluateAlarm(definition, fifty, NOW, previous));

    expect(states.map((result) => result.state)).toEqual(STATES);
    expect(states[0].reason).toBe(
      'Low sample count: 1 evaluated datapoint had fewer than 1000 samples for p99 and ' +
        'evaluateLowSampleCountPercentile is ignore, so the alarm keeps its state (OK).',
    );
  });

  it('evaluates p99 with ignore once a period has 1,000 samples', () => {
    const definition = p99('ignore');
    const thousand = Array.from({ length: 1000 }, (_, index) => ({
      timestamp: BOUNDARY - MINUTE + index * 50,
      value: index >= 980 ? 5000 : 10,
    }));

    const result = evaluateAlarm(definition, thousand, NOW, 'OK');

    expect(result.state).toBe('ALARM');
  });

  it.each([
    ['p90', 99, 100],
    ['p25', 39, 40],
    ['p99.9', 9999, 10_000],
  ] as const)('counts %s as low below the documented minimum (%i low, %i enough)', (stat, low, enough) => {
    const definition = alarm({
      statistic: stat,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      threshold: -1,
      evaluateLowSampleCountPercentile: 'ignore',
    });
    const samples = (count: number) =>
      Array.from({ length: count }, () => ({ timestamp: BOUNDARY - 30 * SECOND, value: 1 }));

    const states = [low, enough].map((count) => evaluateAlarm(definition, samples(count), NOW, 'OK').state);

    expect(states).toEqual(['OK', 'ALARM']);
  });
});

describe('alarmDefinitionSchema', () => {
  const valid = {
    name: 'canary-p99',
    statistic: 'p99.9',
    periodSeconds: 20,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    threshold: 250,
    comparisonOperator: 'GreaterThanThreshold',
    treatMissingData: 'notBreaching',
    evaluateLowSampleCountPercentile: 'ignore',
  };
  const problems = (overrides: Record<string, unknown>) =>
    alarmDefinitionSchema.safeParse({ ...valid, ...overrides }).error?.issues.map((issue) => ({
      path: issue.path.join('.'),
      message: issue.message,
    }));

  it('accepts a valid definition, 10/20/30 s and multiples of 60 s', () => {
    const results = [10, 20, 30, 60, 300, 3600].map((periodSeconds) => problems({ periodSeconds }));

    expect(results).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('refuses datapointsToAlarm greater than evaluationPeriods', () => {
    const result = problems({ evaluationPeriods: 3, datapointsToAlarm: 4 });

    expect(result).toEqual([
      {
        path: 'datapointsToAlarm',
        message: 'datapointsToAlarm (4) must not exceed evaluationPeriods (3): it is M out of N',
      },
    ]);
  });

  it.each([45, 90, 0, -60])('refuses a period of %i s', (periodSeconds) => {
    const result = problems({ periodSeconds });

    expect(result).toEqual([
      { path: 'periodSeconds', message: `periodSeconds must be 10, 20, 30 or a multiple of 60 (got ${periodSeconds})` },
    ]);
  });

  it.each(['p101', 'p100.01', 'p99.999', 'P99', 'p-1', 'avg', 'p'])('refuses the statistic %s', (stat) => {
    const result = problems({ statistic: stat });

    expect(result).toEqual([
      {
        path: 'statistic',
        message: `statistic must be SampleCount, Sum, Average, Minimum, Maximum or a percentile from p0 to p100 with at most two decimals (got "${stat}")`,
      },
    ]);
  });

  it('refuses more than one day of evaluation with a period under an hour, and more than 7 days at all', () => {
    const day = problems({ periodSeconds: 60, evaluationPeriods: 1441 });
    const week = problems({ periodSeconds: 3600, evaluationPeriods: 169 });

    expect(day).toEqual([
      {
        path: 'evaluationPeriods',
        message: 'periodSeconds × evaluationPeriods is 86460 s: with a period under an hour at most 86400 s (1 day)',
      },
    ]);
    expect(week).toEqual([
      {
        path: 'evaluationPeriods',
        message: 'periodSeconds × evaluationPeriods is 608400 s: at most 604800 s (7 days)',
      },
    ]);
  });

  it('refuses empty or control-character names, non-finite thresholds, zero periods and unknown treatments', () => {
    const results = [
      problems({ name: '' }),
      problems({ name: 'a\nb' }),
      problems({ threshold: Infinity }),
      problems({ evaluationPeriods: 0, datapointsToAlarm: 0 }),
      problems({ treatMissingData: 'zero' }),
    ];

    expect(results.map((result) => result?.map((problem) => problem.path))).toEqual([
      ['name'],
      ['name'],
      ['threshold'],
      ['evaluationPeriods', 'datapointsToAlarm'],
      ['treatMissingData'],
    ]);
    expect(results[0]?.[0].message).toBe('name must not be empty');
    expect(results[1]?.[0].message).toBe('name must not contain ASCII control characters');
    expect(results[3]?.[0].message).toBe('evaluationPeriods is at least 1');
  });
});
