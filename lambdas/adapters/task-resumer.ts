/**
 * Resumes executions waiting on a task token: SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat.
 * A token whose task has ended already (it timed out, the execution was stopped, or another caller
 * resumed it) is reported as 'ended', not thrown: the gate has nothing left to tell it.
 */
import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { TaskResumer } from '../../core/ports';

/** The errors Step Functions answers for a token whose task is no longer waiting. */
const TASK_ENDED = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export class SfnTaskResumer implements TaskResumer {
  constructor(private readonly sfn: SFNClient) {}

  succeed(taskToken: string, output: Record<string, unknown>): Promise<'resumed' | 'ended'> {
    return this.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
  }

  fail(taskToken: string, error: string, cause: string): Promise<'resumed' | 'ended'> {
    // Step Functions caps error at 256 and cause at 32,768 characters.
    return this.send(
      new SendTaskFailureCommand({ taskToken, error: error.slice(0, 256), cause: cause.slice(0, 32_768) }),
    );
  }

  heartbeat(taskToken: string): Promise<'resumed' | 'ended'> {
    return this.send(new SendTaskHeartbeatCommand({ taskToken }));
  }

  private async send(
    command: SendTaskSuccessCommand | SendTaskFailureCommand | SendTaskHeartbeatCommand,
  ): Promise<'resumed' | 'ended'> {
    try {
      await this.sfn.send(command as SendTaskSuccessCommand);
      return 'resumed';
    } catch (error) {
      if (TASK_ENDED.has((error as Error)?.name)) return 'ended';
      throw error;
    }
  }
}
