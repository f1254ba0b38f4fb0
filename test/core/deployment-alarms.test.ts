/**
 * The alarms' names and the one alarm rule: which pipeline an alarm belongs to, read from its name alone
 * without guessing (pipeline names may contain `-`), and the rule's pattern, matched by core's matcher (the
 * one local mode routes with) against CloudWatch's events.
 */
import {
  ALARM_NAME_SUFFIXES,
  alarmOwner,
  deploymentAlarmTrigger,
  deploymentAlarms,
  extraAlarmsComposite,
  isPipelineAlarm,
} from '../../core/alarms/deployment-alarms';
import { deploySchema } from '../../core/deployment/config';
import { matchesPattern } from '../../core/sources/event-pattern';
import { applyInputTemplate } from '../../core/sources/triggers';

const deploy = deploySchema.parse({ function: 'f', alarms: { errors: 1, throttles: 1, p99DurationMs: 900 } });
const withExtras = deploySchema.parse({ function: 'f', extraAlarms: ['5xx', 'latency p99'] });

describe('alarmOwner', () => {
  test('no suffix ends with "-" and another suffix: a name ends with at most one of them', () => {
    for (const suffix of ALARM_NAME_SUFFIXES) {
      for (const other of ALARM_NAME_SUFFIXES.filter((candidate) => candidate !== suffix)) {
        expect(suffix.endsWith(`-${other}`)).toBe(false);
      }
    }
  });

  test.each(['web', 'web-errors', 'a-b-c', 'orders-p99', 'x-extra', 'p99-duration'])(
    'finds pipeline %s from every alarm stepline names for it',
    (pipeline) => {
      const names = [
        ...deploymentAlarms(pipeline, deploy).map((alarm) => alarm.name),
        extraAlarmsComposite(pipeline, withExtras)!.name,
      ];
      expect(names).toHaveLength(4);
      for (const name of names) expect(alarmOwner(name)?.pipeline).toBe(pipeline);
    },
  );

  test('two pipelines never share an alarm name, whatever their names', () => {
    const pipelines = ['web', 'web-errors', 'web-p99', 'web-extra', 'errors', 'web-throttles'];
    const names = pipelines.flatMap((pipeline) => [
      ...deploymentAlarms(pipeline, deploy).map((alarm) => alarm.name),
      extraAlarmsComposite(pipeline, withExtras)!.name,
    ]);
    expect(new Set(names).size).toBe(names.length);
  });

  test.each([
    ['stepline-web-errors', { pipeline: 'web', suffix: 'errors' }],
    ['stepline-web-errors-errors', { pipeline: 'web-errors', suffix: 'errors' }],
    ['stepline-web-p99-duration', { pipeline: 'web', suffix: 'p99-duration' }],
    ['stepline-web-extra-alarms', { pipeline: 'web', suffix: 'extra-alarms' }],
    ['stepline-web-latency', undefined],
    ['stepline--errors', undefined],
    ['stepline-errors', undefined],
    ['web-errors', undefined],
    ['Stepline-web-errors', undefined],
  ])('%s → %j', (name, owner) => {
    expect(alarmOwner(name)).toEqual(owner);
  });

  test("isPipelineAlarm: the pipeline's own alarms and its composite, nothing else", () => {
    expect(isPipelineAlarm('stepline-web-errors', 'web', deploy)).toBe(true);
    expect(isPipelineAlarm('stepline-web-p99-duration', 'web', deploy)).toBe(true);
    expect(isPipelineAlarm('stepline-web-p99-duration', 'web', withExtras)).toBe(false);
    expect(isPipelineAlarm('stepline-web-extra-alarms', 'web', withExtras)).toBe(true);
    expect(isPipelineAlarm('stepline-web-extra-alarms', 'web', deploy)).toBe(false);
    expect(isPipelineAlarm('5xx', 'web', withExtras)).toBe(false);
  });
});

describe('extraAlarmsComposite', () => {
  test('ALARM of each extra alarm, joined by OR; none without extra alarms', () => {
    expect(extraAlarmsComposite('web', withExtras)).toEqual({
      name: 'stepline-web-extra-alarms',
      children: ['5xx', 'latency p99'],
      rule: 'ALARM("5xx") OR ALARM("latency p99")',
    });
    expect(extraAlarmsComposite('web', deploy)).toBeUndefined();
  });

  test('an extra alarm whose name has a double quote is refused: it could not be quoted in the rule', () => {
    expect(() => deploySchema.parse({ function: 'f', extraAlarms: ['a"b'] })).toThrow(/double quote/);
  });
});

describe('deploymentAlarmTrigger: the one alarm rule', () => {
  const event = (alarmName: string, value = 'ALARM') => ({
    version: '0',
    id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '111122223333',
    time: '2026-11-25T10:02:00Z',
    region: 'eu-west-1',
    resources: [`arn:aws:cloudwatch:eu-west-1:111122223333:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: { value, reason: 'Threshold Crossed', timestamp: '2026-11-25T10:02:00.250+0000' },
      previousState: { value: 'OK', reason: 'fine', timestamp: '2026-11-25T10:01:00.250+0000' },
    },
  });
  const { pattern, input } = deploymentAlarmTrigger();

  test('matches every stepline alarm into ALARM, by prefix; nothing else', () => {
    expect(matchesPattern(pattern, event('stepline-web-errors'))).toBe(true);
    expect(matchesPattern(pattern, event('stepline-a-b-extra-alarms'))).toBe(true);
    expect(matchesPattern(pattern, event('stepline-web-errors', 'OK'))).toBe(false);
    expect(matchesPattern(pattern, event('web-5xx'))).toBe(false);
    expect(matchesPattern(pattern, event('my-stepline-web-errors'))).toBe(false);
    // A prefix, not a wildcard: EventBridge caps wildcard rules at 30 per bus.
    expect(JSON.stringify(pattern)).not.toContain('wildcard');
  });

  test("hands the deploy function the alarm's name and state, and no pipeline", () => {
    expect(applyInputTemplate(input, event('stepline-web-errors'))).toEqual({
      kind: 'alarm',
      alarmName: 'stepline-web-errors',
      state: 'ALARM',
      reason: 'Threshold Crossed',
      timestamp: '2026-11-25T10:02:00.250+0000',
    });
  });
});
