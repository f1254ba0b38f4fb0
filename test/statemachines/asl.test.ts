import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  jsonPathOnly,
  lintDefinition,
  noLiteralArns,
  noResultPathDollar,
  reachableStates,
  readableStateNames,
  tasksCatchFailures,
  tasksHaveTimeout,
  tasksRetryThrottling,
  uniqueStateNames,
} from '../../core/asl/lint';
import { TASK_RESOURCES } from '../../core/asl/states';
import { PIPELINE_DEFINITION_FILE, renderDefinition } from '../../statemachines';

interface AslValidation {
  readonly isValid: boolean;
  errorsText(separator?: string): string;
}
// asl-validator ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const validateAsl = require('asl-validator') as (
  definition: unknown,
  options?: { checkPaths: boolean; checkArn: boolean },
) => AslValidation;

const STATEMACHINES_DIR = dirname(PIPELINE_DEFINITION_FILE);
const definitionFiles = readdirSync(STATEMACHINES_DIR)
  .filter((file) => file.endsWith('.asl.json'))
  .map((file) => join(STATEMACHINES_DIR, file));

/** A dummy ARN for every `${Name}` placeholder of the file. */
function dummySubstitutions(file: string): Record<string, string> {
  const names = [...readFileSync(file, 'utf8').matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]!);
  return Object.fromEntries(names.map((name) => [name, `arn:aws:lambda:eu-west-1:123456789012:function:${name}`]));
}

function taskResources(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(taskResources);
  if (typeof value !== 'object' || value === null) return [];
  const object = value as Record<string, unknown>;
  const own = object.Type === 'Task' && typeof object.Resource === 'string' ? [object.Resource] : [];
  return [...own, ...Object.values(object).flatMap(taskResources)];
}

const retry = [
  { ErrorEquals: ['Lambda.TooManyRequestsException'], IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2 },
];

/** A Task every rule accepts; `overrides` breaks exactly one of them. */
function task(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: '${RecordProgressFunctionArn}', 'Payload.$': '$' },
    TimeoutSeconds: 60,
    Retry: retry,
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Run failed' }],
    Next: 'Run succeeded',
    ...overrides,
  };
}

/** `Do the work` → `Run succeeded`, caught into `Run failed`. */
function machine(work: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    StartAt: 'Do the work',
    States: {
      'Do the work': work,
      'Run succeeded': { Type: 'Succeed' },
      'Run failed': { Type: 'Fail', Error: 'RunFailed' },
      ...extra,
    },
  };
}

/** A Map whose processor holds one Task (nested states are linted too). */
function mapOf(inner: Record<string, unknown>, name = 'Do the inner work'): Record<string, unknown> {
  return {
    Type: 'Map',
    ItemsPath: '$.items',
    ItemProcessor: {
      ProcessorConfig: { Mode: 'INLINE' },
      StartAt: name,
      States: {
        [name]: inner,
        'Item done': { Type: 'Succeed' },
        'Item failed': { Type: 'Fail', Error: 'ItemFailed' },
      },
    },
    Next: 'Run succeeded',
  };
}

function omit(state: Record<string, unknown>, field: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(state).filter(([key]) => key !== field));
}

const innerTask = (overrides: Record<string, unknown> = {}): Record<string, unknown> =>
  task({ Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Item failed' }], Next: 'Item done', ...overrides });

describe('the state machine definitions', () => {
  it('finds at least one definition file', () => {
    expect(definitionFiles).toContain(PIPELINE_DEFINITION_FILE);
  });

  it.each(definitionFiles)('%s passes every lint rule', (file) => {
    const definition: unknown = JSON.parse(readFileSync(file, 'utf8'));

    const findings = lintDefinition(definition);

    expect(findings).toEqual([]);
  });

  it.each(definitionFiles)('%s validates with asl-validator once rendered', (file) => {
    // asl-validator writes QueryLanguage into every state: give it a copy of its own.
    const rendered: unknown = JSON.parse(renderDefinition(file, dummySubstitutions(file)));

    const result = validateAsl(structuredClone(rendered), { checkPaths: true, checkArn: false });

    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('the pipeline calls only Lambda (with and without a task token) and CodeBuild, the resources of the one table grants and adapters use', () => {
    const definition: unknown = JSON.parse(readFileSync(PIPELINE_DEFINITION_FILE, 'utf8'));

    const resources = new Set(taskResources(definition));

    expect([...resources].sort()).toEqual([
      'arn:aws:states:::codebuild:startBuild.sync',
      'arn:aws:states:::lambda:invoke',
      'arn:aws:states:::lambda:invoke.waitForTaskToken',
    ]);
    expect(Object.values(TASK_RESOURCES).sort()).toEqual([...resources].sort());
  });
});

describe('the build quota retry', () => {
  type Retrier = {
    ErrorEquals: string[];
    IntervalSeconds: number;
    BackoffRate: number;
    MaxDelaySeconds?: number;
    JitterStrategy?: string;
    MaxAttempts: number;
  };
  const definition = JSON.parse(readFileSync(PIPELINE_DEFINITION_FILE, 'utf8')) as unknown;
  const buildTasks = (value: unknown): { Resource: string; Retry: Retrier[] }[] => {
    if (Array.isArray(value)) return value.flatMap(buildTasks);
    if (!value || typeof value !== 'object') return [];
    const node = value as Record<string, unknown>;
    const own = node.Resource === TASK_RESOURCES.codeBuildSync ? [node as never] : [];
    return [...own, ...Object.values(node).flatMap(buildTasks)];
  };

  it('every build task waits out a full quota: both spellings of the service error, capped and jittered', () => {
    const tasks = buildTasks(definition);
    expect(tasks).toHaveLength(2);
    for (const task of tasks) {
      const [quota] = task.Retry;
      expect(quota!.ErrorEquals).toEqual([
        'CodeBuild.AccountLimitExceededException',
        'CodeBuild.AWSCodeBuildException',
        'CodeBuild.CodeBuildException',
      ]);
      expect(quota!.JitterStrategy).toBe('FULL');
      // Worst case (no jitter), the waits add up to more than two hours: longer than the default
      // 60-minute build timeout twice over, so a run waits for a full quota's builds to finish.
      let total = 0;
      for (let attempt = 0; attempt < quota!.MaxAttempts; attempt++) {
        total += Math.min(quota!.IntervalSeconds * quota!.BackoffRate ** attempt, quota!.MaxDelaySeconds!);
      }
      expect(total).toBeGreaterThan(2 * 3600);
      expect(quota!.MaxDelaySeconds).toBeLessThanOrEqual(300);
    }
  });

  it('test stages run as many at once as the run input says', () => {
    const map = (definition as { States: Record<string, Record<string, unknown>> }).States['Run test stages']!;
    expect(map.MaxConcurrencyPath).toBe('$.stages.testConcurrency');
    expect(map.MaxConcurrency).toBeUndefined();
  });
});

describe('lintDefinition', () => {
  it('accepts a compliant definition, nested states included', () => {
    const definition = machine(task({ Next: 'Run the items' }), { 'Run the items': mapOf(innerTask()) });

    expect(lintDefinition(definition)).toEqual([]);
  });

  it('reports a definition without States instead of throwing', () => {
    expect(lintDefinition('not a definition')).toEqual([
      { rule: 'definition', message: 'the definition is not an object with States' },
    ]);
  });
});

describe('jsonPathOnly', () => {
  it('reports JSONata and its fields', () => {
    const definition = { ...machine(task({ Arguments: { a: 1 }, Assign: { b: 2 } })), QueryLanguage: 'JSONata' };

    const findings = jsonPathOnly(definition);

    expect(findings).toEqual([
      { rule: 'jsonPathOnly', message: 'a state machine sets QueryLanguage "JSONata"; use JSONPath' },
      {
        rule: 'jsonPathOnly',
        state: 'Do the work',
        message: '"Do the work" uses Arguments, Assign, which the local executor ignores; use JSONPath fields',
      },
    ]);
  });

  it('reports a nested JSONata state', () => {
    const definition = machine(mapOf(innerTask({ QueryLanguage: 'JSONata' })));

    expect(jsonPathOnly(definition)).toEqual([
      {
        rule: 'jsonPathOnly',
        state: 'Do the inner work',
        message: '"Do the inner work" sets QueryLanguage "JSONata"; use JSONPath',
      },
    ]);
  });

  it('accepts a JSONPath definition', () => {
    expect(jsonPathOnly(machine(task({ ResultSelector: { 'id.$': '$.Payload.id' } })))).toEqual([]);
  });
});

describe('tasksRetryThrottling', () => {
  it('reports a Task without Retry and one whose first retrier retries nothing', () => {
    const definition = machine(task({ Retry: [] }), {
      'Retry nothing': task({ Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 0 }] }),
    });

    const findings = tasksRetryThrottling(definition);

    expect(findings).toEqual([
      { rule: 'tasksRetryThrottling', state: 'Do the work', message: 'Task "Do the work" has no Retry' },
      {
        rule: 'tasksRetryThrottling',
        state: 'Retry nothing',
        message: 'Task "Retry nothing": its first retrier is States.ALL with MaxAttempts 0',
      },
    ]);
  });

  it('accepts a Task that retries', () => {
    expect(tasksRetryThrottling(machine(task()))).toEqual([]);
  });
});

describe('tasksCatchFailures', () => {
  it('reports a nested Task without a States.ALL catcher and one that catches into another States map', () => {
    const definition = machine(
      mapOf(innerTask({ Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'Item failed' }] })),
      {
        'Catch outside': mapOf(
          innerTask({ Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Run failed' }] }),
          'Catch out',
        ),
      },
    );

    const findings = tasksCatchFailures(definition);

    expect(findings).toEqual([
      {
        rule: 'tasksCatchFailures',
        state: 'Do the inner work',
        message: 'Task "Do the inner work" has no Catch for States.ALL',
      },
      {
        rule: 'tasksCatchFailures',
        state: 'Catch out',
        message: 'Task "Catch out": its States.ALL catcher goes to "Run failed", no such state',
      },
    ]);
  });

  it('accepts a Task that catches every error into its own States map', () => {
    expect(tasksCatchFailures(machine(mapOf(innerTask())))).toEqual([]);
  });
});

describe('tasksHaveTimeout', () => {
  it('reports a missing timeout, an overflowing one and a callback Task without heartbeat', () => {
    const definition = machine(omit(task(), 'TimeoutSeconds'), {
      'Wait too long': task({ TimeoutSeconds: 2_147_484 }),
      'Wait for approval': task({ Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken' }),
    });

    const findings = tasksHaveTimeout(definition);

    expect(findings).toEqual([
      { rule: 'tasksHaveTimeout', state: 'Do the work', message: 'Task "Do the work" has no TimeoutSeconds' },
      {
        rule: 'tasksHaveTimeout',
        state: 'Wait too long',
        message: 'Task "Wait too long": TimeoutSeconds 2147484 is above 2147483, which times out at once locally',
      },
      {
        rule: 'tasksHaveTimeout',
        state: 'Wait for approval',
        message: 'Task "Wait for approval" waits for a task token but has no HeartbeatSeconds',
      },
    ]);
  });

  it('accepts timeouts, a timeout path and a callback Task with heartbeat', () => {
    const definition = machine(task({ TimeoutSeconds: 2_147_483 }), {
      'Wait from input': omit(task({ TimeoutSecondsPath: '$.timeout' }), 'TimeoutSeconds'),
      'Wait for approval': task({
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        HeartbeatSeconds: 3600,
      }),
    });

    expect(tasksHaveTimeout(definition)).toEqual([]);
  });
});

describe('noResultPathDollar', () => {
  it('reports ResultPath "$" on a state or a catcher', () => {
    const definition = machine(task({ ResultPath: '$' }), {
      'Catch to dollar': task({ Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$', Next: 'Run failed' }] }),
    });

    const findings = noResultPathDollar(definition);

    expect(findings).toEqual([
      {
        rule: 'noResultPathDollar',
        state: 'Do the work',
        message: '"Do the work" sets ResultPath "$"; leave ResultPath out instead',
      },
      {
        rule: 'noResultPathDollar',
        state: 'Catch to dollar',
        message: '"Catch to dollar" sets ResultPath "$"; leave ResultPath out instead',
      },
    ]);
  });

  it('accepts other result paths', () => {
    expect(noResultPathDollar(machine(task({ ResultPath: null }), { 'Keep it': task({ ResultPath: '$.x' }) }))).toEqual(
      [],
    );
  });
});

describe('uniqueStateNames', () => {
  it('reports a name used by a top-level and a nested state', () => {
    const definition = machine(mapOf(innerTask(), 'Run succeeded'));

    const findings = uniqueStateNames(definition);

    expect(findings).toEqual([
      { rule: 'uniqueStateNames', state: 'Run succeeded', message: '"Run succeeded" names 2 states' },
    ]);
  });

  it('accepts unique names', () => {
    expect(uniqueStateNames(machine(mapOf(innerTask())))).toEqual([]);
  });
});

describe('noLiteralArns', () => {
  it('reports a literal ARN in a nested state', () => {
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:record';
    const definition = machine(mapOf(innerTask({ Parameters: { FunctionName: arn } })));

    const findings = noLiteralArns(definition);

    expect(findings).toEqual([
      {
        rule: 'noLiteralArns',
        state: 'Do the inner work',
        message: `"Do the inner work" holds the literal ARN ${arn}; pass it as a \${Placeholder} substitution`,
      },
    ]);
  });

  it('accepts service integrations and placeholders', () => {
    expect(noLiteralArns(machine(mapOf(innerTask())))).toEqual([]);
  });
});

describe('readableStateNames', () => {
  it('reports names that are not words separated by single spaces, or too long', () => {
    const long = `Record ${'a'.repeat(80)}`;
    const definition = machine(task(), {
      record_run: { Type: 'Succeed' },
      'Record  run': { Type: 'Succeed' },
      [long]: { Type: 'Succeed' },
    });

    const findings = readableStateNames(definition).map(({ state }) => state);

    expect(findings).toEqual(['record_run', 'Record  run', long]);
    expect(readableStateNames(machine(task(), { record: { Type: 'Succeed' } }))).toEqual([
      {
        rule: 'readableStateNames',
        state: 'record',
        message: '"record" must be words separated by single spaces, starting with an uppercase letter',
      },
    ]);
  });

  it('accepts sentences and questions', () => {
    expect(readableStateNames(machine(task(), { 'Did every test stage pass?': { Type: 'Succeed' } }))).toEqual([]);
  });
});

describe('reachableStates', () => {
  it('reports a missing target and an unreachable state', () => {
    const definition = machine(task({ Next: 'Run done' }), { 'Never reached': { Type: 'Succeed' } });

    const findings = reachableStates(definition);

    expect(findings).toEqual([
      { rule: 'reachableStates', state: 'Do the work', message: '"Do the work" goes to "Run done", no such state' },
      { rule: 'reachableStates', state: 'Run succeeded', message: '"Run succeeded" is not reachable from StartAt' },
      { rule: 'reachableStates', state: 'Never reached', message: '"Never reached" is not reachable from StartAt' },
    ]);
  });

  it('accepts states reached through Next, Choices, Default and Catch', () => {
    const definition = machine(task({ Next: 'Is it done?' }), {
      'Is it done?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.done', BooleanEquals: true, Next: 'Run succeeded' }],
        Default: 'Run the items',
      },
      'Run the items': mapOf(innerTask()),
    });

    expect(reachableStates(definition)).toEqual([]);
  });
});
