/**
 * The deployment's eyes on its alarms: their states through CloudWatch's DescribeAlarms. The same adapter serves
 * AWS and local mode, whose endpoint answers DescribeAlarms from its own alarms (local/alarms.ts).
 *
 * DescribeAlarms answers only the alarms that exist and says nothing of the others, so a misspelt name, or an
 * alarm deleted with its stack, would read as "not firing". A deployment must not run blind: a name CloudWatch
 * does not know is an error that names it.
 */
import {
  DescribeAlarmsCommand,
  type CloudWatchClient,
  type CompositeAlarm,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import type { AlarmReader } from '../../core/deployment/protocol';
import { UnknownAlarmsError } from '../../core/deployment/errors';
import type { AlarmSeen } from '../../core/records';

/** DescribeAlarms takes at most 100 alarm names, and answers at most 100 alarms a page. */
const NAMES_PER_CALL = 100;

export class CloudWatchAlarmReader implements AlarmReader {
  constructor(private readonly cloudwatch: CloudWatchClient) {}

  /** The alarms' states, in the order asked; any name CloudWatch does not know fails the whole read. */
  async states(names: readonly string[]): Promise<AlarmSeen[]> {
    const wanted = [...new Set(names)];
    const found = new Map<string, AlarmSeen>();
    for (let first = 0; first < wanted.length; first += NAMES_PER_CALL) {
      const batch = wanted.slice(first, first + NAMES_PER_CALL);
      let NextToken: string | undefined;
      do {
        const page = await this.cloudwatch.send(
          new DescribeAlarmsCommand({
            AlarmNames: batch,
            // Without AlarmTypes only metric alarms are answered; a user's extra alarm may be a composite one.
            AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
            MaxRecords: NAMES_PER_CALL,
            NextToken,
          }),
        );
        for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
          if (alarm.AlarmName) found.set(alarm.AlarmName, seen(alarm));
        }
        NextToken = page.NextToken;
      } while (NextToken);
    }
    const missing = wanted.filter((name) => !found.has(name));
    if (missing.length) throw new UnknownAlarmsError(missing);
    return names.map((name) => found.get(name)!);
  }
}

function seen(alarm: MetricAlarm | CompositeAlarm): AlarmSeen {
  const value = newestDatapoint(alarm.StateReasonData);
  return {
    name: alarm.AlarmName!,
    state: alarm.StateValue as AlarmSeen['state'],
    ...(alarm.StateReason ? { reason: alarm.StateReason } : {}),
    ...(value !== undefined ? { value } : {}),
    // CloudWatch stamps every alarm it answers: its state was set at some point, if only at creation.
    at: alarm.StateUpdatedTimestamp!.toISOString(),
  };
}

/**
 * The newest datapoint behind the state, from StateReasonData (`{"version":"1.0", …, "recentDatapoints":[…]}`,
 * oldest first): what a hotfix is judged on. Composite alarms and states set by hand carry none.
 */
function newestDatapoint(reasonData: string | undefined): number | undefined {
  if (!reasonData) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(reasonData);
  } catch {
    return undefined;
  }
  const recent = (parsed as { recentDatapoints?: unknown } | null)?.recentDatapoints;
  const newest = Array.isArray(recent) ? recent.at(-1) : undefined;
  return typeof newest === 'number' ? newest : undefined;
}
