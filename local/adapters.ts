/**
 * Task adapters: how local mode runs each `Resource` the ASL uses, returning what the AWS service
 * integration returns and failing with the error name and Cause that Step Functions would report.
 */
import type { Build } from '@aws-sdk/client-codebuild';
import type { LocalCodeBuild, StartBuildParameters } from './codebuild';
import type { InvocationResult } from './functions/function-config';
import type { TaskAdapter } from './executions';
import { taskError } from './aws-errors';

/** A platform function's handler, run in local mode's own process. */
export type LocalFunction = (event: unknown) => Promise<unknown>;

/**
 * A synchronous (RequestResponse) invocation of a function run in process, answered as Lambda answers
 * Invoke and as local Lambda answers for a deploy target's function (its runner.cjs): the payload
 * crosses a JSON boundary both ways (Dates become strings, undefined goes); a thrown error is a function
 * error — status 200, `FunctionError` `Unhandled`, the error as the Node.js runtime writes it,
 * `{ errorType, errorMessage, trace }` ("Invoke", Lambda API reference,
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html; "AWS Lambda function errors in
 * Node.js", https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html).
 */
export async function invokeInProcess(fn: LocalFunction, payload: unknown): Promise<InvocationResult> {
  try {
    const result = await fn(roundTrip(payload ?? {}));
    return { statusCode: 200, executedVersion: '$LATEST', payload: roundTrip(result ?? null) };
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    return {
      statusCode: 200,
      executedVersion: '$LATEST',
      functionError: 'Unhandled',
      payload: { errorType: failure.name, errorMessage: failure.message, trace: failure.stack?.split('\n') ?? [] },
    };
  }
}

/** `lambda:invoke`: calls the function's real handler in process; its Payload is the result. */
export function lambdaInvokeAdapter(functions: ReadonlyMap<string, LocalFunction>): TaskAdapter {
  return async (input) => {
    const { FunctionName, Payload } = input as { FunctionName: string; Payload?: unknown };
    const fn = functions.get(FunctionName);
    if (!fn) throw taskError('Lambda.ResourceNotFoundException', `Function not found: ${FunctionName}`);
    const result = await invokeInProcess(fn, Payload);
    // A function error: Step Functions names it by the function's errorType, its Cause the error's JSON.
    if (result.functionError)
      throw taskError((result.payload as { errorType: string }).errorType, JSON.stringify(result.payload));
    return { ExecutedVersion: result.executedVersion, Payload: result.payload, StatusCode: result.statusCode };
  };
}

/**
 * `lambda:invoke.waitForTaskToken`: starts waiting for the token the Payload carries, invokes the
 * function as `lambda:invoke` does, then waits until SendTaskSuccess or SendTaskFailure names the
 * token (the local endpoint serves both). The function's own result is not the Task's.
 */
export function lambdaInvokeWaitForTaskTokenAdapter(functions: ReadonlyMap<string, LocalFunction>): TaskAdapter {
  const invoke = lambdaInvokeAdapter(functions);
  return async (input, context) => {
    const callback = context.awaitTaskToken(input);
    try {
      await invoke(input, context);
    } catch (error) {
      callback.cancel();
      throw error;
    }
    return callback.result;
  };
}

/**
 * `codebuild:startBuild.sync`: runs the build to its end, its start in the history as StartBuild's answer
 * (TaskSubmitted); a build that did not succeed fails the task.
 */
export function codeBuildSyncAdapter(codebuild: LocalCodeBuild): TaskAdapter {
  return async (input, { signal, submitted }) => {
    const build = await codebuild.runBuild(input as StartBuildParameters, signal, (started) =>
      submitted({ Build: toStatesShape(started) }),
    );
    const output = { Build: toStatesShape(build) };
    if (build.buildStatus !== 'SUCCEEDED') throw taskError('States.TaskFailed', JSON.stringify(output));
    return output;
  };
}

/** Step Functions hands over service responses with PascalCase keys and epoch-millisecond dates. */
export function toStatesShape(value: Build | unknown): unknown {
  if (value instanceof Date) return value.getTime();
  if (Array.isArray(value)) return value.map(toStatesShape);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => [key.charAt(0).toUpperCase() + key.slice(1), toStatesShape(v)]),
    );
  }
  return value;
}

function roundTrip(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}
