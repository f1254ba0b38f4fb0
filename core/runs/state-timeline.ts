/**
 * What became of each state of an execution, read from its history (core/runs/execution-history.ts): what the
 * console's graph colours and its table lists. Step Functions' console shows the same per step: its status, when it
 * was entered and exited, its input and output (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-view-execution-details.html).
 *
 * The top level of a definition runs one state at a time; a Map runs its iterations inside its own entry and exit.
 * So every state event between a Map's entry and its end belongs to the Map's iterations: they are aggregated on the
 * Map state (iterations started, succeeded, failed), and kept apart by name (`nested`) for the table.
 */
import { isObject, objectsIn, scopeOf, type JsonObject } from '../asl/states';
import type { ExecutionEvent } from './execution-history';

/**
 * - `succeeded`: entered and exited without a failure;
 * - `caught`: a Task failed and its Catch took the execution on (the next state is a Catch's target);
 * - `failed`: the execution failed here (a Fail state, or a state entered and never left before the execution ended);
 * - `running`: entered, not yet left, the execution still going;
 * - `not-reached`: never entered.
 */
export type StateStatus = 'succeeded' | 'caught' | 'failed' | 'running' | 'not-reached';

export interface StateTimeline {
  readonly name: string;
  readonly type: string;
  readonly status: StateStatus;
  /** The last entry's times (ISO 8601), and how long it lasted (until now for a running state: absent). */
  readonly enteredAt?: string;
  readonly exitedAt?: string;
  readonly durationMs?: number;
  /** The last entry's input and output, as the history carries them (JSON text). */
  readonly input?: string;
  readonly output?: string;
  /** The last failure seen in the state (a Task's failed try, the execution's failure at a Fail state). */
  readonly error?: string;
  readonly cause?: string;
  /** How many times the state was entered. */
  readonly entries: number;
  /** A Map state's iterations. */
  readonly iterations?: { readonly started: number; readonly succeeded: number; readonly failed: number };
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

export interface ExecutionTimeline {
  readonly status: ExecutionStatus;
  /** Every top-level state of the definition, in definition order, each with what became of it. */
  readonly states: readonly StateTimeline[];
  /** The states inside Maps, by name, aggregated over all iterations. */
  readonly nested: readonly StateTimeline[];
  readonly startedAt?: string;
  readonly endedAt?: string;
}

interface Entry {
  type: string;
  entries: number;
  enteredAt?: string;
  exitedAt?: string;
  input?: string;
  output?: string;
  error?: string;
  cause?: string;
  open: boolean;
  /** The last thing that happened in the entry was a failed try. */
  lastFailed: boolean;
  failedHere?: boolean;
  iterations?: { started: number; succeeded: number; failed: number };
  /** What the top level entered next after this state was left (to tell a Catch from Next). */
  nextEntered?: string;
}

/** The timeline of an execution of `definition` (parsed ASL) from its history, oldest event first. */
export function stateTimeline(definition: unknown, history: readonly ExecutionEvent[]): ExecutionTimeline {
  const scope = scopeOf(definition);
  const topStates: Readonly<Record<string, JsonObject>> = scope
    ? Object.fromEntries(Object.entries(scope.states).filter((e): e is [string, JsonObject] => isObject(e[1])))
    : {};
  const top = new Map<string, Entry>();
  const nested = new Map<string, Entry>();
  /** The Maps entered and not yet ended: while one is open, state events are its iterations'. */
  const openMaps: string[] = [];
  let lastTop: string | undefined;
  let status: ExecutionStatus = 'RUNNING';
  let startedAt: string | undefined;
  let endedAt: string | undefined;
  let executionFailure: { error?: string; cause?: string } | undefined;

  const entryOf = (table: Map<string, Entry>, name: string, type: string): Entry => {
    let entry = table.get(name);
    if (!entry) table.set(name, (entry = { type, entries: 0, open: false, lastFailed: false }));
    return entry;
  };
  /** The state a Task failure or an exit belongs to: the innermost open one. */
  const current = (): Entry | undefined => {
    if (openMaps.length > 0) {
      const open = [...nested.values()].filter((e) => e.open);
      return open.at(-1) ?? top.get(openMaps.at(-1)!);
    }
    return lastTop ? top.get(lastTop) : undefined;
  };

  for (const event of history) {
    const entered = event.stateEnteredEventDetails;
    const exited = event.stateExitedEventDetails;
    if (event.type === 'ExecutionStarted') startedAt = event.timestamp;
    else if (entered) {
      const type = event.type.replace(/StateEntered$/, '');
      const inMap = openMaps.length > 0;
      const entry = entryOf(inMap ? nested : top, entered.name, type);
      if (!inMap) {
        if (lastTop && top.get(lastTop) && !top.get(lastTop)!.nextEntered) top.get(lastTop)!.nextEntered = entered.name;
        lastTop = entered.name;
      }
      Object.assign(entry, {
        entries: entry.entries + 1,
        enteredAt: event.timestamp,
        exitedAt: undefined,
        input: entered.input,
        output: undefined,
        open: true,
        lastFailed: false,
        nextEntered: undefined,
      });
      if (type === 'Map' && !inMap) {
        openMaps.push(entered.name);
        entry.iterations = { started: 0, succeeded: 0, failed: 0 };
      }
      if (type === 'Fail') entry.failedHere = true;
    } else if (exited) {
      const inMap = openMaps.length > 0 && openMaps.at(-1) !== exited.name;
      const entry = (inMap ? nested : top).get(exited.name);
      if (entry) Object.assign(entry, { exitedAt: event.timestamp, output: exited.output, open: false });
      if (!inMap && openMaps.at(-1) === exited.name) openMaps.pop();
    } else if (event.taskFailedEventDetails) {
      const entry = current();
      if (entry)
        Object.assign(entry, {
          lastFailed: true,
          error: event.taskFailedEventDetails.error,
          cause: event.taskFailedEventDetails.cause,
        });
    } else if (event.type === 'MapStateFailed') {
      const name = openMaps.pop();
      const entry = name ? top.get(name) : undefined;
      if (entry) Object.assign(entry, { lastFailed: true, exitedAt: event.timestamp, open: false, failedHere: true });
    } else if (event.type.startsWith('MapIteration')) {
      const details =
        event.mapIterationStartedEventDetails ??
        event.mapIterationSucceededEventDetails ??
        event.mapIterationFailedEventDetails;
      const iterations = details?.name ? top.get(details.name)?.iterations : undefined;
      if (iterations) {
        if (event.type === 'MapIterationStarted') iterations.started++;
        if (event.type === 'MapIterationSucceeded') iterations.succeeded++;
        if (event.type === 'MapIterationFailed') iterations.failed++;
      }
    } else if (event.type === 'ExecutionRedriven') {
      // A redrive resumes the execution at the state that failed
      // (https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html): what failed it (the state left
      // open, the Fail state) is no longer where the execution stands; what it passed before keeps its status.
      status = 'RUNNING';
      endedAt = undefined;
      executionFailure = undefined;
      for (const [name, entry] of top) if (entry.open || entry.failedHere) top.delete(name);
      openMaps.length = 0;
    } else if (event.type === 'ExecutionSucceeded') {
      status = 'SUCCEEDED';
      endedAt = event.timestamp;
    } else if (
      event.type === 'ExecutionFailed' ||
      event.type === 'ExecutionAborted' ||
      event.type === 'ExecutionTimedOut'
    ) {
      status = event.type === 'ExecutionFailed' ? 'FAILED' : 'ABORTED';
      endedAt = event.timestamp;
      executionFailure = event.executionFailedEventDetails ?? event.executionAbortedEventDetails;
    }
  }

  const ended = status !== 'RUNNING';
  const timelineOf = (name: string, type: string, entry: Entry | undefined, catchTargets: readonly string[]) => {
    if (!entry || entry.entries === 0) return { name, type, status: 'not-reached' as const, entries: 0 };
    const caught =
      !entry.open && entry.lastFailed && entry.nextEntered !== undefined && catchTargets.includes(entry.nextEntered);
    const stateStatus: StateStatus = entry.failedHere
      ? 'failed'
      : entry.open
        ? ended
          ? 'failed'
          : 'running'
        : caught
          ? 'caught'
          : 'succeeded';
    const failure = entry.type === 'Fail' ? executionFailure : { error: entry.error, cause: entry.cause };
    return {
      name,
      type: entry.type,
      status: stateStatus,
      entries: entry.entries,
      ...(entry.enteredAt ? { enteredAt: entry.enteredAt } : {}),
      ...(entry.exitedAt ? { exitedAt: entry.exitedAt } : {}),
      ...(entry.enteredAt && (entry.exitedAt ?? (entry.open && ended ? endedAt : undefined))
        ? { durationMs: Date.parse((entry.exitedAt ?? endedAt)!) - Date.parse(entry.enteredAt) }
        : {}),
      ...(entry.input !== undefined ? { input: entry.input } : {}),
      ...(entry.output !== undefined ? { output: entry.output } : {}),
      ...(failure?.error ? { error: failure.error } : {}),
      ...(failure?.cause ? { cause: failure.cause } : {}),
      ...(entry.iterations ? { iterations: { ...entry.iterations } } : {}),
    } satisfies StateTimeline;
  };

  return {
    status,
    states: Object.entries(topStates).map(([name, state]) =>
      timelineOf(name, String(state.Type), top.get(name), catchTargetsOf(state)),
    ),
    nested: [...nested.entries()].map(([name, entry]) => timelineOf(name, entry.type, entry, [])),
    ...(startedAt ? { startedAt } : {}),
    ...(endedAt ? { endedAt } : {}),
  };
}

/** The states a state's Catch clauses go to. */
function catchTargetsOf(state: JsonObject): string[] {
  return objectsIn(state.Catch)
    .map((clause) => clause.Next)
    .filter((next): next is string => typeof next === 'string');
}
