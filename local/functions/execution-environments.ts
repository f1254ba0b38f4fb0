/**
 * Local Lambda's execution environments: each published version (and $LATEST) runs in one warm child process
 * (runner.cjs), started at its first invocation and kept for the next ones; it runs one invocation at a time, as an
 * execution environment does — where Lambda would start another environment for a concurrent invocation, local mode
 * queues it. A handler past its timeout, a process that exits, new code on $LATEST (`retire`) or a long idle time end
 * that environment; the next invocation starts a new one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { killGroup } from '../build-runner/process-group';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../constants';
import type { Snapshot } from './function-config';

const MEMORY_SIZE_MB = '128';
const RUNNER = join(__dirname, 'runner.cjs');

/** One version's environment and the invocations waiting for it. */
interface Slot {
  queue: Promise<unknown>;
  environment?: ExecutionEnvironment;
  /** Ends the environment when no invocation came for `idleTimeoutMs`. */
  idle?: NodeJS.Timeout;
}

/** The warm environments of every version, by `<name>:<version>`. */
export class WarmEnvironments {
  private readonly slots = new Map<string, Slot>();
  /** Every environment started and not yet ended, for close(). */
  private readonly environments = new Set<ExecutionEnvironment>();
  private closed = false;

  /**
   * @param logDirOf where a function's environments write their output
   * @param idleTimeoutMs how long a warm environment waits for its next invocation before it ends
   * @param region the Region the functions run in (their `AWS_REGION`) @default LOCAL_REGION
   */
  constructor(
    private readonly logDirOf: (name: string) => string,
    private readonly idleTimeoutMs: number,
    private readonly region: string = LOCAL_REGION,
  ) {}

  /** Runs one invocation in the version's environment, after those queued for it; starts one if none is alive. */
  run(name: string, snapshot: Snapshot, request: RunRequest): Promise<Outcome> {
    const key = `${name}:${snapshot.version}`;
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = { queue: Promise.resolve() }));
    const current = slot;
    const run = current.queue.then(() => {
      clearTimeout(current.idle);
      if (this.closed) throw new Error('the local Lambda runtime is closed');
      if (!current.environment?.alive) {
        const environment = new ExecutionEnvironment(name, snapshot, this.logDirOf(name), this.region);
        this.environments.add(environment);
        void environment.ended.then(() => this.environments.delete(environment));
        current.environment = environment;
      }
      return current.environment.run(request);
    });
    current.queue = run
      .catch(() => undefined)
      .then(() => {
        current.idle = setTimeout(() => void current.environment?.stop(), this.idleTimeoutMs).unref();
      });
    return run;
  }

  /** Forgets a version's environment: it ends once the invocations queued for it are done. */
  retire(name: string, version: string): void {
    const key = `${name}:${version}`;
    const slot = this.slots.get(key);
    if (!slot) return;
    this.slots.delete(key);
    void slot.queue.then(() => {
      clearTimeout(slot.idle);
      return slot.environment?.stop();
    });
  }

  /** Ends every environment, waiting for each process to exit; invocations still running end with an exit error. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.environments].map((environment) => environment.stop()));
  }
}

/** What runner.cjs receives for one invocation. */
export interface RunRequest {
  readonly id: string;
  /** The event, as JSON text. */
  readonly event: string;
  readonly invokedFunctionArn: string;
}

/** What runner.cjs answers. */
interface RunnerReply {
  readonly id: string;
  readonly failed: boolean;
  /** The result, or the error's `{ errorType, errorMessage, trace }`, as JSON text. */
  readonly payload: string;
  readonly durationMs: number;
}

export interface Outcome {
  readonly failed: boolean;
  readonly payload: unknown;
  readonly durationMs: number;
}

/**
 * One warm environment: a `node` process running runner.cjs over one snapshot's code, in a process group of its own
 * so that a kill also ends what the handler started. Its environment variables are Lambda's, not local mode's.
 */
class ExecutionEnvironment {
  /** Settles when the process has exited. */
  readonly ended: Promise<void>;
  private readonly child: ChildProcess;
  private readonly timeoutMs: number;
  private exited = false;
  private stopping = false;

  constructor(
    functionName: string,
    private readonly snapshot: Snapshot,
    logDir: string,
    region: string,
  ) {
    this.timeoutMs = snapshot.timeoutSeconds * 1000;
    const log = openLog(logDir, snapshot.version);
    try {
      this.child = fork(RUNNER, [snapshot.dir, snapshot.handler], {
        cwd: snapshot.dir,
        env: {
          PATH: process.env.PATH,
          TZ: ':UTC',
          ...snapshot.environment,
          _HANDLER: snapshot.handler,
          AWS_REGION: region,
          AWS_DEFAULT_REGION: region,
          AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
          AWS_LAMBDA_FUNCTION_NAME: functionName,
          AWS_LAMBDA_FUNCTION_VERSION: snapshot.version,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: MEMORY_SIZE_MB,
          AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
          AWS_LAMBDA_LOG_STREAM_NAME: log.name,
          LAMBDA_TASK_ROOT: snapshot.dir,
        },
        // Not the parent's flags (a TypeScript loader, jest's): the function runs on plain node.
        execArgv: [],
        stdio: ['ignore', log.fd, log.fd, 'ipc'],
        detached: true,
      });
    } finally {
      closeSync(log.fd);
    }
    this.ended = new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      // A process that could not be started never exits.
      this.child.once('error', () => this.child.pid === undefined && resolve());
    });
    void this.ended.then(() => (this.exited = true));
  }

  get alive(): boolean {
    return !this.stopping && !this.exited && this.child.exitCode === null && this.child.signalCode === null;
  }

  run(request: RunRequest): Promise<Outcome> {
    const started = performance.now();
    return new Promise<Outcome>((resolve) => {
      const finish = (outcome: Outcome) => {
        clearTimeout(timer);
        this.child.off('message', onReply);
        this.child.off('exit', onExit);
        resolve(outcome);
      };
      const onReply = (reply: RunnerReply) => {
        if (reply.id !== request.id) return;
        finish({ failed: reply.failed, payload: JSON.parse(reply.payload), durationMs: reply.durationMs });
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        finish({
          failed: true,
          payload: {
            errorType: 'Runtime.ExitError',
            errorMessage: `RequestId: ${request.id} Error: Runtime exited with error: ${code === null ? `signal: ${signal}` : `exit status ${code}`}`,
          },
          durationMs: performance.now() - started,
        });
      // Past its timeout the environment is killed, as Lambda's is; a reply arriving meanwhile is too late.
      const timer = setTimeout(() => {
        this.child.off('message', onReply);
        this.child.off('exit', onExit);
        void this.stop().then(() =>
          resolve({
            failed: true,
            payload: {
              errorType: 'Sandbox.Timedout',
              errorMessage: `Task timed out after ${this.snapshot.timeoutSeconds.toFixed(2)} seconds`,
            },
            durationMs: this.timeoutMs,
          }),
        );
      }, this.timeoutMs);
      this.child.on('message', onReply);
      this.child.once('exit', onExit);
      if (!this.alive) return onExit(this.child.exitCode, this.child.signalCode);
      this.child.send({ ...request, deadline: Date.now() + this.timeoutMs }, (error) => {
        // The channel closed under the send: the process is going; its exit answers the invocation.
        if (error) killGroup(this.child);
      });
    });
  }

  async stop(): Promise<void> {
    if (this.alive) killGroup(this.child);
    this.stopping = true;
    await this.ended;
  }
}

/** The environment's stdout and stderr: appended to `<logDir>/<version>.log`, its log stream. */
function openLog(logDir: string, version: string): { name: string; fd: number } {
  const name = `${version}.log`;
  mkdirSync(logDir, { recursive: true });
  return { name, fd: openSync(join(logDir, name), 'a') };
}
