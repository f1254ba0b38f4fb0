/**
 * A pipeline's release to Lambda, as declared in `stepline.config.ts` (`deploy`): the function and the
 * alias its traffic reaches it through, how traffic moves to a new version (canary steps, linear
 * increments, or all at once), what must hold before and during the move (a pre-traffic check, the
 * alarms), and what to do when an alarm already fires. Validated with messages that name the field.
 */
import * as z from 'zod';

const functionName = z
  .string()
  .regex(/^[a-zA-Z0-9-_]{1,64}$/, 'must be a Lambda function name: 1-64 characters of a-z, A-Z, 0-9, "-" and "_"');
const aliasName = z
  .string()
  .regex(
    /^(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}$/,
    'must be an alias name: 1-128 characters of a-z, A-Z, 0-9, "-" and "_", not only digits',
  );

/**
 * Where a target lives, when not in the platform's own account and Region: a 12-digit account id and a
 * Region code. Absent means the platform's own (core/deployment/targets.ts targetEnvironment).
 */
const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const regionCode = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS Region code such as eu-west-1');

/** Longest bake of one step: two hours keeps a canary of five steps well inside a day. */
export const MAX_BAKE_SECONDS = 7200;
const bakeSeconds = z.number().int().min(0).max(MAX_BAKE_SECONDS, `bakeSeconds is at most ${MAX_BAKE_SECONDS}`);

/**
 * A paused step is held by a loop of three states ("Hold while paused" Wait → "Check alarms" Task →
 * "Is the deployment paused?" Choice): 2 + 5 + 2 = 9 history events per loop. The hold doubles from
 * MIN_HOLD_SECONDS to MAX_HOLD_SECONDS (10, 20, 40, 80, 160, then 300 s: 6 loops, 54 events in the first
 * 5 min 10 s), then 12 loops an hour: 108 events an hour. A pause of MAX_PAUSE_HOURS (72 h) therefore
 * costs at most 54 + 72 × 108 = 7,830 events, under a third of Step Functions' hard limit of 25,000
 * events per execution (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html),
 * leaving the rest to the run's other states. Longer than that, a paused deployment is rolled back.
 */
export const MIN_HOLD_SECONDS = 10;
export const MAX_HOLD_SECONDS = 300;
export const MAX_PAUSE_HOURS = 72;
/** Overnight and a working day: a pause is for watching, not for parking a release. */
export const DEFAULT_MAX_PAUSE_HOURS = 24;

const strategySchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('canary'),
      /** The percentages of traffic the new version takes, step by step, before it takes all of it. */
      steps: z
        .array(z.number().int().min(1).max(99))
        .min(1)
        .max(5, 'at most 5 canary steps')
        .refine((steps) => steps.every((p, i) => i === 0 || p > steps[i - 1]!), 'canary steps must increase'),
      /** How long each step bakes before the alarms are checked and the next step starts. */
      bakeSeconds: bakeSeconds.default(300),
    }),
    z.strictObject({
      type: z.literal('linear'),
      /** The new version takes this many more percent at every step, until it takes all. */
      percent: z.number().int().min(5).max(50),
      bakeSeconds: bakeSeconds.default(60),
    }),
    z.strictObject({
      /** Blue/green: the alias moves to the new version in one step (and back in one step). */
      type: z.literal('allAtOnce'),
      bakeSeconds: bakeSeconds.default(300),
    }),
  ],
  { error: 'strategy.type must be canary, linear or allAtOnce' },
);

const alarmThresholds = z.strictObject({
  /** Errors of the new version per minute at which it is rolled back. @default 1 */
  errors: z.number().min(1).default(1),
  /** Throttles of the new version per minute at which it is rolled back. @default 1 */
  throttles: z.number().min(1).default(1),
  /** The new version's p99 duration (ms) at which it is rolled back; none when absent. */
  p99DurationMs: z.number().int().min(1).optional(),
});

/**
 * The target function, when stepline is to create it (`createFunction`): CloudFormation manages its
 * configuration; its code and its alias are stepline's deployments' from the first release on.
 */
const createFunctionSchema = z.strictObject({
  /** The Lambda runtime of the code the pipeline builds. @default 'nodejs22.x' */
  runtime: z
    .enum(['nodejs20.x', 'nodejs22.x'], { error: "createFunction.runtime must be 'nodejs20.x' or 'nodejs22.x'" })
    .default('nodejs22.x'),
  /** The handler in the build's artifact, `<file>.<export>`. @default 'index.handler' */
  handler: z
    .string()
    .regex(/^[^\s.]+(\.[^\s.]+)+$/, 'createFunction.handler must be <file>.<export>, e.g. index.handler')
    .max(128)
    .default('index.handler'),
  /** Memory in MB (Lambda: 128 to 10,240). @default 256 */
  memoryMb: z.number().int().min(128).max(10240).default(256),
  /** Timeout in seconds (Lambda: at most 900). @default 10 */
  timeoutSeconds: z.number().int().min(1).max(900).default(10),
});

export const deploySchema = z.strictObject({
  /** The function a run releases: the build stage's artifact becomes its code. */
  function: functionName,
  /**
   * The account the function lives in, when not the platform's: stepline releases into it through a
   * deploy role its target stack creates there (README, "Accounts and Regions"). @default the platform's
   */
  account: accountId.optional(),
  /** The Region the function lives in, when not the platform's. @default the platform's */
  region: regionCode.optional(),
  /** The alias callers invoke; traffic moves through its routing weights. @default 'live' */
  alias: aliasName.default('live'),
  strategy: strategySchema.default({ type: 'canary', steps: [10, 50], bakeSeconds: 300 }),
  /** Invoked on the new version before it takes traffic; it must succeed. */
  preTraffic: z.strictObject({ event: z.record(z.string(), z.unknown()) }).optional(),
  /** Thresholds of the alarms stepline creates on the new version. */
  alarms: alarmThresholds.default({ errors: 1, throttles: 1 }),
  /**
   * Alarms of your own that also roll a deployment back (names of CloudWatch alarms): each check reads them,
   * and a change of one into ALARM rolls back at once through the composite alarm stepline makes over them
   * (`stepline-<pipeline>-extra-alarms`, core/alarms/deployment-alarms.ts extraAlarmsComposite).
   */
  extraAlarms: z
    .array(
      z
        .string()
        .min(1)
        .max(255)
        // They are named in a composite alarm's rule, inside double quotes (extraAlarmsComposite).
        .regex(/^[^"]+$/, "an extra alarm's name cannot contain a double quote"),
    )
    .max(5)
    .default([]),
  /**
   * When one of the deployment's alarms is already in ALARM before it starts: `refuse` the deployment,
   * or let it through as a `hotfix` (recorded), judged on the alarm returning to OK or not getting worse.
   * @default 'refuse'
   */
  whenAlarmsFire: z
    .enum(['refuse', 'hotfix'], { error: "whenAlarmsFire must be 'refuse' or 'hotfix'" })
    .default('refuse'),
  /**
   * How long an operator's pause may last; past it the deployment is rolled back (its outcome says so),
   * so a forgotten pause never leaves traffic split. At most 72: see MAX_PAUSE_HOURS for the arithmetic.
   * @default 24
   */
  maxPauseHours: z
    .number()
    .positive('maxPauseHours must be more than 0')
    .max(
      MAX_PAUSE_HOURS,
      `maxPauseHours is at most ${MAX_PAUSE_HOURS}: a longer pause nears Step Functions' 25,000 history events`,
    )
    .default(DEFAULT_MAX_PAUSE_HOURS),
  /**
   * Have stepline create the function (with placeholder code until the first release) and its alias, for
   * a function that does not exist yet. Without it, the function and the alias must exist before the
   * pipeline's first deployment.
   */
  createFunction: createFunctionSchema.optional(),
  /**
   * A staging target (QA → staging → production): before the release gate, the build's artifact is
   * deployed to it all at once and smoke-checked with `smokeEvent`; a failing smoke check fails the
   * run before anyone is asked to approve it.
   */
  staging: z
    .strictObject({
      function: functionName,
      alias: aliasName.default('live'),
      /** The staging function's account, when not the platform's. @default the platform's */
      account: accountId.optional(),
      /** The staging function's Region, when not the platform's. @default the platform's */
      region: regionCode.optional(),
      /** Invoked through the staging alias after the switch; it must succeed. */
      smokeEvent: z.record(z.string(), z.unknown()),
    })
    .optional(),
});

export type DeployConfig = z.output<typeof deploySchema>;
export type DeployStrategy = DeployConfig['strategy'];
export type CreateFunctionConfig = NonNullable<DeployConfig['createFunction']>;

/** One step of traffic: the weight the new version takes (0 < weight < 1), then a bake. */
export interface TrafficStep {
  readonly weight: number;
  readonly bakeSeconds: number;
}

/**
 * The steps a strategy moves traffic in, before the final step that makes the new version primary:
 * canary `[10, 50]` is 0.1 then 0.5; linear 25 is 0.25, 0.5, 0.75; all-at-once has none.
 */
export function trafficSteps(strategy: DeployStrategy): TrafficStep[] {
  switch (strategy.type) {
    case 'canary':
      return strategy.steps.map((percent) => ({ weight: percent / 100, bakeSeconds: strategy.bakeSeconds }));
    case 'linear': {
      const steps: TrafficStep[] = [];
      for (let percent = strategy.percent; percent < 100; percent += strategy.percent)
        steps.push({ weight: percent / 100, bakeSeconds: strategy.bakeSeconds });
      return steps;
    }
    case 'allAtOnce':
      return [];
  }
}
