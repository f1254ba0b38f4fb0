/**
 * Local executions: what an execution is, what runs its Tasks (a TaskAdapter per Task `Resource`), and
 * how executions are kept on disk across restarts, as Step Functions keeps them (a name stays taken;
 * DescribeExecution answers for past runs): one JSON file per execution under the executions directory,
 * with, for one waiting at a top-level task token, the state it waits in and that state's input: written when
 * it begins to wait, so that a start after any stop, a kill included, resumes it there.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionEvent } from '../core/runs/execution-history';
import { EXECUTION_STATUS_DETAIL_TYPE } from '../core/sources/triggers';
import { busEvent } from './event-bus';

export interface TaskContext {
  readonly signal: AbortSignal;
  readonly stateName: string;
  readonly executionArn: string;
  /**
   * For `.waitForTaskToken` Tasks: starts waiting for the task token that the Task's input carries
   * (minted by `$$.Task.Token`); resolves with the SendTaskSuccess output, rejects with the
   * SendTaskFailure error. Call it before handing the token out, so no callback arrives unheard.
   */
  readonly awaitTaskToken: (input: unknown) => { readonly result: Promise<unknown>; cancel(): void };
  /** For `.sync` Tasks: the service started the work; its answer goes in the history (`TaskSubmitted`). */
  readonly submitted: (output: unknown) => void;
}
/** Runs one Task locally: receives the Task's resolved Parameters, returns its raw result. */
export type TaskAdapter = (input: unknown, context: TaskContext) => Promise<unknown>;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

/**
 * What is kept of an execution on disk: everything DescribeExecution answers, and for one that waits
 * on a task token at a top-level state, that state and its input, to resume it there after a restart.
 */
export type ExecutionRecord = Omit<Execution, 'done' | 'startDate' | 'stopDate'> & {
  startDate: string;
  stopDate?: string;
  waitingAt?: WaitingAt;
};

/** A top-level `.waitForTaskToken` state an execution waits in, and the state's input. */
export interface WaitingAt {
  readonly state: string;
  readonly input: unknown;
}

export interface Execution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: string;
  readonly startDate: Date;
  status: ExecutionStatus;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  /** State transitions so far (every state entered, in Map iterations too): what Step Functions bills. */
  transitions?: number;
  /** The top-level `.waitForTaskToken` state it waits in (a release gate) and that state's input, while it waits there. */
  waitingAt?: WaitingAt;
  /** Its history, as GetExecutionHistory answers it (local/execution-history.ts). */
  history?: ExecutionEvent[];
  /** Settles when the execution ends. */
  readonly done: Promise<void>;
}

/** An execution's end as Step Functions sends it to EventBridge: the "Step Functions Execution Status Change" event. */
export function executionStatusChange(execution: Execution) {
  return busEvent({
    source: 'aws.states',
    detailType: EXECUTION_STATUS_DETAIL_TYPE,
    resources: [execution.executionArn],
    detail: {
      executionArn: execution.executionArn,
      stateMachineArn: execution.stateMachineArn,
      name: execution.name,
      status: execution.status,
      startDate: execution.startDate.getTime(),
      stopDate: execution.stopDate?.getTime(),
    },
  });
}

export class ExecutionStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Writes what is kept of the execution; `waitingAt` for one waiting at a top-level task token. */
  save(execution: Execution, waitingAt?: WaitingAt): void {
    const { executionArn, stateMachineArn, name, input, startDate, status, stopDate, output, error, cause, history } =
      execution;
    const record: ExecutionRecord = {
      ...(waitingAt ? { waitingAt } : {}),
      executionArn,
      stateMachineArn,
      name,
      input,
      status,
      startDate: startDate.toISOString(),
      stopDate: stopDate?.toISOString(),
      output,
      error,
      cause,
      history,
    };
    mkdirSync(this.dir, { recursive: true });
    const file = join(this.dir, `${fileNameOf(executionArn)}.json`);
    // Written aside and renamed into place: a kill mid-write leaves the previous record whole, never half of one.
    writeFileSync(`${file}.tmp`, JSON.stringify(record));
    renameSync(`${file}.tmp`, file);
  }

  /** Every execution kept. */
  load(): ExecutionRecord[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((file) => JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as ExecutionRecord);
  }
}

/** An execution ARN as a file name: `<state machine>:<name>`, both made of safe characters. */
function fileNameOf(executionArn: string): string {
  return executionArn.split(':').slice(-2).join('--');
}
