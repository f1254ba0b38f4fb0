/**
 * Walking Amazon States Language definitions: every state, nested ones included (Map
 * `ItemProcessor`/`Iterator`, Parallel `Branches`). Used by the ASL lint, by the CDK app to derive a
 * state machine's grants from its Task resources, and by local mode to bind each Task to an adapter.
 */

export type JsonObject = Readonly<Record<string, unknown>>;

/**
 * The Task resources stepline's state machines use: the one table the CDK app keys its grants by
 * (lib/pipeline-state-machine.ts) and local mode its adapters (local/runtime.ts).
 */
export const TASK_RESOURCES = {
  lambdaInvoke: 'arn:aws:states:::lambda:invoke',
  /** The release gate's wait: invokes the function with `$$.Task.Token`, then waits for a callback. */
  lambdaInvokeWaitForTaskToken: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
  codeBuildSync: 'arn:aws:states:::codebuild:startBuild.sync',
} as const;

/** One `StartAt` + `States` scope: the definition itself, a Map's processor or a Parallel branch. */
export interface Scope {
  readonly machine: JsonObject;
  readonly states: JsonObject;
}

export interface StateEntry {
  readonly name: string;
  readonly state: JsonObject;
  /** The States map the state belongs to: its transitions must stay inside it. */
  readonly scope: Scope;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectsIn(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

export function scopeOf(machine: unknown): Scope | undefined {
  return isObject(machine) && isObject(machine.States) ? { machine, states: machine.States } : undefined;
}

/** The scopes nested directly in one state. */
function childScopes(state: JsonObject): Scope[] {
  const machines = state.Type === 'Parallel' ? objectsIn(state.Branches) : [state.ItemProcessor, state.Iterator];
  return machines.map(scopeOf).filter((scope): scope is Scope => scope !== undefined);
}

/** Every scope of the definition, outermost first. */
export function scopesOf(definition: unknown): Scope[] {
  const scopes: Scope[] = [];
  const visit = (scope: Scope | undefined): void => {
    if (!scope) return;
    scopes.push(scope);
    for (const state of Object.values(scope.states)) if (isObject(state)) childScopes(state).forEach(visit);
  };
  visit(scopeOf(definition));
  return scopes;
}

/** Every state of the definition, nested ones included. */
export function statesOf(definition: unknown): StateEntry[] {
  return scopesOf(definition).flatMap((scope) =>
    Object.entries(scope.states)
      .filter((entry): entry is [string, JsonObject] => isObject(entry[1]))
      .map(([name, state]) => ({ name, state, scope })),
  );
}

export function tasksOf(definition: unknown): StateEntry[] {
  return statesOf(definition).filter(({ state }) => state.Type === 'Task');
}

/** A Task state and the service integration it calls. */
export interface TaskResource {
  readonly state: string;
  readonly resource: string;
}

/** Every Task of the definition with its `Resource` (empty when it has none). */
export function taskResources(definition: unknown): TaskResource[] {
  return tasksOf(definition).map(({ name, state }) => ({
    state: name,
    resource: typeof state.Resource === 'string' ? state.Resource : '',
  }));
}
