/**
 * A lint for Amazon States Language definitions: the checks that keep one definition runnable both
 * on AWS and on the local executor (aws-local-stepfunctions 3.0.0). Each rule is a small pure
 * function from a parsed definition to its findings; a rule judges, `lintDefinition` runs them all.
 * Every rule walks every state, nested ones included (Map `ItemProcessor`/`Iterator`, Parallel
 * `Branches`).
 */
import { isObject, objectsIn, scopeOf, scopesOf, statesOf, tasksOf, type JsonObject } from './states';

export interface AslFinding {
  /** The rule's name, as exported from this module (`tasksHaveTimeout`). */
  readonly rule: string;
  /** The state the finding is about; absent for one about the definition itself. */
  readonly state?: string;
  readonly message: string;
}

export type AslRule = (definition: unknown) => AslFinding[];

/** AWS's own cap on a state name; the local executor keys adapters by it too. */
const MAX_STATE_NAME = 80;
/** Above this the local executor's setTimeout overflows and the Task times out at once. */
export const MAX_LOCAL_TIMEOUT_SECONDS = 2_147_483;
const READABLE_NAME = /^[A-Z][A-Za-z0-9'-]*(?: [A-Za-z0-9][A-Za-z0-9'-]*)*\??$/;
const LITERAL_ARN = /arn:aws(?:-[a-z]+)*:/;
const SERVICE_INTEGRATION = /^arn:aws(?:-[a-z]+)*:states:::/;

function errorsOf(rule: JsonObject): unknown[] {
  return Array.isArray(rule.ErrorEquals) ? rule.ErrorEquals : [];
}

/** Every string value under `value`, nested states left to their own entry. */
function stringsIn(value: unknown, skipKeys: readonly string[] = []): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap((item) => stringsIn(item));
  if (!isObject(value)) return [];
  return Object.entries(value)
    .filter(([key]) => !skipKeys.includes(key))
    .flatMap(([, item]) => stringsIn(item));
}

/** The local executor ignores JSONata, `Arguments`/`Output` and variables (`Assign`) without a word. */
export function jsonPathOnly(definition: unknown): AslFinding[] {
  const rule = 'jsonPathOnly';
  const findings: AslFinding[] = [];
  for (const { machine } of scopesOf(definition)) {
    if (machine.QueryLanguage === 'JSONata') {
      findings.push({ rule, message: 'a state machine sets QueryLanguage "JSONata"; use JSONPath' });
    }
  }
  for (const { name, state } of statesOf(definition)) {
    if (state.QueryLanguage === 'JSONata') {
      findings.push({ rule, state: name, message: `"${name}" sets QueryLanguage "JSONata"; use JSONPath` });
    }
    const holders = [state, ...objectsIn(state.Catch), ...objectsIn(state.Choices)];
    const fields = ['Arguments', 'Output', 'Assign', 'Condition'].filter((field) =>
      holders.some((holder) => field in holder),
    );
    if (fields.length > 0) {
      findings.push({
        rule,
        state: name,
        message: `"${name}" uses ${fields.join(', ')}, which the local executor ignores; use JSONPath fields`,
      });
    }
  }
  return findings;
}

/** Every Task retries (throttling and transient service errors above all). */
export function tasksRetryThrottling(definition: unknown): AslFinding[] {
  const rule = 'tasksRetryThrottling';
  return tasksOf(definition).flatMap(({ name, state }): AslFinding[] => {
    const retriers = objectsIn(state.Retry);
    if (retriers.length === 0) return [{ rule, state: name, message: `Task "${name}" has no Retry` }];
    const first = retriers[0]!;
    const errors = errorsOf(first);
    if (errors.length === 1 && errors[0] === 'States.ALL' && first.MaxAttempts === 0) {
      return [{ rule, state: name, message: `Task "${name}": its first retrier is States.ALL with MaxAttempts 0` }];
    }
    return [];
  });
}

/** Every Task catches every error into a state of its own States map. */
export function tasksCatchFailures(definition: unknown): AslFinding[] {
  const rule = 'tasksCatchFailures';
  return tasksOf(definition).flatMap(({ name, state, scope }): AslFinding[] => {
    const catchAll = objectsIn(state.Catch).find((catcher) => errorsOf(catcher).includes('States.ALL'));
    if (!catchAll) return [{ rule, state: name, message: `Task "${name}" has no Catch for States.ALL` }];
    const next = catchAll.Next;
    if (typeof next !== 'string' || !isObject(scope.states[next])) {
      return [
        {
          rule,
          state: name,
          message: `Task "${name}": its States.ALL catcher goes to "${String(next)}", no such state`,
        },
      ];
    }
    return [];
  });
}

/** Every Task has a timeout (60 s by default locally, none on AWS); a callback Task a heartbeat too. */
export function tasksHaveTimeout(definition: unknown): AslFinding[] {
  const rule = 'tasksHaveTimeout';
  return tasksOf(definition).flatMap(({ name, state }) => {
    const findings: AslFinding[] = [];
    if (!('TimeoutSeconds' in state) && !('TimeoutSecondsPath' in state)) {
      findings.push({ rule, state: name, message: `Task "${name}" has no TimeoutSeconds` });
    }
    if (typeof state.TimeoutSeconds === 'number' && state.TimeoutSeconds > MAX_LOCAL_TIMEOUT_SECONDS) {
      findings.push({
        rule,
        state: name,
        message: `Task "${name}": TimeoutSeconds ${state.TimeoutSeconds} is above ${MAX_LOCAL_TIMEOUT_SECONDS}, which times out at once locally`,
      });
    }
    const callback = typeof state.Resource === 'string' && state.Resource.endsWith('.waitForTaskToken');
    if (callback && !('HeartbeatSeconds' in state) && !('HeartbeatSecondsPath' in state)) {
      findings.push({
        rule,
        state: name,
        message: `Task "${name}" waits for a task token but has no HeartbeatSeconds`,
      });
    }
    return findings;
  });
}

/** `ResultPath: "$"` nests the result under a key "$" locally; leave ResultPath out instead. */
export function noResultPathDollar(definition: unknown): AslFinding[] {
  const rule = 'noResultPathDollar';
  return statesOf(definition)
    .filter(({ state }) => [state, ...objectsIn(state.Catch)].some((holder) => holder.ResultPath === '$'))
    .map(({ name }) => ({ rule, state: name, message: `"${name}" sets ResultPath "$"; leave ResultPath out instead` }));
}

/** State names are unique across the whole definition: local adapters are keyed by state name. */
export function uniqueStateNames(definition: unknown): AslFinding[] {
  const rule = 'uniqueStateNames';
  const counts = new Map<string, number>();
  for (const { name } of statesOf(definition)) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts]
    .filter(([, count]) => count > 1)
    .map(([name, count]) => ({ rule, state: name, message: `"${name}" names ${count} states` }));
}

/** ARNs come in through `${Placeholder}` substitutions; only service-integration resources are literal. */
export function noLiteralArns(definition: unknown): AslFinding[] {
  const rule = 'noLiteralArns';
  const isLiteralArn = (text: string): boolean => LITERAL_ARN.test(text) && !SERVICE_INTEGRATION.test(text);
  const findings: AslFinding[] = [];
  if (isObject(definition) && stringsIn(definition, ['States']).some(isLiteralArn)) {
    findings.push({ rule, message: 'the definition holds a literal ARN; pass it as a ${Placeholder} substitution' });
  }
  for (const { name, state } of statesOf(definition)) {
    const arns = stringsIn(state, ['ItemProcessor', 'Iterator', 'Branches']).filter(isLiteralArn);
    if (arns.length > 0) {
      findings.push({
        rule,
        state: name,
        message: `"${name}" holds the literal ARN ${arns.join(', ')}; pass it as a \${Placeholder} substitution`,
      });
    }
  }
  return findings;
}

/** State names read as a sentence: "Record run started", "Did every test stage pass?". */
export function readableStateNames(definition: unknown): AslFinding[] {
  const rule = 'readableStateNames';
  return statesOf(definition).flatMap(({ name }): AslFinding[] => {
    if (name.length > MAX_STATE_NAME) {
      return [{ rule, state: name, message: `"${name}" is ${name.length} characters long, above ${MAX_STATE_NAME}` }];
    }
    if (!READABLE_NAME.test(name)) {
      return [
        {
          rule,
          state: name,
          message: `"${name}" must be words separated by single spaces, starting with an uppercase letter`,
        },
      ];
    }
    return [];
  });
}

function transitionsOf(state: JsonObject): unknown[] {
  return [
    state.Next,
    state.Default,
    ...objectsIn(state.Choices).map((choice) => choice.Next),
    ...objectsIn(state.Catch).map((catcher) => catcher.Next),
  ].filter((target) => target !== undefined);
}

/** Every transition lands on a state of its own States map, and every state is reached from StartAt. */
export function reachableStates(definition: unknown): AslFinding[] {
  const rule = 'reachableStates';
  const findings: AslFinding[] = [];
  for (const { machine, states } of scopesOf(definition)) {
    const exists = (target: unknown): target is string => typeof target === 'string' && isObject(states[target]);
    for (const [name, state] of Object.entries(states)) {
      if (!isObject(state)) continue;
      for (const target of transitionsOf(state)) {
        if (!exists(target)) {
          findings.push({ rule, state: name, message: `"${name}" goes to "${String(target)}", no such state` });
        }
      }
    }
    if (!exists(machine.StartAt)) {
      findings.push({ rule, message: `StartAt "${String(machine.StartAt)}" is no state of its States map` });
      continue;
    }
    const reached = new Set<string>([machine.StartAt]);
    const pending = [machine.StartAt];
    for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
      for (const target of transitionsOf(states[current] as JsonObject)) {
        if (exists(target) && !reached.has(target)) {
          reached.add(target);
          pending.push(target);
        }
      }
    }
    for (const name of Object.keys(states)) {
      if (!reached.has(name)) findings.push({ rule, state: name, message: `"${name}" is not reachable from StartAt` });
    }
  }
  return findings;
}

export const ASL_RULES: Readonly<Record<string, AslRule>> = {
  jsonPathOnly,
  tasksRetryThrottling,
  tasksCatchFailures,
  tasksHaveTimeout,
  noResultPathDollar,
  uniqueStateNames,
  noLiteralArns,
  readableStateNames,
  reachableStates,
};

/** Runs every rule; a definition with no States, or a rule that throws, is a finding, never a crash. */
export function lintDefinition(definition: unknown): AslFinding[] {
  if (!scopeOf(definition)) return [{ rule: 'definition', message: 'the definition is not an object with States' }];
  return Object.entries(ASL_RULES).flatMap(([rule, check]) => {
    try {
      return check(definition);
    } catch (error) {
      return [{ rule, message: `the rule failed: ${error instanceof Error ? error.message : String(error)}` }];
    }
  });
}
