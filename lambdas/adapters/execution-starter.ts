import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { ExecutionStarter } from '../../core/ports';

export class SfnExecutionStarter implements ExecutionStarter {
  constructor(private readonly sfn: SFNClient) {}

  async start(request: Parameters<ExecutionStarter['start']>[0]) {
    // The execution ARN follows from the state machine ARN and the name.
    const executionArn = `${request.stateMachineArn.replace(':stateMachine:', ':execution:')}:${request.name}`;
    try {
      const started = await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: request.stateMachineArn,
          name: request.name,
          input: JSON.stringify(request.input),
        }),
      );
      return { executionArn: started.executionArn ?? executionArn, alreadyStarted: false };
    } catch (error) {
      // The name is taken: this run was started before (and may have ended since).
      if (error instanceof ExecutionAlreadyExists) return { executionArn, alreadyStarted: true };
      throw error;
    }
  }

  async status(executionArn: string) {
    try {
      const described = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      // A failed execution waiting to be redriven is not over.
      return described.status === 'PENDING_REDRIVE' ? 'RUNNING' : described.status;
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return undefined;
      throw error;
    }
  }
}
