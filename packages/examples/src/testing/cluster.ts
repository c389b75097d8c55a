/**
 * Worker processes of one application: each a fork of `script`, which reads its spec (JSON) from
 * an environment variable, reports `{ type: 'ready' }` over IPC once its system runs and stops
 * gracefully on `{ type: 'stop' }`. The cluster starts them, passes on what they report, stops or
 * SIGKILLs them one by one and kills whatever is left in `close()`; given a test's `t`, it closes
 * when the test ends, whether it passed, failed or threw. A worker id can be started again once
 * its process is gone: a new process, as a process manager would start one. The demo, the failover
 * benchmark, the multi-worker tests and the soak all fork their workers here.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { endChild, isRunning, readyOf } from './child.js';

export interface ClusterOptions<Message> {
  /** The worker module. */
  script: string | URL;
  /** The environment variable the worker reads its spec from. */
  specVariable: string;
  /** The workers' Node flags; `[]` runs the built packages without a test runner's loader. */
  execArgv?: string[];
  /** Every message but `ready`, with the id of the worker that sent it. */
  onMessage?: (workerId: string, message: Message) => void;
  /** Called as a worker's process exits, whatever ended it. */
  onExit?: (workerId: string, child: ChildProcess) => void;
}

export interface StopOptions {
  /** What asks the worker to stop; `{ type: 'stop' }` unless told otherwise. */
  message?: object;
  /** Past it the process is SIGKILLed (`beforeKill` first) and stop() resolves 'forced'. */
  timeoutMs?: number;
  beforeKill?: () => void;
}

export class WorkerCluster<Spec extends object, Message extends { type: string } = { type: string }> {
  private readonly children = new Map<string, ChildProcess>();

  constructor(
    private readonly options: ClusterOptions<Message>,
    t?: ExecutionContext,
  ) {
    t?.teardown(() => this.close());
  }

  /** A new process for `workerId`; resolves once it reported ready, rejects if it exits first or takes longer than `readyTimeoutMs` (it is killed then). */
  async start(workerId: string, spec: Spec, readyTimeoutMs?: number): Promise<ChildProcess> {
    if (this.isRunning(workerId)) throw new Error(`worker ${workerId} runs already`);
    const { script, specVariable, execArgv, onMessage, onExit } = this.options;
    const child = fork(typeof script === 'string' ? script : fileURLToPath(script), [], {
      env: { ...process.env, [specVariable]: JSON.stringify(spec) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      ...(execArgv ? { execArgv } : {}),
    });
    this.children.set(workerId, child);
    if (onExit) child.once('exit', () => onExit(workerId, child));
    await readyOf<Message>(child, { what: `worker ${workerId}`, onMessage: onMessage && ((m) => onMessage(workerId, m)), timeoutMs: readyTimeoutMs });
    return child;
  }

  /** The worker's current process, if it was ever started. */
  child(workerId: string): ChildProcess | undefined {
    return this.children.get(workerId);
  }

  isRunning(workerId: string): boolean {
    const child = this.children.get(workerId);
    return !!child && isRunning(child);
  }

  /** The ids whose process runs. */
  get alive(): string[] {
    return [...this.children.keys()].filter((id) => this.isRunning(id));
  }

  /** Graceful: the worker stops its system and exits by itself; resolves once its process has exited. */
  async stop(workerId: string, { message = { type: 'stop' }, timeoutMs, beforeKill }: StopOptions = {}): Promise<'stopped' | 'forced' | 'not running'> {
    const child = this.children.get(workerId);
    if (!child || !isRunning(child)) return 'not running';
    const exited = once(child, 'exit');
    let forced = false;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            if (!isRunning(child)) return;
            forced = true;
            beforeKill?.();
            child.kill('SIGKILL');
          }, timeoutMs);
    // a worker that has just disconnected cannot be asked: it stops by itself on disconnect
    child.send(message, () => undefined);
    await exited;
    clearTimeout(timer);
    return forced ? 'forced' : 'stopped';
  }

  /** SIGKILL, as a crash would end it; resolves once its process has exited. */
  async kill(workerId: string): Promise<void> {
    const child = this.children.get(workerId);
    if (child) await endChild(child, 'SIGKILL');
  }

  async stopAll(options?: StopOptions): Promise<void> {
    await Promise.all(this.alive.map((id) => this.stop(id, options)));
  }

  /** Kills every worker still running: the clean-up after a test, passed or failed. */
  async close(): Promise<void> {
    await Promise.all(this.alive.map((id) => this.kill(id)));
  }
}
