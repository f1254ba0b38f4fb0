/**
 * Where a FAILED run resumes (`stepline redrive`), read from its failed execution's history (core/runs/execution-history.ts,
 * the same events on AWS and locally).
 *
 * Why not Step Functions' own RedriveExecution: it "continues the failed execution from the unsuccessful step and
 * uses the same input", and "preserves the results and execution history of the successful steps", which are not
 * rerun (https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html,
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_RedriveExecution.html). The pipeline catches
 * every Task's failure into a recording path that ends at the `Run failed` Fail state: the caught Task and each
 * recording step succeeded as far as the execution is concerned, so its unsuccessful step is `Run failed`, and a
 * redrive would run that Fail state again and fail again. It also reuses the execution's definition, so a pipeline
 * whose definition changed since could not be redriven into the new one. stepline's redrive is therefore a new
 * execution of the same state machine, named `<run>-redrive-<n>`, whose input is the resumed state's input from the
 * failed execution plus `"redrive": {"from": <state>}`; the definition's first state (`Is this a redrive?`) sends it
 * there.
 */
import type { ExecutionEvent } from './execution-history';
import { NotResumableError } from './errors';

/**
 * The top-level state whose failure sent the run to its failure path → the state a redrive resumes at. The
 * definition's `Resume at the failed state` Choice has exactly one branch per resume state (a test checks both ways).
 * - Build: resumes at `Record build started`, so the build stage's record moves PENDING → IN_PROGRESS again (the
 *   redrive resets it from FAILED to PENDING) before the build runs.
 * - Run test stages: resumes there with only the test stages that did not succeed as the Map's items.
 * - Deploy to staging: the release to staging is repeated (each of its steps is safe to repeat).
 */
export const RESUME_POINTS: Readonly<Record<string, string>> = {
  Build: 'Record build started',
  'Run test stages': 'Run test stages',
  'Deploy to staging': 'Deploy to staging',
};

/** The states a redrive can resume at: the targets of the definition's `Resume at the failed state`. */
export function resumeStates(): readonly string[] {
  return [...new Set(Object.values(RESUME_POINTS))];
}

/**
 * The states that begin the pipeline's failure path: where a caught failure or a failed check goes. The state
 * entered before the first of them is the one that failed.
 */
const FAILURE_PATH = new Set([
  'Record build failure',
  'Test stages failed',
  'Record run failed',
  'Roll back',
  'Deployment refused',
  'Record run rejected',
  'Record run expired',
]);

/** Why a failed state cannot be resumed, for the states stepline knows it cannot resume. */
const NOT_RESUMABLE: Readonly<Record<string, string>> = {
  'Assess release risk':
    'it failed at its release gate ("Assess release risk"); `stepline rerun` runs the commit again',
  'Wait for release approval':
    'its release gate ended it ("Wait for release approval"): a gate is decided once; `stepline rerun` asks again',
  'Start deployment':
    'its release was refused or rolled back ("Start deployment"): that version is out; `stepline rerun` releases again',
  'Release new version': 'its release was rolled back ("Release new version"); `stepline rerun` releases again',
  'Shift traffic': 'its release was rolled back ("Shift traffic"); `stepline rerun` releases again',
  'Promote new version': 'its release was rolled back ("Promote new version"); `stepline rerun` releases again',
  'Confirm release': 'its release was rolled back ("Confirm release"); `stepline rerun` releases again',
};

/** Where and with what a redrive resumes. */
export interface ResumePoint {
  /** The state that failed. */
  readonly failedState: string;
  /** The state the redrive execution starts at. */
  readonly resumeAt: string;
  /** That state's input in the failed execution (an object). */
  readonly input: Record<string, unknown>;
}

/**
 * The state that failed in `history` (a failed execution's events, oldest first) and where a redrive resumes: the
 * last top-level Task or Map state entered before the failure path began. Throws NotResumableError, saying why, when
 * the history shows no failure a redrive can resume.
 */
export function resumePointOf(runId: string, history: readonly ExecutionEvent[]): ResumePoint {
  const entered = topLevelStatesEntered(history);
  const failurePath = entered.findIndex((state) => FAILURE_PATH.has(state.name));
  if (failurePath < 0) {
    const ended = history.find((e) => e.type === 'ExecutionAborted' || e.type === 'ExecutionTimedOut');
    throw new NotResumableError(
      runId,
      ended
        ? `its execution was ${ended.type === 'ExecutionAborted' ? 'stopped' : 'timed out'} at "${entered.at(-1)?.name ?? 'its start'}", not failed at a step`
        : 'its execution never reached its failure path',
    );
  }
  const failed = entered
    .slice(0, failurePath)
    .reverse()
    .find((state) => state.type === 'Task' || state.type === 'Map');
  if (!failed) throw new NotResumableError(runId, 'no step failed before its failure path');
  const resumeAt = RESUME_POINTS[failed.name];
  if (!resumeAt)
    throw new NotResumableError(
      runId,
      NOT_RESUMABLE[failed.name] ??
        `it failed at "${failed.name}", a step stepline does not resume (resumable: ${Object.keys(RESUME_POINTS).join(', ')})`,
    );
  const resumed = entered.slice(0, failurePath).findLast((state) => state.name === resumeAt);
  if (!resumed?.input) throw new NotResumableError(runId, `the history has no input of "${resumeAt}"`);
  return { failedState: failed.name, resumeAt, input: JSON.parse(resumed.input) as Record<string, unknown> };
}

interface EnteredState {
  readonly name: string;
  /** `Task`, `Map`, `Choice`, `Pass`, … (from the event's type). */
  readonly type: string;
  readonly input?: string;
}

/**
 * The top-level states entered, in order: states inside a Map's iterations (between `MapIterationStarted` and
 * the iteration's end) are left out.
 */
function topLevelStatesEntered(history: readonly ExecutionEvent[]): EnteredState[] {
  const entered: EnteredState[] = [];
  let openIterations = 0;
  for (const event of history) {
    if (event.type === 'MapIterationStarted') openIterations++;
    else if (/^MapIteration(Succeeded|Failed|Aborted)$/.test(event.type))
      openIterations = Math.max(0, openIterations - 1);
    // The Map's own end (`MapStateExited`, or on AWS `MapStateSucceeded | Failed | Aborted`): back at the top level.
    else if (/^MapState(Exited|Succeeded|Failed|Aborted)$/.test(event.type)) openIterations = 0;
    else if (event.type.endsWith('StateEntered') && event.stateEnteredEventDetails && openIterations === 0)
      entered.push({
        name: event.stateEnteredEventDetails.name,
        type: event.type.slice(0, -'StateEntered'.length),
        input: event.stateEnteredEventDetails.input,
      });
  }
  return entered;
}

/** Step Functions' execution names: 1–80 of [0-9A-Za-z_-] (API_StartExecution, `name`). */
const MAX_EXECUTION_NAME = 80;
const REDRIVE_SUFFIX = /-(?:redrive-|r)(\d+)$/;

/**
 * The name of a run's `n`th redrive execution: `<run>-redrive-<n>`, or `<run>-r<n>` when that does not fit in 80
 * characters. Both map back to the run (runIdOfExecution): a run id ends in its event's 8 hex digits, never in
 * either suffix. Undefined when even the short form does not fit.
 */
export function redriveExecutionName(runId: string, n: number): string | undefined {
  return [`${runId}-redrive-${n}`, `${runId}-r${n}`].find((name) => name.length <= MAX_EXECUTION_NAME);
}

/** The run an execution belongs to, from its name: a redrive execution's run, or the run of that name. */
export function runIdOfExecution(name: string): string {
  return name.replace(REDRIVE_SUFFIX, '');
}

/** The input of a redrive execution: the resumed state's input, the test stages narrowed, and where to resume. */
export function redriveInput(
  point: ResumePoint,
  stagesToRunAgain: (tests: readonly { name: string }[]) => readonly unknown[],
): Record<string, unknown> {
  const { redrive: _earlier, ...input } = point.input;
  const stages = input.stages as { tests?: readonly { name: string }[] } | undefined;
  const narrowed =
    point.resumeAt === 'Run test stages' && stages?.tests
      ? { stages: { ...stages, tests: stagesToRunAgain(stages.tests) } }
      : {};
  return { ...input, ...narrowed, redrive: { from: point.resumeAt } };
}
