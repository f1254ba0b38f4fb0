/**
 * CloudWatch's DescribeAlarms over local mode's alarms (local/alarms.ts), metric and composite, for the local
 * endpoint: the deploy handler's CloudWatchAlarmReader reads the states through it, unchanged.
 */
import * as z from 'zod';
import { alarmConfiguration } from '../core/alarms/deployment-alarms';
import type { AlarmDescription, LocalAlarms } from './alarms';
import { operation, type Operation } from './aws-endpoint';
import { serviceError } from './aws-errors';

/** The X-Amz-Target of DescribeAlarms: the CloudWatch SDK speaks JSON 1.0 to service GraniteServiceVersion20100801. */
export const DESCRIBE_ALARMS_TARGET = 'GraniteServiceVersion20100801.DescribeAlarms';

const alarmName = z.string().min(1).max(255);
/**
 * DescribeAlarms' parameters that local mode serves. Strict: ActionPrefix, ChildOfAlarmName and ParentsOfAlarmName
 * (actions and the composite alarms' relations, which nothing in stepline asks) are refused, not silently ignored.
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
 * decides what that means), metric alarms are answered unless AlarmTypes leaves them out, composite alarms only
 * when AlarmTypes names them, and a page ends with a NextToken when more alarms match.
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
    const types = request.AlarmTypes ?? ['MetricAlarm'];
    const all = [
      ...(types.includes('MetricAlarm')
        ? alarms.descriptions().map((d) => ({ name: d.alarm.name, state: d.state, metric: metricAlarm(d) }))
        : []),
      ...(types.includes('CompositeAlarm')
        ? alarms
            .compositeDescriptions()
            .map((d) => ({ name: d.composite.name, state: d.state.value, composite: compositeAlarm(d) }))
        : []),
    ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const matching = all.filter(
      ({ name, state }) =>
        (request.AlarmNames?.includes(name) ?? true) &&
        name.startsWith(request.AlarmNamePrefix ?? '') &&
        (request.StateValue === undefined || state === request.StateValue) &&
        (after === undefined || name > after),
    );
    const page = matching.slice(0, request.MaxRecords ?? DEFAULT_MAX_RECORDS);
    const last = page.at(-1)?.name;
    return {
      MetricAlarms: page.flatMap((alarm) => ('metric' in alarm ? [alarm.metric] : [])),
      CompositeAlarms: page.flatMap((alarm) => ('composite' in alarm ? [alarm.composite] : [])),
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

function compositeAlarm({ composite, arn, state }: ReturnType<LocalAlarms['compositeDescriptions']>[number]) {
  return {
    AlarmName: composite.name,
    AlarmArn: arn,
    AlarmRule: composite.rule,
    ActionsEnabled: false,
    StateValue: state.value,
    StateReason: state.reason,
    StateReasonData: state.reasonData,
    StateUpdatedTimestamp: state.at,
    StateTransitionedTimestamp: state.at,
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
