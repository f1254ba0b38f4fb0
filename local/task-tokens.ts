/**
 * Local task tokens, as `.waitForTaskToken` Tasks use them: a token is minted for each read of `$$.Task.Token`,
 * the Task waits until SendTaskSuccess or SendTaskFailure names it, and a token whose Task has ended, or that no
 * Task was given, is refused with the error Step Functions answers (API reference, SendTaskSuccess: InvalidToken,
 * TaskDoesNotExist; InvalidOutput for an output that is not JSON).
 */
import { randomBytes } from 'node:crypto';
import { serviceError, taskError } from './aws-errors';

/** A task token minted for an execution, and the Task waiting on it. */
interface TaskTokenEntry {
  readonly executionArn: string;
  waiter?: { resolve: (output: unknown) => void; reject: (error: Error) => void };
}

export class TaskTokens {
  private readonly minted = new Map<string, TaskTokenEntry>();

  /** @param isRunning whether the execution a token was minted for still runs */
  constructor(private readonly isRunning: (executionArn: string) => boolean) {}

  /** A new token for a Task of the execution (each read of `$$.Task.Token`). */
  mint(executionArn: string): string {
    const token = randomBytes(48).toString('base64url');
    this.minted.set(token, { executionArn });
    return token;
  }

  /** Starts waiting for the token the Task's input carries (TaskContext.awaitTaskToken). */
  await(input: unknown, executionArn: string, signal: AbortSignal) {
    const token = tokenIn(input, (candidate) => this.minted.get(candidate)?.executionArn === executionArn);
    if (!token) throw new Error('the Task waits for a task token but its input carries none ($$.Task.Token)');
    const entry = this.minted.get(token)!;
    const result = new Promise<unknown>((resolve, reject) => {
      entry.waiter = { resolve, reject };
      signal.addEventListener('abort', () => reject(new Error('the execution was stopped')), { once: true });
    });
    result.catch(() => undefined);
    return { result, cancel: () => this.minted.delete(token) };
  }

  /** SendTaskSuccess: resumes the Task waiting on the token with the output (JSON). */
  succeed(taskToken: string, output: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(output);
    } catch {
      throw serviceError('InvalidOutput', 'Invalid Output: not JSON');
    }
    this.settle(taskToken).resolve(parsed);
  }

  /** SendTaskFailure: fails the Task waiting on the token with this error and cause. */
  fail(taskToken: string, error: string, cause: string): void {
    this.settle(taskToken).reject(taskError(error, cause));
  }

  /** SendTaskHeartbeat: the token's Task is still waiting (heartbeats are not timed locally). */
  heartbeat(taskToken: string): void {
    this.waitingTask(taskToken);
  }

  private settle(taskToken: string): NonNullable<TaskTokenEntry['waiter']> {
    const waiter = this.waitingTask(taskToken);
    this.minted.delete(taskToken);
    return waiter;
  }

  private waitingTask(taskToken: string): NonNullable<TaskTokenEntry['waiter']> {
    const entry = this.minted.get(taskToken);
    if (!entry) throw serviceError('InvalidToken', 'Invalid Token: no task was given this token');
    if (!entry.waiter || !this.isRunning(entry.executionArn)) {
      this.minted.delete(taskToken);
      throw serviceError('TaskDoesNotExist', 'Task Does Not Exist: the task waiting on this token has ended');
    }
    return entry.waiter;
  }
}

/** The minted token a Task's input carries, wherever its Parameters put it. */
function tokenIn(value: unknown, isToken: (candidate: string) => boolean): string | undefined {
  if (typeof value === 'string') return isToken(value) ? value : undefined;
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) {
      const found = tokenIn(child, isToken);
      if (found) return found;
    }
  }
  return undefined;
}
