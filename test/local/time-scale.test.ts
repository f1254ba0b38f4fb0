/**
 * Local mode's time scale shortens waits, never the clock: runs and stages take wall time, every recorded time is
 * real, a gate's deadline is the real instant its shortened wait ends, Wait states (found by their type) and alarm
 * periods pass that many times sooner.
 */
import { deploymentAlarms } from '../../core/alarms/deployment-alarms';
import { deploySchema } from '../../core/deployment/config';
import { LocalAlarms } from '../../local/alarms';
import { LocalMetrics } from '../../local/functions/metrics';
import { LocalStepFunctions } from '../../local/step-functions';
import { TimeScale } from '../../local/time-scale';
import { decideByCli, gateIn } from '../support/approvals';
import { passingSeed, startFixture, type Fixture } from '../support/pipeline-fixture';

/** Every recorded time of a run lies within the real interval the test measured around it. */
function expectWithin(iso: string | undefined, from: number, to: number): void {
  expect(iso).toBeDefined();
  const at = Date.parse(iso!);
  expect(at).toBeGreaterThanOrEqual(from);
  expect(at).toBeLessThanOrEqual(to);
}

describe('the time scale', () => {
  it('is refused outside 1 to 3600, naming the range', () => {
    for (const factor of [0, 0.5, 3601, Number.NaN]) {
      expect(() => new TimeScale(factor)).toThrow(`the time scale must be a number from 1 to 3600, got ${factor}`);
    }
  });
});

describe('Wait states under a time scale', () => {
  /** A Wait by SecondsPath between InputPath and OutputPath, then one by Seconds. */
  const definition = (seconds: { path: number; fixed: number }) =>
    JSON.stringify({
      StartAt: 'Bake a while',
      States: {
        'Bake a while': {
          Type: 'Wait',
          InputPath: '$.inner',
          SecondsPath: '$.seconds',
          OutputPath: '$.kept',
          Next: 'Hold',
        },
        Hold: { Type: 'Wait', Seconds: seconds.fixed, End: true },
      },
    });
  const input = (seconds: unknown) => JSON.stringify({ inner: { seconds, kept: { a: 1 } }, outer: 2 });

  async function execute(scale: TimeScale, json: string, executionInput: string) {
    const sfn = new LocalStepFunctions({}, { timeScale: scale });
    const execution = sfn.startExecution(sfn.createStateMachine('waits', json), 'e1', executionInput);
    await execution.done;
    return execution;
  }

  it('waits SecondsPath and Seconds that many times less, with the output a Wait gives', async () => {
    // An hour and half an hour at ×3600: 1.5 s in all, where unscaled they would outlast the test.
    const scaled = await execute(new TimeScale(3600), definition({ path: 3600, fixed: 1800 }), input(3600));
    // The executor's own Wait states, unscaled and waiting nothing: the output the scaled ones must give.
    const real = await execute(TimeScale.REAL, definition({ path: 0, fixed: 0 }), input(0));
    expect(real).toMatchObject({ status: 'SUCCEEDED', output: JSON.stringify({ a: 1 }) });
    expect(scaled).toMatchObject({ status: 'SUCCEEDED', output: real.output, transitions: real.transitions });
  });

  it('fails the execution as a Wait would when SecondsPath is not a whole number of seconds', async () => {
    const failed = await execute(new TimeScale(60), definition({ path: 1, fixed: 0 }), input('5'));
    expect(failed).toMatchObject({
      status: 'FAILED',
      error: 'States.Runtime',
      cause: expect.stringContaining('got "5"'),
    });
  });

  it('a stopped execution leaves a shortened wait at once', async () => {
    const sfn = new LocalStepFunctions({}, { timeScale: new TimeScale(60) });
    const arn = sfn.createStateMachine('waits', definition({ path: 86_400, fixed: 0 }));
    const execution = sfn.startExecution(arn, 'e1', input(86_400));
    await sfn.stopExecution(execution.executionArn);
    expect(execution.status).toBe('ABORTED');
  });
});

describe('local alarms under a time scale', () => {
  it('pass a one-minute period in a real second at ×60, and report real times', () => {
    let clock = Date.parse('2026-12-03T11:00:00.000Z');
    const metrics = new LocalMetrics({ now: () => clock });
    const events: { time: string; timestamp: string; state: string }[] = [];
    const alarmsAt = (scale: TimeScale) => {
      const alarms = new LocalAlarms({
        metrics,
        now: () => new Date(clock),
        timeScale: scale,
        onStateChange: (event) =>
          events.push({ time: event.time, timestamp: event.detail.state.timestamp, state: event.detail.state.value }),
      });
      alarms.define(deploymentAlarms('web', deploySchema.parse({ function: 'web' })));
      return alarms;
    };
    const scaled = alarmsAt(new TimeScale(60));
    const real = alarmsAt(TimeScale.REAL);
    // Errors through the alias over three real seconds: three minutes of the alarm's periods at ×60.
    for (let i = 0; i < 30; i++) {
      clock += 100;
      metrics.put({
        namespace: 'AWS/Lambda',
        metricName: 'Errors',
        dimensions: { FunctionName: 'web', Resource: 'web:live' },
        value: 1,
        timestamp: clock,
      });
    }
    clock += 1000;
    scaled.evaluate();
    expect(events).toContainEqual({
      state: 'ALARM',
      time: '2026-12-03T11:00:04Z',
      timestamp: '2026-12-03T11:00:04.000+0000',
    });
    expect(scaled.states(['stepline-web-errors'])[0]).toMatchObject({ state: 'ALARM', at: '2026-12-03T11:00:04.000Z' });
    // The reason names the datapoints' periods at the real times they began, never on the stretched timeline.
    const periods = [
      ...scaled.states(['stepline-web-errors'])[0]!.reason!.matchAll(/\((\d\d)\/12\/26 (\d\d:\d\d:\d\d)\)/g),
    ];
    expect(periods.length).toBeGreaterThan(0);
    periods.forEach(([, day, time]) => expect(`${day} ${time}`).toMatch(/^03 11:00:0[0-4]$/));
    // Unscaled, the minute of the errors is not over yet: no alarm fires.
    events.length = 0;
    real.evaluate();
    expect(events.map((e) => e.state)).not.toContain('ALARM');
    expect(real.states(['stepline-web-errors'])[0]!.state).not.toBe('ALARM');
  });
});

/** A build whose artifact is a Lambda handler with this body. */
const handler = (body: string) =>
  `version: 0.2\nphases:\n  build:\n    commands:\n      - mkdir -p dist\n      - ${JSON.stringify(`echo '${body}' > dist/index.js`)}\nartifacts:\n  files:\n    - '**/*'\n  base-directory: dist\n`;
const GOOD = 'exports.handler = async () => ({ ok: true });';
const BAD = 'exports.handler = async () => { throw new Error("boom"); };';

describe('a local run at ×60', () => {
  let fixture: Fixture;
  afterEach(() => fixture?.close());

  async function run(files: Record<string, string>) {
    const commitId = await fixture.push(files);
    const [started] = await fixture.runtime.runsStartedFor(commitId);
    return started!.runId;
  }

  it('takes wall time: its duration and its stages are measured on the real clock', async () => {
    fixture = await startFixture({ timeScale: 60 });
    const t0 = Date.now();
    const finished = await fixture.runtime.waitForRun(await run(passingSeed));
    const t1 = Date.now();
    expect(finished.status).toBe('SUCCEEDED');
    expect(finished.durationMs).toBeGreaterThanOrEqual(0);
    // Never the ×60 figure: at most the wall time the test measured around the run.
    expect(finished.durationMs).toBeLessThanOrEqual(t1 - t0);
    expectWithin(finished.startedAt, t0, t1);
    expectWithin(finished.endedAt, t0, t1);
    for (const stage of await fixture.runtime.store.listStages(finished.runId)) {
      expectWithin(stage.startedAt, t0, t1);
      expectWithin(stage.endedAt, t0, t1);
      expect(stage.durationMs).toBeLessThanOrEqual(t1 - t0);
    }
  });

  it("records a gate's deadline as the real instant its 72 hours at ×60 end, and its audit in real time", async () => {
    const policy = {
      approvers: [
        { id: 'bob', name: 'Bob', emails: ['bob@example.com'] },
        { id: 'dave', name: 'Dave', emails: ['local@stepline.invalid'] },
      ],
      classes: { normal: { approvals: 1 } },
      expiresAfterHours: 72,
    };
    fixture = await startFixture({ timeScale: 60 }, { approval: policy });
    const t0 = Date.now();
    const runId = await run(passingSeed);
    const gate = await gateIn(fixture.runtime, runId, 'WAITING');
    expectWithin(gate.openedAt, t0, Date.now());
    // 72 h at ×60: 72 minutes after it opened.
    expect(Date.parse(gate.deadline) - Date.parse(gate.openedAt)).toBe(72 * 60_000);

    expect((await decideByCli(fixture.runtime, runId, 'bob@example.com', 'approve')).status).toBe(200);
    expect((await fixture.runtime.waitForRun(runId)).status).toBe('SUCCEEDED');
    const t1 = Date.now();
    const audit = await fixture.runtime.store.listAudit(runId);
    expect(audit.map((e) => e.event)).toContain('approved');
    audit.forEach((event) => expectWithin(event.at, t0, t1));
    const approval = (await fixture.runtime.store.getApproval(runId))!;
    expectWithin(approval.decidedAt, t0, t1);
    expectWithin(approval.resumedAt, t0, t1);
  });

  it("rolls a bad canary back on its own: callers' traffic fires the errors alarm within its shortened periods", async () => {
    fixture = await startFixture(
      { timeScale: 60, trafficPerSecond: 20 },
      { deploy: { function: 'hello', strategy: { type: 'canary', steps: [50], bakeSeconds: 300 } } },
    );
    const finished = await fixture.runtime.waitForRun(await run({ ...passingSeed, 'build.yml': handler(BAD) }));
    expect(finished.failure).toMatchObject({
      error: 'Deploy.RolledBack',
      cause: expect.stringMatching(/^alarm stepline-demo-errors is in ALARM: Threshold Crossed/),
    });
    expect(fixture.runtime.lambdas.getAlias('hello', 'live').functionVersion).toBe('1');
  });

  it('bakes 120 s in 2 s: the steps are recorded at the real times they were taken', async () => {
    fixture = await startFixture(
      { timeScale: 60 },
      { deploy: { function: 'hello', strategy: { type: 'canary', steps: [50], bakeSeconds: 120 } } },
    );
    const t0 = Date.now();
    const finished = await fixture.runtime.waitForRun(await run({ ...passingSeed, 'build.yml': handler(GOOD) }));
    const t1 = Date.now();
    expect(finished.status).toBe('SUCCEEDED');
    const taken = (await fixture.runtime.store.getDeployment(finished.runId))!.stepsTaken!;
    expect(taken.map((t) => t.weight)).toEqual([0.5, 1]);
    taken.forEach((step) => expectWithin(step.at, t0, t1));
    // The bake between the two steps waited its 2 s (not 120 s: the run ended before that).
    expect(Date.parse(taken[1]!.at) - Date.parse(taken[0]!.at)).toBeGreaterThanOrEqual(1_990);
    expect(t1 - t0).toBeLessThan(120_000);
  }, 30_000);
});
