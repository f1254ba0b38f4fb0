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
    kind: string,
    metricName: DeploymentAlarm['metric']['metricName'],
    statistic: AlarmDefinition['statistic'],
    threshold: number,
  ): DeploymentAlarm => {
    const name = `${RESOURCE_PREFIX}${pipeline}-${kind}`;
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
 * The rule that rolls a deployment back the moment one of its alarms goes into ALARM: the same on AWS
 * (a rule on the default bus, target the deploy function) and locally (the local default bus).
 */
export function alarmRuleTrigger(pipeline: string, deploy: DeployConfig): SourceTrigger {
  return {
    pattern: {
      source: ['aws.cloudwatch'],
      'detail-type': [ALARM_STATE_CHANGE_DETAIL_TYPE],
      detail: { alarmName: watchedAlarms(pipeline, deploy), state: { value: ['ALARM'] } },
    },
    input: {
      kind: 'alarm',
      pipeline,
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
