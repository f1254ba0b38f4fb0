/**
 * Local Step Functions: executes the ASL files of `statemachines/` with aws-local-stepfunctions,
 * keeping AWS's execution semantics that the library lacks — names unique per state machine, a
 * repeated start of a running execution with the same input answering with that execution, every
 * Task bound to an adapter chosen by its `Resource`, and aborts reaching the adapters. Under a time scale
 * (local/time-scale.ts) its Wait states wait that many times less. What an execution is and how it is kept on
 * disk: executions.ts; task tokens: task-tokens.ts; what is changed in a definition before it runs:
 * definition-rewrites.ts.
 */
import './polyfills';
import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import * as z from 'zod';
import { TASK_RESOURCES, scopeOf, taskResources } from '../core/asl/states';
import type { ExecutionEvent } from '../core/runs/execution-history';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './constants';
import {
  SCALED_WAIT_RESOURCE,
  scaledWaitAdapter,
  withScaledWaits,
  withStateInputTimeouts,
} from './definition-rewrites';
import { awsName, operation } from './aws-endpoint';
import { serviceError } from './aws-errors';
import {
  ExecutionStore,
  type Execution,
  type ExecutionRecord,
  type ExecutionStatus,
  type TaskAdapter,
  type WaitingAt,
} from './executions';
import { recordExecutionEnd, recordHistoryEvent, recordTaskSubmitted, type LibraryEvent } from './execution-history';
import { TaskTokens } from './task-tokens';
import { TimeScale } from './time-scale';

export type { Execution, ExecutionStatus, TaskAdapter, TaskContext } from './executions';

interface RegisteredMachine {
  readonly machine: StateMachine;
  readonly definition: Record<string, unknown>;
  readonly tasks: ReadonlyMap<string, string>;
  /** Its top-level `.waitForTaskToken` states: where an execution can be resumed after a restart. */
  readonly resumable: ReadonlySet<string>;
}

/**
 * An execution as it runs here: what aborts it, and whether a stop suspended it at the top-level task-token
 * state it waits in (`waitingAt`, kept on disk while it waits there).
 */
type RunningExecution = Execution & {
  abort: AbortController;
  suspended?: boolean;
  /** Told once `waitingAt` is on disk: the Task of that state waits for it before it begins. */
  waitRecorded?: () => void;
};

/** How long stopping waits for aborted tasks to finish (a build ending its processes, writing its log). */
const STOP_GRACE_MS = 15_000;

export class LocalStepFunctions {
  private readonly machines = new Map<string, RegisteredMachine>();
  private readonly executions = new Map<string, RunningExecution>();
  /** The task tokens minted for the executions' Tasks. */
  private readonly tokens = new TaskTokens((executionArn) => this.executions.get(executionArn)?.status === 'RUNNING');
  /** Where executions are kept across restarts (options.executionsDir). */
  private readonly kept?: ExecutionStore;
  /** Executions a stop or a kill left waiting at a task token, loaded to be resumed (`resumeSuspended`). */
  private readonly suspended: ExecutionRecord[] = [];
  /** Adapter calls still running: an aborted execution ends at once, its tasks only when they have cleaned up. */
  private readonly tasksInFlight = new Set<Promise<unknown>>();

  /** How much shorter Wait states wait than their ASL says. */
  private readonly timeScale: TimeScale;
  /** Runs the Wait states the time scale shortens (local/definition-rewrites.ts). */
  private readonly scaledWait: TaskAdapter;

  /**
   * @param options.executionsDir where executions are kept across restarts, as Step Functions keeps
   *   them (a name stays taken; DescribeExecution answers for past runs). An execution a stop or a
   *   crash interrupted is ABORTED when loaded, but for one waiting at a top-level task token, which is
   *   resumed there (`resumeSuspended`). Without it, executions live in memory.
   */
  constructor(
    private readonly adapters: Readonly<Record<string, TaskAdapter>>,
    private readonly options: {
      retryIntervalOverrides?: Record<string, number>;
      executionsDir?: string;
      /** Told when an execution ends, however it ends, as Step Functions tells EventBridge. */
      onExecutionEnded?: (execution: Execution) => void;
      /** How much shorter Wait states wait than their ASL says. @default TimeScale.REAL */
      timeScale?: TimeScale;
    } = {},
  ) {
    this.timeScale = options.timeScale ?? TimeScale.REAL;
    this.scaledWait = scaledWaitAdapter(this.timeScale);
    if (options.executionsDir) {
      this.kept = new ExecutionStore(options.executionsDir);
      for (const record of this.kept.load()) {
        if (record.status === 'RUNNING' && record.waitingAt) this.suspended.push(record);
        else this.markInterrupted(record);
      }
    }
  }

  private adapterOf(resource: string): TaskAdapter | undefined {
    return resource === SCALED_WAIT_RESOURCE ? this.scaledWait : this.adapters[resource];
  }

  /** Registers a state machine; refuses one with a Task that no adapter can run. */
  createStateMachine(name: string, definitionJson: string): string {
    const definition = JSON.parse(definitionJson) as unknown;
    if (this.timeScale.factor !== 1) withScaledWaits(definition);
    const tasks = new Map<string, string>();
    for (const task of taskResources(definition)) {
      if (tasks.has(task.state)) {
        throw new Error(`state name "${task.state}" is used twice: local adapters are keyed by state name`);
      }
      tasks.set(task.state, task.resource);
    }
    withStateInputTimeouts(definition);
    const missing = [...tasks].filter(([, resource]) => !this.adapterOf(resource));
    if (missing.length) {
      throw new Error(
        `state machine ${name}: no local adapter for ${missing.map(([state, r]) => `"${state}" (${r})`).join(', ')}`,
      );
    }
    const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
    const arn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;
    const top = scopeOf(definition)?.states ?? {};
    const resumable = new Set(
      Object.entries(top)
        .filter(
          ([, state]) => (state as { Resource?: unknown }).Resource === TASK_RESOURCES.lambdaInvokeWaitForTaskToken,
        )
        .map(([stateName]) => stateName),
    );
    this.machines.set(arn, {
      machine,
      definition: definition as Record<string, unknown>,
      tasks,
      resumable,
    });
    return arn;
  }

  startExecution(stateMachineArn: string, name: string, input: string): Execution {
    const registered = this.machines.get(stateMachineArn);
    if (!registered)
      throw serviceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    if (!/^[0-9A-Za-z_-]{1,80}$/.test(name)) throw serviceError('InvalidName', `Invalid Name: '${name}'`);
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // AWS: idempotent while the first is running with the same input; otherwise the name is taken.
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw serviceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(input);
    } catch {
      throw serviceError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not JSON');
    }
    return this.launch(
      registered,
      registered.machine,
      { executionArn, stateMachineArn, name, input },
      parsedInput,
      new Date(),
    );
  }

  /**
   * Resumes the executions a stop or a kill left waiting at a task token (after the machines are registered):
   * each runs again from that state with the state's saved input, under its own name and ARN, as a
   * Step Functions redrive would. The Task asks for a new token; the old one is dead.
   */
  resumeSuspended(): Execution[] {
    const resumed: Execution[] = [];
    for (const record of this.suspended.splice(0)) {
      const registered = this.machines.get(record.stateMachineArn);
      if (!registered?.resumable.has(record.waitingAt!.state)) {
        this.markInterrupted(record);
        continue;
      }
      // A copy that starts at the waiting state; the other states are unreachable, so skip validation.
      const machine = new StateMachine({ ...registered.definition, StartAt: record.waitingAt!.state } as never, {
        validationOptions: { noValidate: true },
      });
      const { executionArn, stateMachineArn, name, input, history } = record;
      resumed.push(
        this.launch(
          registered,
          machine,
          { executionArn, stateMachineArn, name, input, history },
          record.waitingAt!.input,
          new Date(record.startDate),
          record.waitingAt,
        ),
      );
    }
    return resumed;
  }

  /** Names of the executions that resume at their task token on the next start (suspended by a stop, or loaded so). */
  suspendedExecutions(): string[] {
    const stopped = [...this.executions.values()].filter((e) => e.suspended).map((e) => e.name);
    return [...stopped, ...this.suspended.map((record) => record.name)];
  }

  private launch(
    registered: RegisteredMachine,
    machine: StateMachine,
    identity: Pick<Execution, 'executionArn' | 'stateMachineArn' | 'name' | 'input' | 'history'>,
    parsedInput: unknown,
    startDate: Date,
    /** For a resumed execution: the wait it resumes at, still on disk until it is entered again. */
    waitingAt?: WaitingAt,
  ): Execution {
    const { executionArn, stateMachineArn, name } = identity;
    const abort = new AbortController();
    const mint = () => this.tokens.mint(executionArn);
    const handlers = Object.fromEntries(
      [...registered.tasks].map(([state, resource]) => [
        state,
        async (taskInput: unknown) => {
          // A wait that outlives local mode: on disk before the Task begins (asks for approval, hands out its token).
          if (registered.resumable.has(state)) await this.waitRecorded(executionArn, state);
          return this.track(
            this.adapterOf(resource)!(taskInput, {
              signal: abort.signal,
              stateName: state,
              executionArn,
              awaitTaskToken: (input) => this.tokens.await(input, executionArn, abort.signal),
              submitted: (output) =>
                recordTaskSubmitted(this.executions.get(executionArn)!.history!, resource, output, new Date()),
            }),
          );
        },
      ]),
    );
    const run = machine.run(
      parsedInput as never,
      {
        overrides: {
          taskResourceLocalHandlers: handlers as never,
          retryIntervalOverrides: this.options.retryIntervalOverrides,
        },
        context: {
          Execution: { Id: executionArn, Name: name, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local` },
          StateMachine: { Id: stateMachineArn, Name: stateMachineArn.split(':').pop() },
          // The executor sets no task token; each read of $$.Task.Token mints one for this execution.
          Task: {
            get Token() {
              return mint();
            },
          },
        },
      } as never,
    );
    abort.signal.addEventListener('abort', () => run.abort());

    const execution: RunningExecution = {
      ...identity,
      history: [...(identity.history ?? [])],
      startDate,
      status: 'RUNNING',
      abort,
      waitingAt,
      done: run.result.then(
        (output) => this.finish(executionArn, 'SUCCEEDED', { output: JSON.stringify(output) }),
        (error: unknown) => this.finish(executionArn, abort.signal.aborted ? 'ABORTED' : 'FAILED', failureOf(error)),
      ),
    };
    this.executions.set(executionArn, execution);
    this.save(execution);
    void this.followEventLog(execution, registered, run.eventLogs);
    return execution;
  }

  /**
   * Keeps the execution's history (local/execution-history.ts), and writes to disk when the execution enters and
   * leaves a top-level task-token state: where it resumes after a restart. Entering is written before the state's
   * Task begins (`waitRecorded`); a failed try of the Task that is retried stays in the state, so only leaving it
   * (or the execution's end) clears it. Nothing is written once a stop has suspended the execution; once the log
   * ends, the history is written whole with the execution's end.
   */
  private async followEventLog(
    execution: RunningExecution,
    registered: RegisteredMachine,
    events: AsyncGenerator<LibraryEvent & { state?: { name: string; input: unknown } }>,
  ): Promise<void> {
    try {
      for await (const event of events) {
        // A resumed execution's log starts again: its history already has its start.
        if (!(event.type === 'ExecutionStarted' && execution.history!.length > 0))
          recordHistoryEvent(execution.history!, event);
        if (event.type === 'StateEntered') execution.transitions = (execution.transitions ?? 0) + 1;
        if (!event.state || !registered.resumable.has(event.state.name) || event.index !== undefined) continue;
        if (execution.suspended || execution.status !== 'RUNNING') {
          // Stopped: nothing more is written, and a Task that was to wait for it meets its aborted signal.
          execution.waitRecorded?.();
          continue;
        }
        if (event.type === 'StateEntered') {
          execution.waitingAt = { state: event.state.name, input: event.state.input };
          this.save(execution);
          execution.waitRecorded?.();
        } else if (event.type === 'StateExited' && execution.waitingAt?.state === event.state.name) {
          execution.waitingAt = undefined;
          this.save(execution);
        }
      }
    } catch {
      // The log ends with the execution, however it ends.
    } finally {
      execution.waitRecorded?.();
      await execution.done;
      if (execution.status !== 'RUNNING') {
        recordExecutionEnd(execution.history!, execution.status, execution.stopDate!, execution);
        this.save(execution);
      }
    }
  }

  /** Resolves once the execution's entry into `state` (a top-level task-token state) is on disk. */
  private async waitRecorded(executionArn: string, state: string): Promise<void> {
    // A resumed execution starts at this state: its Task is called before launch has registered it.
    await Promise.resolve();
    const execution = this.executions.get(executionArn)!;
    if (execution.waitingAt?.state === state) return;
    await new Promise<void>((resolve) => (execution.waitRecorded = resolve));
    execution.waitRecorded = undefined;
  }

  /** SendTaskSuccess: resumes the Task waiting on the token with the output (JSON). */
  sendTaskSuccess(taskToken: string, output: string): void {
    this.tokens.succeed(taskToken, output);
  }

  /** SendTaskFailure: fails the Task waiting on the token with this error and cause. */
  sendTaskFailure(taskToken: string, error: string, cause: string): void {
    this.tokens.fail(taskToken, error, cause);
  }

  /** SendTaskHeartbeat: the token's Task is still waiting (heartbeats are not timed locally). */
  sendTaskHeartbeat(taskToken: string): void {
    this.tokens.heartbeat(taskToken);
  }

  describeExecution(executionArn: string): Execution {
    const execution = this.executions.get(executionArn);
    if (!execution) throw serviceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return execution;
  }

  /** GetExecutionHistory: the execution's events, oldest first. */
  getExecutionHistory(executionArn: string): readonly ExecutionEvent[] {
    return this.describeExecution(executionArn).history ?? [];
  }

  /** StopExecution: aborts a running execution (it ends ABORTED, and its end is told as any other). */
  stopExecution(executionArn: string): Promise<void> {
    const execution = this.executions.get(executionArn);
    if (!execution) throw serviceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    if (execution.status === 'RUNNING') execution.abort.abort();
    return execution.done;
  }

  listExecutions(): Execution[] {
    return [...this.executions.values()];
  }

  /**
   * Aborts every running execution, then waits (at most STOP_GRACE_MS) for their tasks to finish:
   * adapters see their signal fire and stop what they run, and a build ends its processes, removes
   * its work tree and writes that it was stopped before local mode goes away.
   */
  async stopAll(graceMs: number = STOP_GRACE_MS): Promise<void> {
    const running = [...this.executions.values()].filter((e) => e.status === 'RUNNING');
    // One waiting at a task token is suspended, not ended: kept RUNNING on disk, resumed at the next start.
    running.filter((e) => e.waitingAt).forEach((e) => (e.suspended = true));
    running.forEach((e) => e.abort.abort());
    await Promise.all(running.map((e) => e.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.tasksInFlight]),
      new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
  }

  private track<T>(task: Promise<T>): Promise<T> {
    this.tasksInFlight.add(task);
    const forget = () => this.tasksInFlight.delete(task);
    task.then(forget, forget);
    return task;
  }

  private finish(executionArn: string, status: ExecutionStatus, fields: Partial<Execution>): void {
    const execution = this.executions.get(executionArn)!;
    if (execution.suspended) return this.save(execution);
    Object.assign(execution, fields, { status, stopDate: new Date() });
    this.save(execution);
    this.options.onExecutionEnded?.(execution);
  }

  /** Writes the execution; one still running at a task-token state with where it waits (to resume there). */
  private save(execution: RunningExecution): void {
    this.kept?.save(execution, execution.status === 'RUNNING' ? execution.waitingAt : undefined);
  }

  /** An execution a stop or a crash interrupted (not at a task token): ABORTED, as it cannot go on. */
  private markInterrupted(record: ExecutionRecord): void {
    const interrupted = record.status === 'RUNNING';
    const { waitingAt: _waitingAt, ...kept } = record;
    const execution = {
      ...kept,
      startDate: new Date(record.startDate),
      stopDate: record.stopDate ? new Date(record.stopDate) : interrupted ? new Date() : undefined,
      ...(interrupted
        ? { status: 'ABORTED' as const, error: 'LocalModeStopped', cause: 'local mode stopped while it ran' }
        : {}),
      abort: new AbortController(),
      done: Promise.resolve(),
    };
    this.executions.set(record.executionArn, execution);
    if (interrupted) this.save(execution);
  }
}

/** The Step Functions API operations the handlers call, over the local executions. */
export function stepFunctionsOperations(sfn: LocalStepFunctions) {
  return {
    'AWSStepFunctions.SendTaskSuccess': operation(
      z.object({ taskToken: z.string().min(1).max(2048), output: z.string().max(256 * 1024) }),
      (r) => (sfn.sendTaskSuccess(r.taskToken, r.output), {}),
    ),
    'AWSStepFunctions.SendTaskFailure': operation(
      z.object({
        taskToken: z.string().min(1).max(2048),
        error: z.string().max(256).optional(),
        cause: z.string().max(32_768).optional(),
      }),
      (r) => (sfn.sendTaskFailure(r.taskToken, r.error ?? '', r.cause ?? ''), {}),
    ),
    'AWSStepFunctions.SendTaskHeartbeat': operation(
      z.object({ taskToken: z.string().min(1).max(2048) }),
      (r) => (sfn.sendTaskHeartbeat(r.taskToken), {}),
    ),
    'AWSStepFunctions.StartExecution': operation(
      z.object({ stateMachineArn: awsName, name: awsName.optional(), input: z.string().optional() }),
      (r) => {
        const execution = sfn.startExecution(r.stateMachineArn, r.name ?? randomUUID(), r.input ?? '{}');
        return { executionArn: execution.executionArn, startDate: execution.startDate };
      },
    ),
    // Pages of at most maxResults (1–1000, default 100), oldest first unless reverseOrder; nextToken is the next
    // page's first index. https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html
    'AWSStepFunctions.GetExecutionHistory': operation(
      z.object({
        executionArn: awsName,
        maxResults: z.number().int().min(0).max(1000).optional(),
        reverseOrder: z.boolean().optional(),
        nextToken: z.string().regex(/^\d+$/).optional(),
      }),
      (r) => {
        const all = [...sfn.getExecutionHistory(r.executionArn)];
        if (r.reverseOrder) all.reverse();
        const from = Number(r.nextToken ?? 0);
        const to = from + (r.maxResults || 100);
        const events = all.slice(from, to).map((event) => ({ ...event, timestamp: new Date(event.timestamp) }));
        return { events, ...(to < all.length ? { nextToken: String(to) } : {}) };
      },
    ),
    'AWSStepFunctions.DescribeExecution': operation(z.object({ executionArn: awsName }), (r) => {
      const { executionArn, stateMachineArn, name, status, startDate, stopDate, input, output, error, cause } =
        sfn.describeExecution(r.executionArn);
      return { executionArn, stateMachineArn, name, status, startDate, stopDate, input, output, error, cause };
    }),
  };
}

function failureOf(error: unknown): { error: string; cause: string } {
  // An uncaught error reaches us as ExecutionError whose cause is the state's error.
  const cause = (error as { cause?: unknown }).cause ?? error;
  const failure = cause instanceof Error ? cause : new Error(String(cause));
  return { error: failure.name, cause: failure.message };
}
