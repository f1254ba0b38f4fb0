/**
 * Local mode's CloudWatch metric alarms: the deployment's alarms (core/alarms/deployment-alarms.ts) evaluated on the local
 * Lambda runtime's metrics with core/alarms/evaluator.ts, so that a canary that errors locally is rolled back as it
 * would be on AWS. A state change is announced as CloudWatch announces it to EventBridge, and the states are read
 * through CloudWatch's own DescribeAlarms (`describeAlarmsOperation`), so the deploy handler's AlarmReader runs
 * unchanged against local mode.
 *
 * The event is CloudWatch's "CloudWatch Alarm State Change" for a single-metric alarm, as the CloudWatch User Guide
 * shows it ("Alarm events and EventBridge", cloudwatch-and-eventbridge): `resources: [<alarm ARN>]`, `detail` with
 * `alarmName`, `state` and `previousState` (`value`, `reason`, `reasonData` when the state came from data,
 * `timestamp` as `2019-10-02T17:04:40.989+0000`) and `configuration.metrics` (one `metricStat` with `returnData`).
 *
 * Under local mode's time scale an alarm's periods, and the minute between evaluations, pass that many times
 * sooner: the evaluator reasons on the stretched timeline of local/time-scale.ts, where they last as CloudWatch
 * defines them, and every time this module reports (states, events, reason data) is real.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { alarmDefinitionSchema, evaluateAlarm, type AlarmState } from '../core/alarms/evaluator';
import { alarmConfiguration, type DeploymentAlarm } from '../core/alarms/deployment-alarms';
import { UnknownAlarmsError } from '../core/deployment/errors';
import type { AlarmSeen } from '../core/records';
import { parseInput } from '../core/schemas';
import { operation, type Operation } from './aws-endpoint';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './constants';
import { serviceError } from './aws-errors';
import { busEvent } from './event-bus';
import type { LocalMetrics } from './functions/metrics';
import { TimeScale } from './time-scale';

/** One side of a state change in CloudWatch's event: `state` or `previousState`. */
export interface AlarmStateDetail {
  readonly value: AlarmState;
  readonly reason: string;
  /** JSON, as CloudWatch sends it: the evaluation's datapoints; absent for a state not computed from data. */
  readonly reasonData?: string;
  /** `yyyy-MM-ddTHH:mm:ss.SSS+0000`. */
  readonly timestamp: string;
}

/** The EventBridge event CloudWatch sends when a single-metric alarm changes state. */
export interface AlarmStateChangeEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'CloudWatch Alarm State Change';
  readonly source: 'aws.cloudwatch';
  readonly account: string;
  /** ISO 8601 to the second: `2019-10-02T17:04:40Z`. */
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: {
    readonly alarmName: string;
    readonly state: AlarmStateDetail;
    readonly previousState: AlarmStateDetail;
    readonly configuration: {
      readonly metrics: readonly {
        readonly id: string;
        readonly metricStat: {
          readonly metric: {
            readonly namespace: string;
            readonly name: string;
            readonly dimensions: Readonly<Record<string, string>>;
          };
          readonly period: number;
          readonly stat: string;
        };
        readonly returnData: boolean;
      }[];
    };
  };
}

/** An alarm as DescribeAlarms reports it: its definition and the state it last changed to. */
export interface AlarmDescription {
  readonly alarm: DeploymentAlarm;
  readonly arn: string;
  readonly state: AlarmState;
  readonly reason: string;
  readonly reasonData?: string;
  readonly at: Date;
}

interface StateRecord {
  readonly value: AlarmState;
  readonly reason: string;
  readonly reasonData?: string;
  /** The newest real datapoint the evaluation saw: what a hotfix is judged on (AlarmSeen.value). */
  readonly newest?: number;
  readonly at: Date;
}

interface AlarmRecord {
  alarm: DeploymentAlarm;
  readonly arn: string;
  /** The id CloudWatch gives the alarm's one metric in the event's configuration. */
  readonly metricId: string;
  state: StateRecord;
}

/** The reason CloudWatch gives a new alarm's first state. */
const INITIAL_REASON = 'Unchecked: Initial alarm creation';

export class LocalAlarms {
  private readonly alarms = new Map<string, AlarmRecord>();
  private readonly metrics: LocalMetrics;
  private readonly now: () => Date;
  private readonly onStateChange: (event: AlarmStateChangeEvent) => void;
  private readonly region: string;
  private readonly account: string;
  private readonly timeScale: TimeScale;
  /** Where the stretched timeline the periods are evaluated on meets real time. */
  private readonly origin: number;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param options.now local mode's clock: evaluations and states are stamped with it and the metrics are read up
   *   to it
   * @param options.onStateChange receives every state change's event (local mode puts it on the default bus)
   * @param options.timeScale how many times sooner an alarm's periods pass @default TimeScale.REAL
   * @param options.region @default LOCAL_REGION
   * @param options.account @default LOCAL_ACCOUNT
   */
  constructor(options: {
    metrics: LocalMetrics;
    now: () => Date;
    onStateChange: (event: AlarmStateChangeEvent) => void;
    timeScale?: TimeScale;
    region?: string;
    account?: string;
  }) {
    this.metrics = options.metrics;
    this.now = options.now;
    this.onStateChange = options.onStateChange;
    this.timeScale = options.timeScale ?? TimeScale.REAL;
    this.origin = this.now().getTime();
    this.region = options.region ?? LOCAL_REGION;
    this.account = options.account ?? LOCAL_ACCOUNT;
  }

  /**
   * Creates or updates alarms, as PutMetricAlarm does: a new alarm starts in INSUFFICIENT_DATA; an existing one
   * takes the new definition and keeps its state ("When you update an existing alarm, its state is left
   * unchanged"). A definition CloudWatch would refuse is refused whole, before any alarm changes.
   */
  define(alarms: readonly DeploymentAlarm[]): void {
    const valid = alarms.map((alarm) => ({
      ...alarm,
      definition: parseInput(alarmDefinitionSchema, alarm.definition, `alarm ${alarm.name}`),
    }));
    for (const alarm of valid) {
      const existing = this.alarms.get(alarm.name);
      if (existing) {
        existing.alarm = alarm;
        continue;
      }
      this.alarms.set(alarm.name, {
        alarm,
        arn: `arn:aws:cloudwatch:${this.region}:${this.account}:alarm:${alarm.name}`,
        metricId: randomUUID(),
        state: { value: 'INSUFFICIENT_DATA', reason: INITIAL_REASON, at: this.now() },
      });
    }
  }

  /**
   * One evaluation round at `now()`, as CloudWatch runs one every minute: each alarm's new state from its metric's
   * samples. Every alarm whose state changed is announced to `onStateChange`; the events are also returned.
   */
  evaluate(): AlarmStateChangeEvent[] {
    const now = this.now();
    // The evaluator's times are on the stretched timeline; the samples are stamped in real time.
    const stretched = (at: number) => this.timeScale.stretched(at, this.origin);
    const real = (at: number) => this.timeScale.real(at, this.origin);
    const changes: AlarmStateChangeEvent[] = [];
    for (const record of this.alarms.values()) {
      const { metric, definition } = record.alarm;
      const period = definition.periodSeconds * 1000;
      // The evaluator looks at evaluationPeriods + 2 periods ending at its last evaluation boundary, which can be
      // up to one evaluation step (never longer than a period) before now: one period more covers it.
      const from = real(stretched(now.getTime()) - (definition.evaluationPeriods + 3) * period);
      const samples = this.metrics
        .samples(metric.namespace, metric.metricName, metric.dimensions, from, now.getTime())
        .map((sample) => ({ ...sample, timestamp: stretched(sample.timestamp) }));
      const evaluation = evaluateAlarm(definition, samples, stretched(now.getTime()), record.state.value, real);
      if (evaluation.state === record.state.value) continue;
      const recent = evaluation.evaluated.flatMap((point) => (point.value === undefined ? [] : [point.value]));
      const reasonData = JSON.stringify({
        version: '1.0',
        queryDate: cloudWatchTimestamp(now),
        startDate: cloudWatchTimestamp(new Date(real(evaluation.evaluated[0]!.start))),
        statistic: definition.statistic,
        period: definition.periodSeconds,
        recentDatapoints: recent,
        threshold: definition.threshold,
      });
      changes.push(
        this.transition(record, {
          value: evaluation.state,
          reason: evaluation.reason,
          reasonData,
          ...(recent.length ? { newest: recent.at(-1) } : {}),
          at: now,
        }),
      );
    }
    for (const event of changes) this.onStateChange(event);
    return changes;
  }

  /**
   * Sets an alarm's state as SetAlarmState does: a change is announced like any other, and the next evaluation
   * puts the alarm back in the state its data gives it. Answers the event, or undefined when the state was already
   * `state` (nothing changes, nothing is announced).
   */
  setState(name: string, state: AlarmState, reason: string): AlarmStateChangeEvent | undefined {
    const record = this.record(name);
    if (record.state.value === state) return undefined;
    const event = this.transition(record, { value: state, reason, at: this.now() });
    this.onStateChange(event);
    return event;
  }

  /** The alarms' current states, in the order asked; unknown names fail the whole call, naming them. */
  states(names: readonly string[]): AlarmSeen[] {
    const missing = names.filter((name) => !this.alarms.has(name));
    if (missing.length) throw new UnknownAlarmsError([...new Set(missing)]);
    return names.map((name) => {
      const { value, reason, newest, at } = this.record(name).state;
      return { name, state: value, reason, ...(newest !== undefined ? { value: newest } : {}), at: at.toISOString() };
    });
  }

  /** Every alarm, in name order. */
  descriptions(): AlarmDescription[] {
    return [...this.alarms.values()]
      .sort((a, b) => (a.alarm.name < b.alarm.name ? -1 : a.alarm.name > b.alarm.name ? 1 : 0))
      .map(({ alarm, arn, state }) => ({
        alarm,
        arn,
        state: state.value,
        reason: state.reason,
        ...(state.reasonData !== undefined ? { reasonData: state.reasonData } : {}),
        at: state.at,
      }));
  }

  /**
   * Evaluates every `intervalMs` of real time until `stop()`. The next round is scheduled only when one ends, so
   * rounds never overlap however slow `onStateChange` is, and the timer is unref'd: it never keeps the process up.
   */
  start(intervalMs: number): void {
    if (this.timer) throw new Error('the local alarms are evaluating already');
    const schedule = (): NodeJS.Timeout =>
      setTimeout(() => {
        try {
          this.evaluate();
        } finally {
          // A round that throws still leaves the next one scheduled. An onStateChange that called stop() (and
          // perhaps start()) during the round has decided which timer runs, if any.
          if (this.timer === timer) this.timer = timer = schedule();
        }
      }, intervalMs).unref();
    let timer = schedule();
    this.timer = timer;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private record(name: string): AlarmRecord {
    const record = this.alarms.get(name);
    if (!record) throw new UnknownAlarmsError([name]);
    return record;
  }

  private transition(record: AlarmRecord, next: StateRecord): AlarmStateChangeEvent {
    const previous = record.state;
    record.state = next;
    const { metric, definition } = record.alarm;
    return busEvent({
      source: 'aws.cloudwatch',
      detailType: 'CloudWatch Alarm State Change',
      account: this.account,
      region: this.region,
      time: next.at,
      resources: [record.arn],
      detail: {
        alarmName: record.alarm.name,
        state: stateDetail(next),
        previousState: stateDetail(previous),
        configuration: {
          metrics: [
            {
              id: record.metricId,
              metricStat: {
                metric: { namespace: metric.namespace, name: metric.metricName, dimensions: { ...metric.dimensions } },
                period: definition.periodSeconds,
                stat: definition.statistic,
              },
              returnData: true,
            },
          ],
        },
      },
    });
  }
}

function stateDetail(state: StateRecord): AlarmStateDetail {
  return {
    value: state.value,
    reason: state.reason,
    ...(state.reasonData !== undefined ? { reasonData: state.reasonData } : {}),
    timestamp: cloudWatchTimestamp(state.at),
  };
}

/** A time as CloudWatch writes it in events and reason data: `2019-10-02T17:04:40.989+0000`. */
function cloudWatchTimestamp(at: Date): string {
  return at.toISOString().replace(/Z$/, '+0000');
}

/** The X-Amz-Target of DescribeAlarms: the CloudWatch SDK speaks JSON 1.0 to service GraniteServiceVersion20100801. */
export const DESCRIBE_ALARMS_TARGET = 'GraniteServiceVersion20100801.DescribeAlarms';

const alarmName = z.string().min(1).max(255);
/**
 * DescribeAlarms' parameters that local mode serves. Strict: ActionPrefix, ChildOfAlarmName and ParentsOfAlarmName
 * (actions and composite alarms, which local mode does not have) are refused, not silently ignored.
 */
const describeAlarmsRequest = z.strictObject({
  AlarmNames: z.array(alarmName).max(100).optional(),
  AlarmNamePrefix: alarmName.optional(),
  AlarmTypes: z.array(z.enum(['CompositeAlarm', 'MetricAlarm'])).optional(),
  StateValue: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']).optional(),
  MaxRecords: z.number().int().min(1).max(100).optional(),
  NextToken: z.string().min(1).optional(),
});

/** CloudWatch's page size when MaxRecords is not given. */
const DEFAULT_MAX_RECORDS = 50;

/**
 * CloudWatch's DescribeAlarms over local mode's alarms, for the local endpoint's operations under
 * `DESCRIBE_ALARMS_TARGET`. As CloudWatch does, names that do not exist are left out of the answer (the reader
 * decides what that means), metric alarms are answered unless AlarmTypes leaves them out, and a page ends with a
 * NextToken when more alarms match.
 */
export function describeAlarmsOperation(alarms: LocalAlarms): Operation<z.infer<typeof describeAlarmsRequest>> {
  return operation(describeAlarmsRequest, (request) => {
    if (request.AlarmNames && request.AlarmNamePrefix !== undefined) {
      throw serviceError(
        'InvalidParameterCombinationException',
        'AlarmNames and AlarmNamePrefix cannot both be given.',
      );
    }
    const after = request.NextToken === undefined ? undefined : pageStart(request.NextToken);
    const matching = alarms
      .descriptions()
      .filter(
        (description) =>
          (request.AlarmTypes?.includes('MetricAlarm') ?? true) &&
          (request.AlarmNames?.includes(description.alarm.name) ?? true) &&
          description.alarm.name.startsWith(request.AlarmNamePrefix ?? '') &&
          (request.StateValue === undefined || description.state === request.StateValue) &&
          (after === undefined || description.alarm.name > after),
      );
    const page = matching.slice(0, request.MaxRecords ?? DEFAULT_MAX_RECORDS);
    const last = page.at(-1)?.alarm.name;
    return {
      MetricAlarms: page.map(metricAlarm),
      CompositeAlarms: [],
      NextToken: matching.length > page.length && last !== undefined ? pageToken(last) : undefined,
    };
  });
}

function metricAlarm({ alarm, arn, state, reason, reasonData, at }: AlarmDescription) {
  return {
    ...alarmConfiguration(alarm),
    AlarmArn: arn,
    ActionsEnabled: false,
    StateValue: state,
    StateReason: reason,
    StateReasonData: reasonData,
    StateUpdatedTimestamp: at,
    StateTransitionedTimestamp: at,
  };
}

/** The next page starts after the last name answered: alarms defined meanwhile neither repeat nor shift pages. */
function pageToken(lastName: string): string {
  return Buffer.from(`after:${lastName}`, 'utf8').toString('base64url');
}

function pageStart(token: string): string {
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  if (!decoded.startsWith('after:'))
    throw serviceError('InvalidNextToken', 'The service returned an invalid NextToken.');
  return decoded.slice('after:'.length);
}
