/**
 * The alarms that guard a pipeline's deployments, defined once: the CDK app creates them in
 * CloudWatch, local mode's alarm evaluator raises them from local metrics, and the deployment reads
 * their states. Each watches the target alias's traffic (dimension `Resource: <function>:<alias>`),
 * one-minute periods, a single breaching minute alarming: a canary is rolled back at the first bad minute.
 */
import type { AlarmDefinition } from './evaluator';
import type { DeployConfig } from '../deployment/config';
import { RESOURCE_PREFIX } from '../platform';
import type { SourceTrigger } from '../sources/triggers';

export interface DeploymentAlarm {
  readonly name: string;
  readonly metric: {
    readonly namespace: 'AWS/Lambda';
    readonly metricName: 'Errors' | 'Throttles' | 'Duration';
    readonly dimensions: Readonly<Record<string, string>>;
  };
  readonly definition: AlarmDefinition;
}

/** The deployment's own alarms (errors, throttles, and p99 duration when a threshold is set). */
export function deploymentAlarms(pipeline: string, deploy: DeployConfig): DeploymentAlarm[] {
  const dimensions = { FunctionName: deploy.function, Resource: `${deploy.function}:${deploy.alias}` };
  const alarm = (
    kind: Exclude<AlarmNameSuffix, 'extra-alarms'>,
    metricName: DeploymentAlarm['metric']['metricName'],
    statistic: AlarmDefinition['statistic'],
    threshold: number,
  ): DeploymentAlarm => {
    const name = alarmName(pipeline, kind);
    return {
      name,
      metric: { namespace: 'AWS/Lambda', metricName, dimensions },
      definition: {
        name,
        statistic,
        periodSeconds: 60,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        threshold,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        // No traffic is no evidence against the new version.
        treatMissingData: 'notBreaching',
      },
    };
  };
  return [
    alarm('errors', 'Errors', 'Sum', deploy.alarms.errors),
    alarm('throttles', 'Throttles', 'Sum', deploy.alarms.throttles),
    ...(deploy.alarms.p99DurationMs ? [alarm('p99-duration', 'Duration', 'p99', deploy.alarms.p99DurationMs)] : []),
  ];
}

/** Every alarm a deployment of the pipeline watches: its own and the user's. */
export function watchedAlarms(pipeline: string, deploy: DeployConfig): string[] {
  return [...deploymentAlarms(pipeline, deploy).map((a) => a.name), ...deploy.extraAlarms];
}

/** CloudWatch's alarm events on EventBridge. */
export const ALARM_STATE_CHANGE_DETAIL_TYPE = 'CloudWatch Alarm State Change';

/**
 * What ends the name of each alarm stepline creates for a pipeline, after `stepline-<pipeline>-`: the
 * deployment's own (deploymentAlarms) and the composite over the user's (extraAlarmsComposite). No suffix
 * ends with `-` and another suffix, so a name ends with at most one of them and the pipeline's name
 * (which may contain `-`) is what lies between the prefix and that suffix: `alarmOwner` never guesses.
 */
export const ALARM_NAME_SUFFIXES = ['errors', 'throttles', 'p99-duration', 'extra-alarms'] as const;
export type AlarmNameSuffix = (typeof ALARM_NAME_SUFFIXES)[number];

function alarmName(pipeline: string, suffix: AlarmNameSuffix): string {
  return `${RESOURCE_PREFIX}${pipeline}-${suffix}`;
}

/**
 * The pipeline an alarm named by stepline belongs to, and which of its alarms it is, from the name alone;
 * undefined for a name stepline does not give (a user's alarm that merely starts with the prefix). The
 * caller confirms with the pipeline's catalog entry (`isPipelineAlarm`) that the pipeline exists and has
 * that alarm.
 */
export function alarmOwner(name: string): { readonly pipeline: string; readonly suffix: AlarmNameSuffix } | undefined {
  if (!name.startsWith(RESOURCE_PREFIX)) return undefined;
  const rest = name.slice(RESOURCE_PREFIX.length);
  const suffix = ALARM_NAME_SUFFIXES.find((candidate) => rest.endsWith(`-${candidate}`));
  const pipeline = suffix && rest.slice(0, -(suffix.length + 1));
  return suffix && pipeline ? { pipeline, suffix } : undefined;
}

/**
 * The composite alarm that stands for a pipeline's `extraAlarms` (the user's own alarms, which carry no
 * stepline prefix and so no rule of stepline's can match by name): `stepline-<pipeline>-extra-alarms`,
 * in ALARM while any of them is. Undefined without extra alarms. CloudWatch's alarm rule syntax
 * (PutCompositeAlarm, AlarmRule: `ALARM("alarm-name")`, names "can be surrounded with double-quotes")
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html
 */
export function extraAlarmsComposite(
  pipeline: string,
  deploy: DeployConfig,
): { readonly name: string; readonly children: readonly string[]; readonly rule: string } | undefined {
  if (deploy.extraAlarms.length === 0) return undefined;
  return {
    name: alarmName(pipeline, 'extra-alarms'),
    children: deploy.extraAlarms,
    rule: deploy.extraAlarms.map((child) => `ALARM("${child}")`).join(' OR '),
  };
}

/** Whether `name` is one of the alarms stepline made for the pipeline's deployments (its own, or the composite). */
export function isPipelineAlarm(name: string, pipeline: string, deploy: DeployConfig): boolean {
  return (
    deploymentAlarms(pipeline, deploy).some((alarm) => alarm.name === name) ||
    extraAlarmsComposite(pipeline, deploy)?.name === name
  );
}

/**
 * The one rule that rolls a deployment back the moment one of its alarms goes into ALARM, for every
 * pipeline: every alarm whose name begins with stepline's prefix, its state change into ALARM, to the
 * deploy function, which finds the pipeline from the name (`alarmOwner`). The same on AWS (a rule on the
 * default bus) and locally (the local default bus); a rule forwarding other accounts' alarm events uses
 * it too. It names no pipeline: adding one changes no rule.
 *
 * Prefix matching, not a wildcard: EventBridge's `{ "prefix": … }` operator matches a string value's
 * beginning ("Prefix matching", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html#eb-filtering-prefix-matching),
 * while rules whose patterns contain wildcards are limited to 30 per event bus, a quota that cannot be
 * raised ("Rules containing wildcards", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html).
 * A composite alarm's state change is the same `CloudWatch Alarm State Change` event with the same
 * `detail.alarmName` and `detail.state` ("Alarm events and EventBridge", its Composite Alarm example,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html).
 */
export function deploymentAlarmTrigger(): SourceTrigger {
  return {
    pattern: {
      source: ['aws.cloudwatch'],
      'detail-type': [ALARM_STATE_CHANGE_DETAIL_TYPE],
      detail: { alarmName: [{ prefix: RESOURCE_PREFIX }], state: { value: ['ALARM'] } },
    },
    input: {
      kind: 'alarm',
      alarmName: { path: '$.detail.alarmName' },
      state: { path: '$.detail.state.value' },
      reason: { path: '$.detail.state.reason' },
      timestamp: { path: '$.detail.state.timestamp' },
    },
  };
}

/**
 * A deployment alarm's configuration as CloudWatch's API names it (PutMetricAlarm, DescribeAlarms):
 * what the CDK app creates and what local mode describes. A percentile (`p99`) is an
 * ExtendedStatistic, the other statistics a Statistic.
 */
export function alarmConfiguration({ name, metric, definition }: DeploymentAlarm) {
  const percentile = /^p\d/.test(definition.statistic);
  return {
    AlarmName: name,
    Namespace: metric.namespace,
    MetricName: metric.metricName,
    Dimensions: Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
    ...(percentile ? { ExtendedStatistic: definition.statistic } : { Statistic: definition.statistic }),
    Period: definition.periodSeconds,
    EvaluationPeriods: definition.evaluationPeriods,
    DatapointsToAlarm: definition.datapointsToAlarm,
    Threshold: definition.threshold,
    ComparisonOperator: definition.comparisonOperator,
    TreatMissingData: definition.treatMissingData,
    ...(percentile && definition.evaluateLowSampleCountPercentile
      ? { EvaluateLowSampleCountPercentile: definition.evaluateLowSampleCountPercentile }
      : {}),
  };
}
