/**
 * The soak's worker processes (fixtures/soak-worker.mjs): started, SIGKILLed, restarted under the
 * same workerId (a new incarnation: a new process and new log files), sent faults over IPC, and
 * stopped gracefully with a bound, SIGKILLed past it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Incarnation } from './logs.js';

const script = fileURLToPath(new URL('../fixtures/soak-worker.mjs', import.meta.url));

export interface WorkerBase {
  logDir: string;
  seed: number;
  /** createSystem options, plain data. */
  options: Record<string, unknown>;
  /** Options of newer contracts, dropped with a notice by a library that rejects them. */
  optional: { name: string; value: Record<string, unknown> }[];
}

type Reply = { type: string; id?: number; result?: { applied: boolean; [k: string]: unknown }; text?: string };

export class SoakCluster {
  readonly incarnations: Incarnation[] = [];
  readonly notices = new Set<string>();
  private readonly children = new Map<string, { child: ChildProcess; inc: Incarnation }>();
  private readonly counts = new Map<string, number>();
  private nextId = 0;
  private readonly waiting = new Map<number, (r: Reply['result']) => void>();

  constructor(private readonly base: WorkerBase) {}

  isUp(workerId: string): boolean {
    const c = this.children.get(workerId);
    return !!c && c.inc.readyAt !== undefined && c.child.exitCode === null && c.child.signalCode === null && c.inc.how === 'running';
  }

  /** Its process runs but its createSystem has not resolved yet. */
  isStarting(workerId: string): boolean {
    const c = this.children.get(workerId);
    return !!c && c.inc.readyAt === undefined && c.child.exitCode === null && c.child.signalCode === null;
  }

  current(workerId: string): string | undefined {
    return this.isUp(workerId) ? this.children.get(workerId)!.inc.inc : undefined;
  }

  /** A new process for `workerId`; resolves once its system is up. */
  async start(workerId: string, timeoutMs = 90_000): Promise<void> {
    const n = (this.counts.get(workerId) ?? 0) + 1;
    this.counts.set(workerId, n);
    const inc: Incarnation = { inc: `${workerId}.${n}`, worker: workerId, startedAt: Date.now(), endedAt: undefined, how: 'running' };
    this.incarnations.push(inc);
    const spec = { ...this.base, workerId, incarnation: n };
    const child = fork(script, [], {
      env: { ...process.env, KC_SOAK: JSON.stringify(spec) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // the built packages, without the test runner's TypeScript loader
      execArgv: [],
    });
    this.children.set(workerId, { child, inc });
    child.once('exit', () => {
      inc.endedAt ??= Date.now();
      if (inc.how === 'running') inc.how = 'stopped';
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${inc.inc} not ready after ${timeoutMs} ms`)), timeoutMs);
      child.on('message', (m: Reply) => {
        if (m.type === 'ready') {
          inc.readyAt = Date.now();
          clearTimeout(timer);
          resolve();
        } else if (m.type === 'notice' && m.text) this.notices.add(m.text);
        else if (m.type === 'fault-result' && m.id !== undefined) this.waiting.get(m.id)?.(m.result);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${inc.inc} exited during start-up (${code ?? signal})`));
      });
    });
  }

  /** Applies a fault inside the worker's process; a worker that is down or does not answer reports why. */
  async fault(workerId: string, fault: object, timeoutMs = 15_000): Promise<{ applied: boolean; inc?: string; detail: string }> {
    const c = this.children.get(workerId);
    if (!c || !this.isUp(workerId)) return { applied: false, detail: c?.inc.how === 'running' ? 'worker starting' : 'worker down' };
    const id = this.nextId++;
    const result = await new Promise<Reply['result'] | undefined>((resolve) => {
      const done = (r: Reply['result'] | undefined) => {
        clearTimeout(timer);
        c.child.off('exit', exited);
        resolve(r);
      };
      const exited = () => done(undefined);
      const timer = setTimeout(exited, timeoutMs);
      c.child.once('exit', exited);
      this.waiting.set(id, done);
      c.child.send({ type: 'fault', id, fault }, (error) => error && done(undefined));
    });
    this.waiting.delete(id);
    if (!result) return { applied: false, inc: c.inc.inc, detail: 'no answer' };
    const { applied, ...rest } = result;
    return { applied, inc: c.inc.inc, detail: JSON.stringify(rest) };
  }

  async kill(workerId: string): Promise<void> {
    const c = this.children.get(workerId);
    if (!c || c.child.exitCode !== null || c.child.signalCode !== null) return;
    const exited = once(c.child, 'exit');
    c.inc.how = 'killed';
    c.inc.endedAt = Date.now();
    c.child.kill('SIGKILL');
    await exited;
  }

  /** Graceful stop with a deadline; past it (plus a grace for the process to exit) the process is SIGKILLed and marked 'forced'. */
  async stop(workerId: string, timeoutMs: number): Promise<void> {
    const c = this.children.get(workerId);
    if (!c || c.child.exitCode !== null || c.child.signalCode !== null) return;
    const exited = once(c.child, 'exit');
    c.child.send({ type: 'stop', timeoutMs }, () => undefined);
    const timer = setTimeout(() => {
      if (c.child.exitCode !== null || c.child.signalCode !== null) return;
      c.inc.how = 'forced';
      c.inc.endedAt = Date.now();
      c.child.kill('SIGKILL');
    }, timeoutMs + 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** Kills whatever still runs (after a failure). */
  async close(): Promise<void> {
    await Promise.all([...this.children.keys()].map((w) => this.kill(w)));
  }
}
