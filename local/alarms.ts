/**
 * Local mode's CloudWatch metric alarms: the deployment's alarms (core/alarms/deployment-alarms.ts) evaluated on the local
 * Lambda runtime's metrics with core/alarms/evaluator.ts, so that a canary that errors locally is rolled back as it
 * would be on AWS. A state change is announced as CloudWatch announces it to EventBridge, and the states are read
 * through CloudWatch's own DescribeAlarms (`describeAlarmsOperation`, local/describe-alarms.ts), so the deploy handler's AlarmReader runs
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
import { alarmDefinitionSchema, evaluateAlarm, type AlarmState } from '../core/alarms/evaluator';
import type { DeploymentAlarm } from '../core/alarms/deployment-alarms';
import { UnknownAlarmsError } from '../core/deployment/errors';
import type { AlarmSeen } from '../core/records';
import { parseInput } from '../core/schemas';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './constants';
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
    readonly configuration: MetricAlarmConfiguration | CompositeAlarmConfiguration;
  };
}

/** A single-metric alarm's configuration in its event. */
export interface MetricAlarmConfiguration {
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
}

/** A composite alarm's configuration in its event: its rule ("Alarm events and EventBridge", Composite Alarm). */
export interface CompositeAlarmConfiguration {
  readonly alarmRule: string;
}

/** A composite alarm as stepline makes them (core/alarms/deployment-alarms.ts extraAlarmsComposite). */
export interface CompositeAlarmDefinition {
  readonly name: string;
  /** The alarms its rule names, each as `ALARM("<child>")`, joined by OR: in ALARM while any child is. */
  readonly children: readonly string[];
  readonly rule: string;
}

interface CompositeRecord {
  composite: CompositeAlarmDefinition;
  readonly arn: string;
  state: StateRecord;
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
  private readonly composites = new Map<string, CompositeRecord>();
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
   * Creates or updates a composite alarm, as PutCompositeAlarm does: a new one is set to INSUFFICIENT_DATA, "then
   * evaluated and its state is set appropriately"; an update keeps its state until its next evaluation. It is
   * evaluated again whenever one of its children changes state. A child local mode does not have (a user's own
   * alarm) is never in ALARM.
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html
   */
  defineComposite(composite: CompositeAlarmDefinition): AlarmStateChangeEvent[] {
    const existing = this.composites.get(composite.name);
    if (existing) existing.composite = composite;
    else
      this.composites.set(composite.name, {
        composite,
        arn: `arn:aws:cloudwatch:${this.region}:${this.account}:alarm:${composite.name}`,
        state: { value: 'INSUFFICIENT_DATA', reason: INITIAL_REASON, at: this.now() },
      });
    const changes = this.evaluateComposites([]);
    for (const event of changes) this.onStateChange(event);
    return changes;
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
    changes.push(...this.evaluateComposites(changes));
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
    for (const change of [event, ...this.evaluateComposites([event])]) this.onStateChange(change);
    return event;
  }

  /** The alarms' current states (metric or composite), in the order asked; unknown names fail the whole call. */
  states(names: readonly string[]): AlarmSeen[] {
    const missing = names.filter((name) => !this.alarms.has(name) && !this.composites.has(name));
    if (missing.length) throw new UnknownAlarmsError([...new Set(missing)]);
    return names.map((name) => {
      const { value, reason, newest, at } = (this.alarms.get(name) ?? this.composites.get(name)!).state;
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

  /** Every composite alarm, in name order. */
  compositeDescriptions(): {
    readonly composite: CompositeAlarmDefinition;
    readonly arn: string;
    readonly state: StateRecord;
  }[] {
    return [...this.composites.values()].sort((a, b) => (a.composite.name < b.composite.name ? -1 : 1));
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

  /**
   * Each composite whose state its children now give differently: in ALARM while any child is, OK otherwise.
   * Its reason and reason data name the child whose change moved it, in CloudWatch's words ("<child ARN>
   * transitioned to ALARM at …", `triggeringAlarms`; "Alarm events and EventBridge", Composite Alarm,
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html).
   */
  private evaluateComposites(changed: readonly AlarmStateChangeEvent[]): AlarmStateChangeEvent[] {
    const events: AlarmStateChangeEvent[] = [];
    for (const record of this.composites.values()) {
      const children = record.composite.children.flatMap((name) => {
        const child = this.alarms.get(name) ?? this.composites.get(name);
        return child ? [{ arn: child.arn, state: child.state }] : [];
      });
      const value: AlarmState = children.some((child) => child.state.value === 'ALARM') ? 'ALARM' : 'OK';
      if (value === record.state.value) continue;
      const trigger =
        children.find((child) => changed.some((event) => event.resources[0] === child.arn)) ??
        children.find((child) => child.state.value === value);
      const at = this.now();
      const previous = record.state;
      record.state = {
        value,
        reason: trigger
          ? `${trigger.arn} transitioned to ${trigger.state.value} at ${reasonTime(trigger.state.at)}`
          : `no child alarm is in ALARM (${record.composite.rule})`,
        ...(trigger
          ? {
              reasonData: JSON.stringify({
                triggeringAlarms: [
                  {
                    arn: trigger.arn,
                    state: { value: trigger.state.value, timestamp: cloudWatchTimestamp(trigger.state.at) },
                  },
                ],
              }),
            }
          : {}),
        at,
      };
      events.push(
        this.stateChangeEvent(record.arn, record.composite.name, record.state, previous, {
          alarmRule: record.composite.rule,
        }),
      );
    }
    return events;
  }

  private transition(record: AlarmRecord, next: StateRecord): AlarmStateChangeEvent {
    const previous = record.state;
    record.state = next;
    const { metric, definition } = record.alarm;
    return this.stateChangeEvent(record.arn, record.alarm.name, next, previous, {
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
    });
  }

  private stateChangeEvent(
    arn: string,
    alarmName: string,
    next: StateRecord,
    previous: StateRecord,
    configuration: MetricAlarmConfiguration | CompositeAlarmConfiguration,
  ): AlarmStateChangeEvent {
    return busEvent({
      source: 'aws.cloudwatch',
      detailType: 'CloudWatch Alarm State Change',
      account: this.account,
      region: this.region,
      time: next.at,
      resources: [arn],
      detail: { alarmName, state: stateDetail(next), previousState: stateDetail(previous), configuration },
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

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** A time as a composite alarm's reason writes it: `Friday 04 August, 2023 12:54:46 UTC`. */
function reasonTime(at: Date): string {
  const day = String(at.getUTCDate()).padStart(2, '0');
  const time = at.toISOString().slice(11, 19);
  return `${DAYS[at.getUTCDay()]} ${day} ${MONTHS[at.getUTCMonth()]}, ${at.getUTCFullYear()} ${time} UTC`;
}

/** A time as CloudWatch writes it in events and reason data: `2019-10-02T17:04:40.989+0000`. */
function cloudWatchTimestamp(at: Date): string {
  return at.toISOString().replace(/Z$/, '+0000');
}
