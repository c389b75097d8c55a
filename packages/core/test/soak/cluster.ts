/**
 * The soak's worker processes (fixtures/soak-worker.mjs, forked by the testing module's
 * WorkerCluster): started, SIGKILLed, restarted under the same workerId (a new incarnation: a new
 * process and new log files), sent faults over IPC, and stopped gracefully with a bound, SIGKILLed
 * past it.
 */
import { WorkerCluster } from '@kinesis-client/examples/testing';
import type { Incarnation } from './logs.js';

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
  /** Each worker's latest incarnation: a worker id is started again only once its process is gone. */
  private readonly latest = new Map<string, Incarnation>();
  private readonly counts = new Map<string, number>();
  private nextId = 0;
  private readonly waiting = new Map<number, (r: Reply['result']) => void>();
  private readonly processes = new WorkerCluster<WorkerBase & { workerId: string; incarnation: number }, Reply>({
    script: new URL('../fixtures/soak-worker.mjs', import.meta.url),
    specVariable: 'KC_SOAK',
    // the built packages, without the test runner's TypeScript loader
    execArgv: [],
    onMessage: (_, m) => {
      if (m.type === 'notice' && m.text) this.notices.add(m.text);
      else if (m.type === 'fault-result' && m.id !== undefined) this.waiting.get(m.id)?.(m.result);
    },
    onExit: (workerId) => {
      const inc = this.latest.get(workerId)!;
      inc.endedAt ??= Date.now();
      if (inc.how === 'running') inc.how = 'stopped';
    },
  });

  constructor(private readonly base: WorkerBase) {}

  isUp(workerId: string): boolean {
    const inc = this.latest.get(workerId);
    return !!inc && inc.readyAt !== undefined && this.processes.isRunning(workerId) && inc.how === 'running';
  }

  /** Its process runs but its createSystem has not resolved yet. */
  isStarting(workerId: string): boolean {
    return this.latest.get(workerId)?.readyAt === undefined && this.processes.isRunning(workerId);
  }

  current(workerId: string): string | undefined {
    return this.isUp(workerId) ? this.latest.get(workerId)!.inc : undefined;
  }

  /** A new process for `workerId`; resolves once its system is up. */
  async start(workerId: string, timeoutMs = 90_000): Promise<void> {
    const n = (this.counts.get(workerId) ?? 0) + 1;
    this.counts.set(workerId, n);
    const inc: Incarnation = { inc: `${workerId}.${n}`, worker: workerId, startedAt: Date.now(), endedAt: undefined, how: 'running' };
    this.incarnations.push(inc);
    this.latest.set(workerId, inc);
    await this.processes.start(workerId, { ...this.base, workerId, incarnation: n }, timeoutMs).catch((error: Error) => {
      throw new Error(error.message.replace(`worker ${workerId}`, inc.inc));
    });
    inc.readyAt = Date.now();
  }

  /** Applies a fault inside the worker's process; a worker that is down or does not answer reports why. */
  async fault(workerId: string, fault: object, timeoutMs = 15_000): Promise<{ applied: boolean; inc?: string; detail: string }> {
    const inc = this.latest.get(workerId);
    const child = this.processes.child(workerId);
    if (!inc || !child || !this.isUp(workerId)) return { applied: false, detail: inc?.how === 'running' ? 'worker starting' : 'worker down' };
    const id = this.nextId++;
    const result = await new Promise<Reply['result'] | undefined>((resolve) => {
      const done = (r: Reply['result'] | undefined) => {
        clearTimeout(timer);
        child.off('exit', exited);
        resolve(r);
      };
      const exited = () => done(undefined);
      const timer = setTimeout(exited, timeoutMs);
      child.once('exit', exited);
      this.waiting.set(id, done);
      child.send({ type: 'fault', id, fault }, (error) => error && done(undefined));
    });
    this.waiting.delete(id);
    if (!result) return { applied: false, inc: inc.inc, detail: 'no answer' };
    const { applied, ...rest } = result;
    return { applied, inc: inc.inc, detail: JSON.stringify(rest) };
  }

  async kill(workerId: string): Promise<void> {
    const inc = this.latest.get(workerId);
    if (!inc || !this.processes.isRunning(workerId)) return;
    inc.how = 'killed';
    inc.endedAt = Date.now();
    await this.processes.kill(workerId);
  }

  /** Graceful stop with a deadline; past it (plus a grace for the process to exit) the process is SIGKILLed and marked 'forced'. */
  async stop(workerId: string, timeoutMs: number): Promise<void> {
    const inc = this.latest.get(workerId);
    await this.processes.stop(workerId, {
      message: { type: 'stop', timeoutMs },
      timeoutMs: timeoutMs + 10_000,
      beforeKill: () => {
        inc!.how = 'forced';
        inc!.endedAt = Date.now();
      },
    });
  }

  /** Kills whatever still runs (after a failure). */
  async close(): Promise<void> {
    await Promise.all(this.processes.alive.map((w) => this.kill(w)));
  }
}
