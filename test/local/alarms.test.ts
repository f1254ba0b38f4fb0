/**
 * Local mode's CloudWatch alarms: a deployment's errors alarm raised from the samples the local Lambda runtime
 * records, its state changes announced as CloudWatch's EventBridge event (put on a real local bus, shaped into the
 * deploy handler's request by a rule), its states read back by the real `@aws-sdk/client-cloudwatch` through the
 * deploy handler's CloudWatchAlarmReader, and its timer.
 */
import { CloudWatchClient, DescribeAlarmsCommand, InvalidNextToken } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { deploymentAlarms, type DeploymentAlarm } from '../../core/alarms/deployment-alarms';
import { parseConfig } from '../../core/config/stepline-config';
import { deploySchema } from '../../core/deployment/config';
import { UnknownAlarmsError } from '../../core/deployment/errors';
import { PLATFORM_FUNCTIONS, type PlatformInvocation } from '../../core/platform-functions';
import { CloudWatchAlarmReader } from '../../lambdas/adapters/alarm-reader';
import { deployRequestSchema } from '../../core/schemas';
import {
  DESCRIBE_ALARMS_TARGET,
  describeAlarmsOperation,
  LocalAlarms,
  type AlarmStateChangeEvent,
} from '../../local/alarms';
import { startLocalEndpoint, type LocalEndpoint } from '../../local/aws-endpoint';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localArnOf } from '../../local/constants';
import { LocalEventBus } from '../../local/event-bus';
import { LocalMetrics } from '../../local/functions/metrics';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ERRORS = 'stepline-web-errors';
const THROTTLES = 'stepline-web-throttles';

describe('local CloudWatch alarms', () => {
  let clock: number;
  let metrics: LocalMetrics;
  let alarms: LocalAlarms;
  let announced: AlarmStateChangeEvent[];
  /** What the pipeline's alarm rule hands the deploy handler. */
  let delivered: unknown[];
  const at = (iso: string) => (clock = Date.parse(iso));

  /** One invocation of web:live (version 2) at `iso`, recorded under the dimension sets the local runtime uses. */
  const invoke = (iso: string, failed = false) => {
    const resource = { FunctionName: 'web', Resource: 'web:live' };
    for (const dimensions of [{ FunctionName: 'web' }, resource, { ...resource, ExecutedVersion: '2' }]) {
      const put = (metricName: string, value: number) =>
        metrics.put({ namespace: 'AWS/Lambda', metricName, dimensions, value, timestamp: Date.parse(iso) });
      put('Invocations', 1);
      put('Errors', failed ? 1 : 0);
      put('Duration', 12);
    }
  };
  const state = (name: string) => alarms.states([name])[0]!.state;

  beforeEach(() => {
    at('2026-11-25T10:00:30.000Z');
    metrics = new LocalMetrics({ now: () => clock });
    announced = [];
    delivered = [];
    const bus = new LocalEventBus();
    const [pipeline] = parseConfig({
      pipelines: [
        {
          name: 'web',
          source: { type: 'codecommit', repository: 'web', branch: 'main' },
          build: { buildspec: 'buildspecs/build.yml' },
          deploy: { function: 'web' },
        },
      ],
    }).pipelines;
    const deploy = pipeline!.deploy!;
    // The alarm rule as local mode (local/platform-functions.ts) and the CDK app (lib/platform-function.ts) make
    // it: the deploy function's declared rule on the default bus, one for every pipeline.
    const alarmRule = PLATFORM_FUNCTIONS.deploy.invokedBy.find(
      (invocation) => invocation.by === 'rule' && invocation.id === 'AlarmRule',
    ) as Extract<PlatformInvocation, { by: 'rule' }>;
    expect(alarmRule.bus).toBe('default');
    bus.addRule({
      name: alarmRule.id,
      ...alarmRule.trigger(localArnOf),
      target: async (input) => delivered.push(input),
    });
    alarms = new LocalAlarms({
      metrics,
      now: () => new Date(clock),
      onStateChange: (event) => {
        announced.push(event);
        bus.put(event);
      },
    });
    alarms.define(deploymentAlarms('web', deploy));
  });
  afterEach(() => alarms.stop());

  it('goes INSUFFICIENT_DATA -> OK -> ALARM when an error lands, announcing it as CloudWatch does', () => {
    expect(alarms.states([ERRORS, THROTTLES])).toEqual([
      {
        name: ERRORS,
        state: 'INSUFFICIENT_DATA',
        reason: 'Unchecked: Initial alarm creation',
        at: '2026-11-25T10:00:30.000Z',
      },
      {
        name: THROTTLES,
        state: 'INSUFFICIENT_DATA',
        reason: 'Unchecked: Initial alarm creation',
        at: '2026-11-25T10:00:30.000Z',
      },
    ]);

    invoke('2026-11-25T10:00:35.000Z');
    invoke('2026-11-25T10:00:40.000Z');
    at('2026-11-25T10:01:05.000Z');
    const first = alarms.evaluate();
    expect(first.map((e) => [e.detail.alarmName, e.detail.previousState.value, e.detail.state.value])).toEqual([
      [ERRORS, 'INSUFFICIENT_DATA', 'OK'],
      // No throttle was ever recorded: the missing minute is "not breaching".
      [THROTTLES, 'INSUFFICIENT_DATA', 'OK'],
    ]);
    expect(first[1]!.detail.state.reason).toBe(
      'Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching].',
    );

    invoke('2026-11-25T10:01:20.000Z', true);
    invoke('2026-11-25T10:01:25.000Z');
    at('2026-11-25T10:01:50.000Z');
    expect(alarms.evaluate()).toEqual([]); // the minute with the error is not over yet
    at('2026-11-25T10:02:00.250Z');
    const fired = alarms.evaluate();

    const okReason =
      'Threshold Crossed: 1 out of the last 1 datapoints [0.0 (25/11/26 10:00:00)] was not greater than or equal to ' +
      'the threshold (1.0) (minimum 1 datapoint for ALARM -> OK transition).';
    const expected: AlarmStateChangeEvent = {
      version: '0',
      id: expect.stringMatching(UUID),
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      account: '000000000000',
      time: '2026-11-25T10:02:00Z',
      region: 'local',
      resources: [`arn:aws:cloudwatch:local:000000000000:alarm:${ERRORS}`],
      detail: {
        alarmName: ERRORS,
        state: {
          value: 'ALARM',
          reason:
            'Threshold Crossed: 1 out of the last 1 datapoints [1.0 (25/11/26 10:01:00)] was greater than or equal ' +
            'to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition).',
          reasonData:
            '{"version":"1.0","queryDate":"2026-11-25T10:02:00.250+0000","startDate":"2026-11-25T10:01:00.000+0000",' +
            '"statistic":"Sum","period":60,"recentDatapoints":[1],"threshold":1}',
          timestamp: '2026-11-25T10:02:00.250+0000',
        },
        previousState: {
          value: 'OK',
          reason: okReason,
          reasonData:
            '{"version":"1.0","queryDate":"2026-11-25T10:01:05.000+0000","startDate":"2026-11-25T10:00:00.000+0000",' +
            '"statistic":"Sum","period":60,"recentDatapoints":[0],"threshold":1}',
          timestamp: '2026-11-25T10:01:05.000+0000',
        },
        configuration: {
          metrics: [
            {
              id: expect.stringMatching(UUID),
              metricStat: {
                metric: {
                  namespace: 'AWS/Lambda',
                  name: 'Errors',
                  dimensions: { FunctionName: 'web', Resource: 'web:live' },
                },
                period: 60,
                stat: 'Sum',
              },
              returnData: true,
            },
          ],
        },
      },
    };
    expect(fired).toEqual([expected]);
    expect(fired[0]!.detail.configuration.metrics[0]!.id).toBe(first[0]!.detail.configuration.metrics[0]!.id);
    expect(announced).toEqual([...first, ...fired]);
    expect(alarms.states([ERRORS])).toEqual([
      { name: ERRORS, state: 'ALARM', reason: expected.detail.state.reason, value: 1, at: '2026-11-25T10:02:00.250Z' },
    ]);
    // The local bus took the events, and the alarm rule handed the deploy handler the one into ALARM, shaped into its
    // request: the changes into OK (both alarms) do not match the rule.
    expect(delivered.map((input) => deployRequestSchema.parse(input))).toEqual([
      {
        kind: 'alarm',
        alarmName: ERRORS,
        state: 'ALARM',
        reason: expected.detail.state.reason,
        timestamp: '2026-11-25T10:02:00.250+0000',
      },
    ]);
  });

  it('goes back to OK when the errors stop, and stays there through quiet minutes', () => {
    invoke('2026-11-25T10:00:35.000Z', true);
    at('2026-11-25T10:01:00.000Z');
    expect(alarms.evaluate().map((e) => e.detail.state.value)).toEqual(['ALARM', 'OK']);

    invoke('2026-11-25T10:01:10.000Z');
    at('2026-11-25T10:02:00.000Z');
    const recovered = alarms.evaluate();
    expect(recovered.map((e) => [e.detail.alarmName, e.detail.previousState.value, e.detail.state.value])).toEqual([
      [ERRORS, 'ALARM', 'OK'],
    ]);
    expect(recovered[0]!.detail.state.reason).toBe(
      'Threshold Crossed: 1 out of the last 1 datapoints [0.0 (25/11/26 10:01:00)] was not greater than or equal to ' +
        'the threshold (1.0) (minimum 1 datapoint for ALARM -> OK transition).',
    );

    at('2026-11-25T10:05:00.000Z'); // no traffic at all since 10:01
    expect(alarms.evaluate()).toEqual([]);
    expect(state(ERRORS)).toBe('OK');
    // The alarm rule handed the deploy handler the one change into ALARM, not the recovery.
    expect(delivered.map((input) => deployRequestSchema.parse(input))).toEqual([
      expect.objectContaining({ kind: 'alarm', alarmName: ERRORS, state: 'ALARM' }),
    ]);
  });

  it('reads the whole evaluation range, which ends at the last minute boundary, not at now', () => {
    invoke('2026-11-25T09:59:00.100Z', true);
    // The range is 09:59-10:02 (N + 2 minutes); its only datapoint, 09:59's, is the most recent real one.
    at('2026-11-25T10:02:00.250Z');

    expect(alarms.evaluate().map((e) => [e.detail.alarmName, e.detail.state.value])).toEqual([
      [ERRORS, 'ALARM'],
      [THROTTLES, 'OK'],
    ]);
  });

  it('sets a state as SetAlarmState does: announced, then recomputed by the next evaluation', () => {
    at('2026-11-25T10:01:00.000Z');
    alarms.evaluate();
    const set = alarms.setState(ERRORS, 'ALARM', 'testing the rollback');

    expect(set?.detail.state).toEqual({
      value: 'ALARM',
      reason: 'testing the rollback',
      timestamp: '2026-11-25T10:01:00.000+0000',
    });
    expect(alarms.setState(ERRORS, 'ALARM', 'again')).toBeUndefined();
    expect(announced.at(-1)).toBe(set);
    expect(alarms.evaluate().map((e) => [e.detail.previousState.value, e.detail.state.value])).toEqual([
      ['ALARM', 'OK'],
    ]);
  });

  it('refuses unknown alarm names, naming them', () => {
    expect(() => alarms.states([ERRORS, 'nope', 'nada'])).toThrow(new UnknownAlarmsError(['nope', 'nada']));
    expect(() => alarms.setState('nope', 'ALARM', 'x')).toThrow(UnknownAlarmsError);
  });

  it('keeps an alarm’s state when it is defined again, and refuses a definition CloudWatch would refuse', () => {
    at('2026-11-25T10:01:00.000Z');
    alarms.evaluate();
    const [errors] = deploymentAlarms('web', deploySchema.parse({ function: 'web', alarms: { errors: 3 } }));
    alarms.define([errors!]);
    expect(alarms.descriptions().find((d) => d.alarm.name === ERRORS)).toMatchObject({
      state: 'OK',
      alarm: { definition: { threshold: 3 } },
    });

    const bad: DeploymentAlarm = { ...errors!, name: 'bad', definition: { ...errors!.definition, periodSeconds: 45 } };
    expect(() => alarms.define([bad])).toThrow(/periodSeconds must be 10, 20, 30 or a multiple of 60 \(got 45\)/);
    expect(alarms.descriptions().map((d) => d.alarm.name)).toEqual([ERRORS, THROTTLES]);
  });

  describe('through the real CloudWatch client', () => {
    let endpoint: LocalEndpoint;
    let cloudwatch: CloudWatchClient;

    beforeEach(async () => {
      endpoint = await startLocalEndpoint({ [DESCRIBE_ALARMS_TARGET]: describeAlarmsOperation(alarms) });
      cloudwatch = new CloudWatchClient({
        endpoint: endpoint.url,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
      });
    });
    afterEach(async () => {
      cloudwatch.destroy();
      await endpoint.close();
    });

    it('reads the states with CloudWatchAlarmReader, in the order asked', async () => {
      invoke('2026-11-25T10:00:35.000Z', true);
      at('2026-11-25T10:01:00.000Z');
      alarms.evaluate();

      const seen = await new CloudWatchAlarmReader(cloudwatch).states([THROTTLES, ERRORS]);

      expect(seen).toEqual([
        { name: THROTTLES, state: 'OK', reason: alarms.states([THROTTLES])[0]!.reason, at: '2026-11-25T10:01:00.000Z' },
        {
          name: ERRORS,
          state: 'ALARM',
          reason: alarms.states([ERRORS])[0]!.reason,
          value: 1,
          at: '2026-11-25T10:01:00.000Z',
        },
      ]);
    });

    it('answers DescribeAlarms as CloudWatch does: the MetricAlarm, unknown names left out', async () => {
      const answer = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [ERRORS, 'nope'] }));

      expect(answer.MetricAlarms).toEqual([
        {
          AlarmName: ERRORS,
          AlarmArn: `arn:aws:cloudwatch:local:000000000000:alarm:${ERRORS}`,
          ActionsEnabled: false,
          StateValue: 'INSUFFICIENT_DATA',
          StateReason: 'Unchecked: Initial alarm creation',
          StateUpdatedTimestamp: new Date('2026-11-25T10:00:30.000Z'),
          StateTransitionedTimestamp: new Date('2026-11-25T10:00:30.000Z'),
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [
            { Name: 'FunctionName', Value: 'web' },
            { Name: 'Resource', Value: 'web:live' },
          ],
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 1,
          DatapointsToAlarm: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
        },
      ]);
      expect(answer.CompositeAlarms).toEqual([]);
      expect(answer.NextToken).toBeUndefined();
    });

    it('pages with NextToken and refuses a token it did not give', async () => {
      const first = await cloudwatch.send(new DescribeAlarmsCommand({ MaxRecords: 1 }));
      const second = await cloudwatch.send(new DescribeAlarmsCommand({ MaxRecords: 1, NextToken: first.NextToken }));

      expect(first.MetricAlarms!.map((a) => a.AlarmName)).toEqual([ERRORS]);
      expect(second.MetricAlarms!.map((a) => a.AlarmName)).toEqual([THROTTLES]);
      expect(second.NextToken).toBeUndefined();
      await expect(cloudwatch.send(new DescribeAlarmsCommand({ NextToken: 'forged' }))).rejects.toBeInstanceOf(
        InvalidNextToken,
      );
    });

    it('asks for at most 100 names a call', async () => {
      const many = Array.from({ length: 150 }, (_, i) => `many-${String(i).padStart(3, '0')}`);
      const [errors] = deploymentAlarms('web', deploySchema.parse({ function: 'web' }));
      alarms.define(many.map((name) => ({ ...errors!, name, definition: { ...errors!.definition, name } })));
      const send = jest.spyOn(cloudwatch, 'send');

      const seen = await new CloudWatchAlarmReader(cloudwatch).states(many);

      expect(seen.map((alarm) => alarm.name)).toEqual(many);
      const asked = send.mock.calls.map(([command]) => (command as DescribeAlarmsCommand).input.AlarmNames!.length);
      expect(asked).toEqual([100, 50]);
    });

    it('follows NextToken when CloudWatch answers a batch in pages', async () => {
      const alarm = (AlarmName: string) => ({
        AlarmName,
        StateValue: 'OK' as const,
        StateUpdatedTimestamp: new Date('2026-11-25T10:00:00.000Z'),
      });
      const paged = mockClient(cloudwatch);
      paged
        .on(DescribeAlarmsCommand)
        .resolvesOnce({ MetricAlarms: [alarm('a')], NextToken: 'page-2' })
        .resolvesOnce({ CompositeAlarms: [alarm('b')] });
      try {
        const seen = await new CloudWatchAlarmReader(cloudwatch).states(['b', 'a']);

        expect(seen.map((a) => a.name)).toEqual(['b', 'a']);
        expect(paged.commandCalls(DescribeAlarmsCommand).map((call) => call.args[0].input.NextToken)).toEqual([
          undefined,
          'page-2',
        ]);
      } finally {
        paged.restore();
      }
    });

    it('refuses an alarm that does not exist, naming it: a deployment must not run blind', async () => {
      const reading = new CloudWatchAlarmReader(cloudwatch).states([ERRORS, 'stepline-web-typo']);

      await expect(reading).rejects.toBeInstanceOf(UnknownAlarmsError);
      await expect(reading).rejects.toThrow(/no such alarm: stepline-web-typo;/);
    });
  });

  it('evaluates on an unref’d timer, one round at a time, and stop() leaves no timer behind', () => {
    jest.useFakeTimers({ doNotFake: ['Date'] });
    try {
      const setTimeoutSpy = jest.spyOn(global, 'setTimeout');
      at('2026-11-25T10:01:00.000Z');
      alarms.start(1000);
      expect(() => alarms.start(1000)).toThrow(/evaluating already/);
      expect(jest.getTimerCount()).toBe(1);
      expect((setTimeoutSpy.mock.results[0]!.value as NodeJS.Timeout).hasRef()).toBe(false);

      jest.advanceTimersByTime(999);
      expect(announced).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(announced.map((e) => e.detail.state.value)).toEqual(['OK', 'OK']);
      expect(jest.getTimerCount()).toBe(1); // the next round, armed when this one ended

      alarms.setState(ERRORS, 'ALARM', 'testing');
      jest.advanceTimersByTime(1000);
      expect(state(ERRORS)).toBe('OK');

      alarms.stop();
      expect(jest.getTimerCount()).toBe(0);
      alarms.setState(ERRORS, 'ALARM', 'testing');
      jest.advanceTimersByTime(5000);
      expect(state(ERRORS)).toBe('ALARM');
    } finally {
      jest.useRealTimers();
    }
  });
});
