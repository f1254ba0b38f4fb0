/**
 * An execution's history as Step Functions' GetExecutionHistory answers it, in the fields stepline reads: what a
 * console draws (each state's status, times, input and output) and where a redrive resumes. Local mode keeps the
 * same events for its executions (local/execution-history.ts), so one reader serves both runtimes.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html
 */

/** One history event; `type` is a `HistoryEventType` (`TaskStateEntered`, `TaskFailed`, `MapIterationStarted`, …). */
export interface ExecutionEvent {
  readonly id: number;
  readonly previousEventId?: number;
  /** ISO 8601. */
  readonly timestamp: string;
  readonly type: string;
  readonly executionStartedEventDetails?: { readonly input?: string };
  readonly executionSucceededEventDetails?: { readonly output?: string };
  readonly executionFailedEventDetails?: FailureDetails;
  readonly executionAbortedEventDetails?: FailureDetails;
  /** Every `<Type>StateEntered`: the state's name and its input (JSON). */
  readonly stateEnteredEventDetails?: { readonly name: string; readonly input?: string };
  /** Every `<Type>StateExited`: the state's name and its output (JSON). */
  readonly stateExitedEventDetails?: { readonly name: string; readonly output?: string };
  /**
   * A Task's service answered that it started the work (`.sync` integrations): `output` is its answer as JSON, for
   * `codebuild:startBuild.sync` StartBuild's `{"Build":{…}}`: the build's id and log while it runs.
   * https://docs.aws.amazon.com/step-functions/latest/apireference/API_TaskSubmittedEventDetails.html
   */
  readonly taskSubmittedEventDetails?: {
    readonly resourceType: string;
    readonly resource: string;
    readonly output?: string;
  };
  /** A Task's failed try (caught, retried or fatal). */
  readonly taskFailedEventDetails?: FailureDetails & { readonly resourceType?: string; readonly resource?: string };
  /** `MapIterationStarted | Succeeded | Failed`: the Map state's name and the iteration's index. */
  readonly mapIterationStartedEventDetails?: MapIterationDetails;
  readonly mapIterationSucceededEventDetails?: MapIterationDetails;
  readonly mapIterationFailedEventDetails?: MapIterationDetails;
}

export interface FailureDetails {
  readonly error?: string;
  readonly cause?: string;
}

export interface MapIterationDetails {
  readonly name?: string;
  readonly index?: number;
}
