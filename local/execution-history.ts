/**
 * A local execution's history in Step Functions' own event types (core/runs/execution-history.ts), made from
 * aws-local-stepfunctions' event log: `StateEntered` of a Task becomes `TaskStateEntered`, a failed Task try
 * `TaskFailed`, the execution's end `ExecutionSucceeded | Failed | Aborted`, as GetExecutionHistory names them
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html). The library does not
 * report a Task's scheduling and start (`TaskScheduled`, `TaskStarted`), so local histories have no such events.
 */
import type { ExecutionEvent } from '../core/runs/execution-history';

/** aws-local-stepfunctions' event, in the fields read here. */
export interface LibraryEvent {
  readonly type: string;
  readonly timestamp: number;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly Error?: string;
  readonly Cause?: unknown;
  readonly index?: number;
  readonly state?: {
    readonly name: string;
    readonly type: string;
    readonly input?: unknown;
    readonly output?: unknown;
  };
  readonly parentState?: { readonly name: string };
}

const json = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value));
const text = (value: unknown) =>
  value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value);

/** Appends the library's event to `history` as Step Functions would record it; events it has no name for are left out. */
export function recordHistoryEvent(history: ExecutionEvent[], event: LibraryEvent): void {
  const details = eventDetails(event);
  if (details) append(history, new Date(event.timestamp), details);
}

/**
 * A `.sync` Task's service started its work (the build runs): `TaskSubmitted` with the service's answer, as Step
 * Functions records it between a Task's start and its end. `resource` is the Task's Resource ARN.
 */
export function recordTaskSubmitted(history: ExecutionEvent[], resource: string, output: unknown, at: Date): void {
  // arn:aws:states:::codebuild:startBuild.sync → resourceType codebuild, resource startBuild.sync.
  const [resourceType = '', action = ''] = resource.split(':').slice(-2);
  append(history, at, {
    type: 'TaskSubmitted',
    taskSubmittedEventDetails: { resourceType, resource: action, output: json(output) },
  });
}

/** The execution's end, once: a stop aborts an execution before the library's log tells its end. */
export function recordExecutionEnd(
  history: ExecutionEvent[],
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED',
  at: Date,
  fields: { output?: string; error?: string; cause?: string },
): void {
  if (history.some((event) => event.type.startsWith('Execution') && event.type !== 'ExecutionStarted')) return;
  const failure = { error: fields.error, cause: fields.cause };
  append(
    history,
    at,
    status === 'SUCCEEDED'
      ? { type: 'ExecutionSucceeded', executionSucceededEventDetails: { output: fields.output } }
      : status === 'FAILED'
        ? { type: 'ExecutionFailed', executionFailedEventDetails: failure }
        : { type: 'ExecutionAborted', executionAbortedEventDetails: failure },
  );
}

function append(
  history: ExecutionEvent[],
  at: Date,
  details: Omit<ExecutionEvent, 'id' | 'previousEventId' | 'timestamp'>,
): void {
  const id = history.length + 1;
  history.push({ id, ...(id > 1 ? { previousEventId: id - 1 } : {}), timestamp: at.toISOString(), ...details });
}

function eventDetails(event: LibraryEvent): Omit<ExecutionEvent, 'id' | 'previousEventId' | 'timestamp'> | undefined {
  const failure = { error: event.Error, cause: text(event.Cause) };
  const iteration = { name: event.parentState?.name, index: event.index };
  switch (event.type) {
    case 'ExecutionStarted':
      return { type: event.type, executionStartedEventDetails: { input: json(event.input) } };
    case 'ExecutionSucceeded':
      return { type: event.type, executionSucceededEventDetails: { output: json(event.output) } };
    case 'ExecutionFailed':
      return { type: event.type, executionFailedEventDetails: failure };
    case 'ExecutionAborted':
    case 'ExecutionTimeout':
      return { type: 'ExecutionAborted', executionAbortedEventDetails: failure };
    case 'MapIterationStarted':
      return { type: event.type, mapIterationStartedEventDetails: iteration };
    case 'MapIterationSucceeded':
      return { type: event.type, mapIterationSucceededEventDetails: iteration };
    case 'MapIterationFailed':
      return { type: event.type, mapIterationFailedEventDetails: iteration };
    case 'StateEntered':
      return {
        type: `${event.state!.type}StateEntered`,
        stateEnteredEventDetails: { name: event.state!.name, input: json(event.state!.input) },
      };
    case 'StateExited':
      // A Fail state is never exited: the execution fails there (ExecutionFailed follows).
      if (event.state!.type === 'Fail') return undefined;
      return {
        type: `${event.state!.type}StateExited`,
        stateExitedEventDetails: { name: event.state!.name, output: json(event.state!.output) },
      };
    case 'StateFailed':
      if (event.state!.type === 'Task') return { type: 'TaskFailed', taskFailedEventDetails: failure };
      if (event.state!.type === 'Map' || event.state!.type === 'Parallel')
        return { type: `${event.state!.type}StateFailed` };
      return undefined;
    default:
      // StateRetried and StateCaught have no event of their own in Step Functions' history.
      return undefined;
  }
}
