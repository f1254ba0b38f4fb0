/**
 * Amazon CloudWatch metric alarm evaluation, as a pure function: local mode raises the alarms CloudWatch would
 * raise (a canary rolls back when one fires), so the rules here follow the CloudWatch User Guide, not intuition.
 *
 * Sources (quoted at each rule below):
 * - "Alarm evaluation" (alarm-evaluation): period, evaluation periods, datapoints to alarm, evaluation every minute.
 * - "Configuring how CloudWatch alarms treat missing data" (alarms-and-missing-data): the evaluation range, the two
 *   example tables and "Avoiding premature transitions to alarm state".
 * - "Percentile-based alarms and low data samples" (percentiles-with-low-samples).
 * - The PutMetricAlarm API reference: valid periods, limits, EvaluateLowSampleCountPercentile.
 *
 * Not modelled: CloudWatch evaluates the data *available* when it runs, and samples arrive with a short delay
 * ("CloudWatch alarms evaluate metrics based on the datapoints that are immediately available … after the alarm
 * evaluation, CloudWatch can publish new samples", AWS knowledge center). Here every sample passed in counts; a
 * caller that wants the delay passes only the samples it would have seen.
 */
import * as z from 'zod';

/** A CloudWatch statistic: one of the five standard ones or a percentile `p0`..`p100` (e.g. `p99`, `p99.9`). */
export type AlarmStatistic = 'SampleCount' | 'Sum' | 'Average' | 'Minimum' | 'Maximum' | `p${number}`;
/** How the statistic is compared with the threshold (the statistic is the first operand). */
export type ComparisonOperator =
  'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';
/** How missing datapoints are treated; CloudWatch's default is `missing`. */
export type TreatMissingData = 'missing' | 'ignore' | 'breaching' | 'notBreaching';
/** The three states of a metric alarm. */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** A metric alarm as PutMetricAlarm defines it, less the metric itself (the caller passes its samples). */
export interface AlarmDefinition {
  readonly name: string;
  readonly statistic: AlarmStatistic;
  /** 10, 20, 30, or a multiple of 60 (PutMetricAlarm: "Valid values are 10, 20, 30, and any multiple of 60"). */
  readonly periodSeconds: number;
  /** N: the number of most recent periods evaluated. */
  readonly evaluationPeriods: number;
  /** M (<= N): how many of the N evaluated datapoints must breach for ALARM. */
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparisonOperator: ComparisonOperator;
  readonly treatMissingData: TreatMissingData;
  /** Percentile statistics only; default 'evaluate'. */
  readonly evaluateLowSampleCountPercentile?: 'evaluate' | 'ignore';
}

/** A raw sample of the alarm's metric (one invocation's duration, one error = 1, ...). */
export interface MetricSample {
  readonly timestamp: number /* epoch ms */;
  readonly value: number;
}

/** One period's aggregated value; undefined = no data in that period. */
export interface Datapoint {
  /** Epoch ms; the period is [start, start + period). */
  readonly start: number;
  readonly value?: number;
  readonly sampleCount: number;
}

/** The outcome of one evaluation. */
export interface AlarmEvaluation {
  readonly state: AlarmState;
  /** Worded like CloudWatch's StateReason where its wording is known (see `describe` below). */
  readonly reason: string;
  /** The datapoints the decision was made on, oldest first: real ones and the missing periods that were filled. */
  readonly evaluated: readonly Datapoint[];
}

const STANDARD_STATISTICS = ['SampleCount', 'Sum', 'Average', 'Minimum', 'Maximum'] as const;

/**
 * A percentile in hundredths of a percent (`p99.9` → 9990), so that every later comparison is exact integer
 * arithmetic. At most two decimals: the EC2 user guide's statistics table describes `pNN.NN` as "any percentile,
 * using up to two decimal places (for example, p95.45)".
 */
function percentileHundredths(statistic: string): number | undefined {
  const match = /^p(\d{1,3})(?:\.(\d{1,2}))?$/.exec(statistic);
  if (!match) return undefined;
  const hundredths = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  // "Specify a value between p0.0 and p100" (PutMetricAlarm ExtendedStatistic).
  return hundredths <= 10_000 ? hundredths : undefined;
}

function isAlarmStatistic(value: unknown): value is AlarmStatistic {
  if (typeof value !== 'string') return false;
  return (STANDARD_STATISTICS as readonly string[]).includes(value) || percentileHundredths(value) !== undefined;
}

/**
 * The statistic over one period's raw samples; undefined when there is no datapoint (no samples, or a percentile
 * over negative values: "Percentile statistics are not available for metrics when any of the metric values are
 * negative numbers", GetMetricStatistics).
 *
 * Percentiles interpolate linearly between the two closest ranks (h = (n − 1)·p; Hyndman–Fan type 7, numpy's
 * default): p50 of [1, 2, 3, 4] is 2.5 and p99 of 1..1000 is 990.01. Why this rule: CloudWatch does not publish its
 * algorithm, but its definition is "p95 … means that 95 percent of the data within the period is lower than this
 * value and 5 percent of the data is higher than this value" (Statistics definitions), which type 7 satisfies
 * (990.01 has 990 of 1,000 samples below it and 10 above) while nearest-rank does not (990 has only 989 below);
 * type 7 also gives p0 = Minimum and p100 = Maximum.
 */
export function statistic(stat: AlarmStatistic, values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  switch (stat) {
    case 'SampleCount':
      return values.length;
    case 'Sum':
      return sum(values);
    case 'Average':
      return sum(values) / values.length;
    case 'Minimum':
      return values.reduce((low, value) => (value < low ? value : low), Infinity);
    case 'Maximum':
      return values.reduce((high, value) => (value > high ? value : high), -Infinity);
  }
  const hundredths = percentileHundredths(stat);
  if (hundredths === undefined) throw new RangeError(`not a CloudWatch statistic: ${stat}`);
  if (values.some((value) => value < 0)) return undefined;
  const sorted = Float64Array.from(values).sort();
  const rank = ((sorted.length - 1) * hundredths) / 10_000;
  const below = Math.floor(rank);
  const above = Math.ceil(rank);
  return sorted[below] + (rank - below) * (sorted[above] - sorted[below]);
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

/**
 * How often CloudWatch evaluates the alarm, in ms; the evaluated periods end at the last such boundary. From
 * "Alarm evaluation": "For any period of one minute or longer, an alarm is evaluated every minute … if the Period is
 * 5 minutes (300 seconds) and Evaluation Periods is 1, then at the end of minute 5 the alarm evaluates based on data
 * from minutes 1 to 5. Then at the end of minute 6, the alarm is evaluated based on the data from minutes 2 to 6."
 * "If the alarm period is 10 seconds, 20 seconds, or 30 seconds, the alarm is evaluated every 10 seconds."
 * "If the number of evaluation periods multiplied by the length of each evaluation period exceeds one day, the alarm
 * is evaluated once per hour … CloudWatch takes into account only the metrics up to the current hour at the :00".
 */
function evaluationStepMs(definition: AlarmDefinition): number {
  if (definition.periodSeconds < 60) return 10_000;
  if (definition.periodSeconds * definition.evaluationPeriods > 86_400) return 3_600_000;
  return 60_000;
}

/**
 * Aggregates samples into the `periods` complete periods that end at the alarm's last evaluation boundary at or
 * before `now`, newest last. The period still in progress is never included: CloudWatch evaluates "at the end of
 * minute 5 … data from minutes 1 to 5", i.e. only periods that are over.
 *
 * Alignment: the periods end at the evaluation boundary (the minute for periods ≥ 60 s, 10 s for high-resolution
 * alarms, the hour for multi-day alarms) and step back by the period from there, as the sliding window quoted at
 * `evaluationStepMs` describes. For 10 s and 60 s periods that is the same as aligning to the epoch; a 300 s period
 * evaluated at 10:07 covers 10:02–10:07, not 10:00–10:05. Non-finite samples are dropped (CloudWatch refuses NaN
 * and ±Infinity at PutMetricData).
 */
export function datapoints(
  definition: AlarmDefinition,
  samples: readonly MetricSample[],
  now: number,
  periods: number,
): Datapoint[] {
  const step = evaluationStepMs(definition);
  const period = definition.periodSeconds * 1000;
  const end = Math.floor(now / step) * step;
  const first = end - periods * period;
  const buckets: number[][] = Array.from({ length: periods }, () => []);
  for (const sample of samples) {
    const { timestamp, value } = sample;
    if (!(timestamp >= first && timestamp < end) || !Number.isFinite(value)) continue;
    buckets[Math.floor((timestamp - first) / period)].push(value);
  }
  return buckets.map((values, index) => {
    const start = first + index * period;
    const value = statistic(definition.statistic, values);
    return value === undefined ? { start, sampleCount: values.length } : { start, value, sampleCount: values.length };
  });
}

/**
 * How many periods CloudWatch looks at: more than N, so that real datapoints further back can stand in for missing
 * recent ones. "CloudWatch attempts to retrieve a higher number of data points than the number specified as
 * Evaluation Periods. The exact number … depends on the length of the alarm period and whether it is based on a
 * metric with standard resolution or high resolution. The time frame … is the evaluation range." The rule is not
 * published (awsdocs/amazon-cloudwatch-user-guide#102 asked for it and was closed unanswered); the only worked
 * examples have N = 3 and a range of 5, so this takes N + 2 for every alarm.
 */
function evaluationRange(definition: AlarmDefinition): number {
  return definition.evaluationPeriods + 2;
}

function breaches(definition: AlarmDefinition, value: number): boolean {
  switch (definition.comparisonOperator) {
    case 'GreaterThanThreshold':
      return value > definition.threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= definition.threshold;
    case 'LessThanThreshold':
      return value < definition.threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= definition.threshold;
  }
}

/**
 * Whether a percentile datapoint has too few samples to be trusted. "For percentiles between 0.5 (inclusive) and
 * 1.00 (exclusive), this setting is used when there are fewer than 10/(1-percentile) data points during the
 * evaluation period … For percentiles between 0 and 0.5 (exclusive), the setting is used when there are fewer than
 * 10/percentile data points." Compared as integers (count·(1 − p) < 10) so that p90 needs exactly 100 samples, not
 * 100.00000000000003. p0 and p100 are outside both ranges (10/0), so they are never low.
 */
function lowSampleCount(hundredths: number, sampleCount: number): boolean {
  if (hundredths <= 0 || hundredths >= 10_000) return false;
  const share = hundredths >= 5_000 ? 10_000 - hundredths : hundredths;
  return sampleCount * share < 100_000;
}

function minimumSamples(hundredths: number): number {
  const share = hundredths >= 5_000 ? 10_000 - hundredths : hundredths;
  return Math.round((100_000 / share) * 100) / 100;
}

/**
 * One evaluation, as CloudWatch runs it every minute (every 10 s for high-resolution periods, every hour for alarms
 * spanning more than a day): the new state given the previous one. `definition` must have passed
 * `alarmDefinitionSchema`.
 *
 * The rules, from "How alarm state is evaluated when data is missing":
 * 1. "If no data points in the evaluation range are missing, CloudWatch evaluates the alarm based on the most recent
 *    data points collected. The number of data points evaluated is equal to the Evaluation Periods".
 * 2. "If some data points in the evaluation range are missing, but the total number of existing data points … is
 *    equal to or more than the alarm's Evaluation Periods, CloudWatch evaluates the alarm state based on the most
 *    recent real data points … In this case, the value you set for how to treat missing data is not needed".
 * 3. Otherwise "CloudWatch fills in the missing data points with the result you specified for how to treat missing
 *    data … all real data points in the evaluation range are included in the evaluation. CloudWatch uses missing data
 *    points only as few times as possible": N − (real datapoints) periods are filled, the most recent missing ones.
 * Then ALARM when at least M evaluated datapoints breach; "If fewer than the value of Datapoints to Alarm are
 * breaching, the alarm state is set to OK" (the 2019 edition of the page), hence the asymmetry CloudWatch's
 * reasons show: N − M + 1 good datapoints suffice for ALARM -> OK.
 * `shownAt` maps a period's start to the instant its reason shows (identity but in local mode, whose evaluator
 * reasons on a timeline stretched by its time scale while its reasons name real times).
 */
export function evaluateAlarm(
  definition: AlarmDefinition,
  samples: readonly MetricSample[],
  now: number,
  previous: AlarmState,
  shownAt: (periodStart: number) => number = (at) => at,
): AlarmEvaluation {
  const n = definition.evaluationPeriods;
  const m = definition.datapointsToAlarm;
  const range = datapoints(definition, samples, now, evaluationRange(definition));
  const real = range.filter((point) => point.value !== undefined);
  const fill = Math.max(0, n - real.length);
  const filled = fill === 0 ? [] : range.filter((point) => point.value === undefined).slice(-fill);
  const evaluated = fill === 0 ? real.slice(-n) : [...real, ...filled].sort((a, b) => a.start - b.start);
  const used = evaluated.filter((point) => point.value !== undefined);
  const context: Context = { definition, evaluated, used, fill, range, shownAt };

  const hundredths = percentileHundredths(definition.statistic);
  if (hundredths !== undefined && definition.evaluateLowSampleCountPercentile === 'ignore') {
    // "If ignore, the alarm state does not change during periods with too few data points to be statistically
    // significant" (PutMetricAlarm). Any evaluated datapoint that is too thin holds the state.
    const thin = used.filter((point) => lowSampleCount(hundredths, point.sampleCount));
    if (thin.length > 0) {
      return {
        state: previous,
        reason:
          `Low sample count: ${count(thin.length, 'evaluated datapoint')} had fewer than ` +
          `${minimumSamples(hundredths)} samples for ${definition.statistic} and evaluateLowSampleCountPercentile ` +
          `is ignore, so the alarm keeps its state (${previous}).`,
        evaluated,
      };
    }
  }

  const breaching = used.filter((point) => breaches(definition, point.value as number));
  const good = used.length - breaching.length;
  if (fill === 0) return decide(context, breaching.length >= m ? 'ALARM' : 'OK', 'real');

  switch (definition.treatMissingData) {
    case 'breaching':
      // "breaching – Missing data points are treated as "bad" and breaching the threshold".
      return decide(context, breaching.length + fill >= m ? 'ALARM' : 'OK', 'Breaching');
    case 'notBreaching':
      // "notBreaching – Missing data points are treated as "good" and within the threshold".
      return decide(context, breaching.length >= m ? 'ALARM' : 'OK', 'NonBreaching');
    case 'missing':
    case 'ignore': {
      // Both tables give OK for missing and ignore whenever a real non-breaching point is in the range (`0 - - - -`,
      // `- - - - 0`, and `0 - X - -` at 2 out of 3), and the real breaching points alone decide ALARM.
      const label = definition.treatMissingData === 'missing' ? 'Missing' : 'Ignore';
      if (breaching.length >= m) return decide(context, 'ALARM', label);
      if (good > 0) return decide(context, 'OK', label);
      if (definition.treatMissingData === 'ignore') {
        // "ignore – The current alarm state is maintained"; the tables: `- - - - -`, `- - X - -` (3 of 3),
        // `- - - X -` (2 of 3) all "Retain current state".
        return {
          state: previous,
          reason:
            `Missing data ignored: ${received(used.length, n)} and treatMissingData is ignore, ` +
            `so the alarm keeps its state (${previous}).`,
          evaluated,
        };
      }
      // "Avoiding premature transitions to alarm state": "alarms are designed to always go into ALARM state when the
      // oldest available breaching datapoint during the Evaluation Periods number of data points is at least as old
      // as the value of Datapoints to Alarm, and all other more recent data points are breaching or missing", while
      // "the alarm does not go immediately into ALARM state when the data is either - - - - X or - - - X - and
      // Datapoints to Alarm is 3". The age is counted within the evaluation range (the 2019 table's `X - - - -`,
      // 5 periods old, is ALARM with N = 3), and only when no real point is good (`0 - X - -` at 2 of 3 is OK).
      const oldest = breaching[0];
      if (oldest !== undefined && age(range, oldest) >= m) return decide(context, 'ALARM', label, age(range, oldest));
      // "missing – If all data points in the alarm evaluation range are missing, the alarm transitions to
      // INSUFFICIENT_DATA"; the 2019 tables also give INSUFFICIENT_DATA for a too-recent lone breach (`- - - - X`).
      return {
        state: 'INSUFFICIENT_DATA',
        reason: `Insufficient Data: ${count(fill, 'datapoint')} ${fill === 1 ? 'was' : 'were'} unknown.`,
        evaluated,
      };
    }
  }
}

interface Context {
  readonly definition: AlarmDefinition;
  readonly evaluated: readonly Datapoint[];
  readonly used: readonly Datapoint[];
  readonly fill: number;
  readonly range: readonly Datapoint[];
  /** The instant a period's start is shown as in a reason (local mode evaluates on a stretched timeline). */
  readonly shownAt: (periodStart: number) => number;
}

/** How many periods old a datapoint is: the newest complete period is 1. */
function age(range: readonly Datapoint[], point: Datapoint): number {
  return range.length - range.indexOf(point);
}

/**
 * The result with a StateReason. The wording copies reasons CloudWatch has sent (seen in SNS/EventBridge payloads,
 * not documented): "Threshold Crossed: 1 out of the last 2 datapoints [0.0 (02/06/23 12:28:00)] was not greater than
 * or equal to the threshold (1.0) (minimum 1 datapoint for ALARM -> OK transition).", "… and 19 missing datapoints
 * were treated as [NonBreaching] (minimum 1 datapoint for OK -> ALARM transition).", "no datapoints were received for
 * 2 periods and 2 missing datapoints were treated as [Breaching].", "1 datapoint was received for 3 periods and 2
 * missing datapoints were treated as [Breaching].", "Insufficient Data: 5 datapoints were unknown." The [Missing] and
 * [Ignore] labels and the premature-alarm sentence are this module's own.
 */
function decide(
  context: Context,
  state: 'OK' | 'ALARM',
  treatment: 'real' | 'Breaching' | 'NonBreaching' | 'Missing' | 'Ignore',
  prematureAge?: number,
): AlarmEvaluation {
  const { definition, evaluated, used, fill } = context;
  const n = definition.evaluationPeriods;
  const m = definition.datapointsToAlarm;
  const listed = used.filter((point) => breaches(definition, point.value as number) === (state === 'ALARM')).reverse(); // newest first, as CloudWatch lists them
  const missingClause =
    treatment === 'real' ? '' : ` and ${count(fill, 'missing datapoint')} ${were(fill)} treated as [${treatment}]`;
  let reason: string;
  if (listed.length === 0) {
    reason = `Threshold Crossed: ${received(used.length, n)} and ${count(fill, 'missing datapoint')} ${were(fill)} treated as [${treatment}].`;
  } else {
    const points = listed
      .map((point) => `${javaDouble(point.value as number)} (${timestamp(context.shownAt(point.start))})`)
      .join(', ');
    const comparison = `${state === 'OK' ? 'not ' : ''}${OPERATOR_WORDS[definition.comparisonOperator]}`;
    const minimum =
      state === 'ALARM'
        ? `minimum ${count(m, 'datapoint')} for OK -> ALARM transition`
        : `minimum ${count(n - m + 1, 'datapoint')} for ALARM -> OK transition`;
    const premature =
      prematureAge === undefined
        ? ''
        : `; the oldest breaching datapoint is ${prematureAge} periods old and no later datapoint is good`;
    reason =
      `Threshold Crossed: ${listed.length} out of the last ${n} datapoints [${points}] ${listed.length === 1 ? 'was' : 'were'} ` +
      `${comparison} the threshold (${javaDouble(definition.threshold)})${missingClause}${premature} (${minimum}).`;
  }
  return { state, reason, evaluated };
}

const OPERATOR_WORDS: Record<ComparisonOperator, string> = {
  GreaterThanThreshold: 'greater than',
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

function count(amount: number, noun: string): string {
  return `${amount} ${noun}${amount === 1 ? '' : 's'}`;
}

function were(amount: number): string {
  return amount === 1 ? 'was' : 'were';
}

function received(real: number, periods: number): string {
  return real === 0
    ? `no datapoints were received for ${count(periods, 'period')}`
    : `${count(real, 'datapoint')} ${were(real)} received for ${count(periods, 'period')}`;
}

/** A number as Java's Double.toString writes it, which is how CloudWatch's reasons show values (5.0, 0.25, 1.0E7). */
function javaDouble(value: number): string {
  const magnitude = Math.abs(value);
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  if (magnitude >= 1e-3 && magnitude < 1e7) return Number.isInteger(value) ? value.toFixed(1) : String(value);
  const [mantissa, exponent] = value.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

/** A period's start as CloudWatch's reasons show it: dd/MM/yy HH:mm:ss, UTC. */
function timestamp(epochMs: number): string {
  const iso = new Date(epochMs).toISOString(); // yyyy-MM-ddTHH:mm:ss.sssZ
  return `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(2, 4)} ${iso.slice(11, 19)}`;
}

const MAX_TOTAL_SECONDS = 604_800;
const MAX_SHORT_PERIOD_TOTAL_SECONDS = 86_400;

/**
 * Validation of a definition, with the limits of PutMetricAlarm: "Valid values are 10, 20, 30, and any multiple of
 * 60" for the period; "Period multiplied by EvaluationPeriods can't be more than 604,800 seconds. For alarms with a
 * period of less than one hour (3,600 seconds), the total evaluation period can't be longer than one day (86,400
 * seconds)"; DatapointsToAlarm is M of N, so at most EvaluationPeriods; AlarmName is 1–255 characters without
 * ASCII control characters; percentiles run from p0 to p100.
 */
export const alarmDefinitionSchema = z
  .object({
    name: z
      .string()
      .min(1, 'name must not be empty')
      .max(255, 'name is at most 255 characters')
      .refine(
        (name) => ![...name].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f),
        'name must not contain ASCII control characters',
      ),
    statistic: z.custom<AlarmStatistic>(isAlarmStatistic, {
      error: (issue) =>
        `statistic must be SampleCount, Sum, Average, Minimum, Maximum or a percentile from p0 to p100 with at most ` +
        `two decimals (got ${JSON.stringify(issue.input)})`,
    }),
    periodSeconds: z
      .number()
      .int('periodSeconds must be a whole number of seconds')
      .refine((seconds) => seconds === 10 || seconds === 20 || seconds === 30 || (seconds > 0 && seconds % 60 === 0), {
        error: (issue) => `periodSeconds must be 10, 20, 30 or a multiple of 60 (got ${String(issue.input)})`,
      }),
    evaluationPeriods: z
      .number()
      .int('evaluationPeriods must be a whole number')
      .min(1, 'evaluationPeriods is at least 1'),
    datapointsToAlarm: z
      .number()
      .int('datapointsToAlarm must be a whole number')
      .min(1, 'datapointsToAlarm is at least 1'),
    threshold: z.number().refine(Number.isFinite, 'threshold must be a finite number'),
    comparisonOperator: z.enum([
      'GreaterThanThreshold',
      'GreaterThanOrEqualToThreshold',
      'LessThanThreshold',
      'LessThanOrEqualToThreshold',
    ]),
    treatMissingData: z.enum(['missing', 'ignore', 'breaching', 'notBreaching']),
    evaluateLowSampleCountPercentile: z.enum(['evaluate', 'ignore']).optional(),
  })
  .superRefine((definition, context) => {
    if (definition.datapointsToAlarm > definition.evaluationPeriods) {
      context.addIssue({
        code: 'custom',
        path: ['datapointsToAlarm'],
        message:
          `datapointsToAlarm (${definition.datapointsToAlarm}) must not exceed evaluationPeriods ` +
          `(${definition.evaluationPeriods}): it is M out of N`,
      });
    }
    const total = definition.periodSeconds * definition.evaluationPeriods;
    if (total > MAX_TOTAL_SECONDS) {
      context.addIssue({
        code: 'custom',
        path: ['evaluationPeriods'],
        message: `periodSeconds × evaluationPeriods is ${total} s: at most ${MAX_TOTAL_SECONDS} s (7 days)`,
      });
    } else if (definition.periodSeconds < 3600 && total > MAX_SHORT_PERIOD_TOTAL_SECONDS) {
      context.addIssue({
        code: 'custom',
        path: ['evaluationPeriods'],
        message:
          `periodSeconds × evaluationPeriods is ${total} s: with a period under an hour at most ` +
          `${MAX_SHORT_PERIOD_TOTAL_SECONDS} s (1 day)`,
      });
    }
  }) satisfies z.ZodType<AlarmDefinition, unknown>;
