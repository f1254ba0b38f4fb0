/**
 * Run control's executions (core/runs/run-control.ts ExecutionControl): StartExecution of a redrive, StopExecution of a
 * cancelled run's execution, GetExecutionHistory of a failed one, all pages of it.
 */
import {
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { ExecutionEvent } from '../../core/runs/execution-history';
import type { ExecutionControl } from '../../core/runs/run-control';

export class SfnExecutionControl implements ExecutionControl {
  constructor(private readonly sfn: SFNClient) {}

  async start(request: Parameters<ExecutionControl['start']>[0]): Promise<string> {
    const started = await this.sfn.send(
      new StartExecutionCommand({ ...request, input: JSON.stringify(request.input) }),
    );
    return started.executionArn!;
  }

  /**
   * Stops with no `error` or `cause`: of an execution with encryption enabled, Step Functions encrypts those with the
   * execution role's KMS key, which the caller then needs permission to use; without them it needs none
   * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html). Who cancelled and why
   * are the run record's (`cancelled`).
   */
  async stop(executionArn: string): Promise<void> {
    try {
      await this.sfn.send(new StopExecutionCommand({ executionArn }));
    } catch (error) {
      // A QUEUED run's execution that was never started.
      if (!(error instanceof ExecutionDoesNotExist)) throw error;
    }
  }

  async history(executionArn: string): Promise<readonly ExecutionEvent[] | undefined> {
    const events: ExecutionEvent[] = [];
    let nextToken: string | undefined;
    try {
      do {
        const page = await this.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }));
        events.push(...(page.events ?? []).map(eventOf));
        nextToken = page.nextToken;
      } while (nextToken);
    } catch (error) {
      // Step Functions keeps a closed execution 90 days (API_GetExecutionHistory, "ExecutionDoesNotExist").
      if (error instanceof ExecutionDoesNotExist) return undefined;
      throw error;
    }
    return events;
  }
}

/** The SDK's event (timestamps as Dates) as core reads it (ISO strings). */
function eventOf(event: HistoryEvent): ExecutionEvent {
  return { ...(event as unknown as ExecutionEvent), timestamp: event.timestamp!.toISOString() };
}
