/**
 * Local Step Functions: executes the ASL files of `statemachines/` with aws-local-stepfunctions,
 * keeping AWS's execution semantics that the library lacks — names unique per state machine, a
 * repeated start of a running execution with the same input answering with that execution, every
 * Task bound to an adapter chosen by its `Resource`, and aborts reaching the adapters.
 */
import './polyfills';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { taskResources } from '../core/asl';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './constants';

export interface TaskContext {
  readonly signal: AbortSignal;
  readonly stateName: string;
  readonly executionArn: string;
}
/** Runs one Task locally: receives the Task's resolved Parameters, returns its raw result. */
export type TaskAdapter = (input: unknown, context: TaskContext) => Promise<unknown>;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

/** What is kept of an execution on disk: everything DescribeExecution answers. */
type ExecutionRecord = Omit<Execution, 'done' | 'startDate' | 'stopDate'> & { startDate: string; stopDate?: string };

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
  /** Settles when the execution ends. */
  readonly done: Promise<void>;
}

/** Errors named as the SFN API names them, so the SDK client maps them to its exception classes. */
export class SfnApiError extends Error {
  constructor(
    code:
      | 'ExecutionAlreadyExists'
      | 'StateMachineDoesNotExist'
      | 'InvalidName'
      | 'ExecutionDoesNotExist'
      | 'InvalidExecutionInput',
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

interface RegisteredMachine {
  readonly machine: StateMachine;
  readonly tasks: ReadonlyMap<string, string>;
}

/** How long stopping waits for aborted tasks to finish (a build ending its processes, writing its log). */
const STOP_GRACE_MS = 15_000;

export class LocalStepFunctions {
  private readonly machines = new Map<string, RegisteredMachine>();
  private readonly executions = new Map<string, Execution & { abort: AbortController }>();
  /** Adapter calls still running: an aborted execution ends at once, its tasks only when they have cleaned up. */
  private readonly tasksInFlight = new Set<Promise<unknown>>();

  /**
   * @param options.executionsDir where executions are kept across restarts, as Step Functions keeps
   *   them (a name stays taken; DescribeExecution answers for past runs). An execution a stop or a
   *   crash interrupted is ABORTED when loaded. Without it, executions live in memory.
   */
  constructor(
    private readonly adapters: Readonly<Record<string, TaskAdapter>>,
    private readonly options: {
      retryIntervalOverrides?: Record<string, number>;
      executionsDir?: string;
      /** Told when an execution ends, however it ends, as Step Functions tells EventBridge. */
      onExecutionEnded?: (execution: Execution) => void;
    } = {},
  ) {
    if (options.executionsDir) this.load(options.executionsDir);
  }

  /** Registers a state machine; refuses one with a Task that no adapter can run. */
  createStateMachine(name: string, definitionJson: string): string {
    const definition = JSON.parse(definitionJson) as unknown;
    const tasks = new Map<string, string>();
    for (const task of taskResources(definition)) {
      if (tasks.has(task.state)) {
        throw new Error(`state name "${task.state}" is used twice: local adapters are keyed by state name`);
      }
      tasks.set(task.state, task.resource);
    }
    const missing = [...tasks].filter(([, resource]) => !this.adapters[resource]);
    if (missing.length) {
      throw new Error(
        `state machine ${name}: no local adapter for ${missing.map(([state, r]) => `"${state}" (${r})`).join(', ')}`,
      );
    }
    const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
    const arn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;
    this.machines.set(arn, { machine, tasks });
    return arn;
  }

  startExecution(stateMachineArn: string, name: string, input: string): Execution {
    const registered = this.machines.get(stateMachineArn);
    if (!registered)
      throw new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    if (!/^[0-9A-Za-z_-]{1,80}$/.test(name)) throw new SfnApiError('InvalidName', `Invalid Name: '${name}'`);
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // AWS: idempotent while the first is running with the same input; otherwise the name is taken.
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw new SfnApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(input);
    } catch {
      throw new SfnApiError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not JSON');
    }

    const abort = new AbortController();
    const startDate = new Date();
    const handlers = Object.fromEntries(
      [...registered.tasks].map(([state, resource]) => [
        state,
        (taskInput: unknown) =>
          this.track(this.adapters[resource]!(taskInput, { signal: abort.signal, stateName: state, executionArn })),
      ]),
    );
    const run = registered.machine.run(
      parsedInput as never,
      {
        overrides: {
          taskResourceLocalHandlers: handlers as never,
          retryIntervalOverrides: this.options.retryIntervalOverrides,
        },
        context: {
          Execution: { Id: executionArn, Name: name, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local` },
          StateMachine: { Id: stateMachineArn, Name: stateMachineArn.split(':').pop() },
        },
      } as never,
    );
    abort.signal.addEventListener('abort', () => run.abort());

    const execution: Execution & { abort: AbortController } = {
      executionArn,
      stateMachineArn,
      name,
      input,
      startDate,
      status: 'RUNNING',
      abort,
      done: run.result.then(
        (output) => this.finish(executionArn, 'SUCCEEDED', { output: JSON.stringify(output) }),
        (error: unknown) => this.finish(executionArn, abort.signal.aborted ? 'ABORTED' : 'FAILED', failureOf(error)),
      ),
    };
    this.executions.set(executionArn, execution);
    this.save(execution);
    return execution;
  }

  describeExecution(executionArn: string): Execution {
    const execution = this.executions.get(executionArn);
    if (!execution) throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return execution;
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
    Object.assign(execution, fields, { status, stopDate: new Date() });
    this.save(execution);
    this.options.onExecutionEnded?.(execution);
  }

  private save(execution: Execution): void {
    const dir = this.options.executionsDir;
    if (!dir) return;
    const { executionArn, stateMachineArn, name, input, startDate, status, stopDate, output, error, cause } = execution;
    const record: ExecutionRecord = {
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
    };
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${fileNameOf(executionArn)}.json`), JSON.stringify(record));
  }

  private load(dir: string): void {
    mkdirSync(dir, { recursive: true });
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const record = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ExecutionRecord;
      const interrupted = record.status === 'RUNNING';
      const execution = {
        ...record,
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
}

/** An execution ARN as a file name: `<state machine>:<name>`, both made of safe characters. */
function fileNameOf(executionArn: string): string {
  return executionArn.split(':').slice(-2).join('--');
}

function failureOf(error: unknown): { error: string; cause: string } {
  // An uncaught error reaches us as ExecutionError whose cause is the state's error.
  const cause = (error as { cause?: unknown }).cause ?? error;
  const failure = cause instanceof Error ? cause : new Error(String(cause));
  return { error: failure.name, cause: failure.message };
}
