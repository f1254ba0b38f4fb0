/**
 * What local mode changes in an ASL definition before its executor runs it, each for a reason written where
 * it is done: a Task's `TimeoutSecondsPath` the executor cannot read (withStateInputTimeouts), and under a
 * time scale every Wait state that waits a number of seconds (withScaledWaits and its adapter).
 */
import { statesOf } from '../core/asl/states';
import { MAX_LOCAL_TIMEOUT_SECONDS } from '../core/asl/lint';
import { taskError } from './aws-errors';
import type { TaskAdapter } from './executions';
import type { TimeScale } from './time-scale';

/**
 * Step Functions reads a Task's `TimeoutSecondsPath` from the state's input; the local executor reads
 * it from the input after Parameters, where the path points to nothing (States.Runtime). Locally such
 * a Task gets the longest timeout the executor can keep instead: the gate it guards is expired from
 * the store and the clock by the sweep, in both runtimes.
 */
export function withStateInputTimeouts(definition: unknown): void {
  for (const { state } of statesOf(definition)) {
    if (state.Type !== 'Task' || typeof state.TimeoutSecondsPath !== 'string') continue;
    const task = state as Record<string, unknown>;
    delete task.TimeoutSecondsPath;
    task.TimeoutSeconds = MAX_LOCAL_TIMEOUT_SECONDS;
  }
}

/** The Resource of a Wait state that local mode shortens: a Task only local mode's executor runs. */
export const SCALED_WAIT_RESOURCE = 'stepline:local:scaled-wait';
/** The longest a Wait state may wait (Wait state, Amazon States Language). */
const MAX_WAIT_SECONDS = 99_999_999;

/**
 * Under a time scale, every Wait state that waits a number of seconds (`Seconds` or `SecondsPath`) is found
 * by its type, never its name, and runs as a Task of the scaled-wait adapter: Parameters hand it the state's
 * effective input and its seconds (the executor resolves SecondsPath against that input, as the Wait would),
 * and it passes that input on after the shortened wait, so the state's output is the Wait's ("Wait",
 * https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-wait-state.html: InputPath
 * and OutputPath apply, nothing else changes the input). Why a Task: the executor's own override
 * (waitTimeOverrides) is a fixed time by state name, so it cannot shorten a SecondsPath that the state's
 * input decides. A Wait until a `Timestamp[Path]` is left as it is: the clock is real, and an instant is
 * not a length to shorten.
 */
export function withScaledWaits(definition: unknown): void {
  for (const { state } of statesOf(definition)) {
    if (state.Type !== 'Wait') continue;
    const { Seconds, SecondsPath, ...common } = state as Record<string, unknown>;
    const seconds =
      Seconds !== undefined
        ? { seconds: Seconds }
        : SecondsPath !== undefined
          ? { 'seconds.$': SecondsPath }
          : undefined;
    if (!seconds) continue;
    for (const key of Object.keys(state)) delete (state as Record<string, unknown>)[key];
    Object.assign(state, {
      ...common,
      Type: 'Task',
      Resource: SCALED_WAIT_RESOURCE,
      Parameters: { 'input.$': '$', ...seconds },
      TimeoutSeconds: MAX_LOCAL_TIMEOUT_SECONDS,
    });
  }
}

/** Runs a Wait state shortened by the time scale (see withScaledWaits): waits, then passes its input on. */
export function scaledWaitAdapter(timeScale: TimeScale): TaskAdapter {
  return async (input, { signal }) => {
    const { input: passed, seconds } = input as { input: unknown; seconds: unknown };
    // "You must specify time as a positive, integer value from 0 up to 99999999" (Wait state, ASL).
    if (!(Number.isInteger(seconds) && (seconds as number) >= 0 && (seconds as number) <= MAX_WAIT_SECONDS)) {
      throw taskError(
        'States.Runtime',
        `a Wait state's SecondsPath must give a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}, got ${JSON.stringify(seconds)}`,
      );
    }
    await sleep(timeScale.wait((seconds as number) * 1000), signal);
    return passed;
  };
}

/** Resolves after `ms`, or at once when the signal aborts (the execution was stopped). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('the execution was stopped'));
    const stopped = () => {
      clearTimeout(timer);
      reject(new Error('the execution was stopped'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stopped);
      resolve();
    }, ms);
    signal.addEventListener('abort', stopped, { once: true });
  });
}
