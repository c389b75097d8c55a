import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { BatchOutcome, BatchTask, FailedTask, OutcomeMessage, SubmitMessage } from './protocol.js';

/** A task as a shard host sends it: the link adds the port its outcome comes back on. */
export type OutgoingTask = Omit<BatchTask, 'replyTo'> | Omit<FailedTask, 'replyTo'>;

/** How a shard host's batches reach the consumer pool (HostEnv.pool). */
export interface BatchRunner {
  run(task: OutgoingTask, transfer: ArrayBuffer[]): Promise<BatchOutcome>;
}

/**
 * A shard host's side of the batch path. Each task goes to the main thread over one plain port
 * (no comlink: a task is one message, its payload transferred), carrying a fresh MessagePort; the
 * pool thread that runs it posts the outcome on that port, straight back here, so no
 * acknowledgement waits on the main thread. The main thread answers on the shared port only for a
 * task the pool could not answer for (its thread died or was ended, it timed out, the system
 * stopped before it started). An outcome is taken once: should both come, the first wins, and
 * either is safe to act on (a success is only ever posted once handleBatch has succeeded).
 *
 * A port per task rather than one per host: a host's tasks run on any of the pool's threads at
 * once, and a port can live in only one thread; a channel costs tens of microseconds, against a
 * batch of hundreds of records.
 */
export class PoolLink implements BatchRunner {
  private nextId = 1;
  private readonly pending = new Map<number, (outcome: BatchOutcome) => void>();

  constructor(private readonly port: MessagePort) {
    port.on('message', ({ id, outcome }: OutcomeMessage) => this.settle(id, outcome));
    // the shared port only answers tasks that are pending: it must not keep the thread alive on its own
    port.unref();
  }

  run(task: OutgoingTask, transfer: ArrayBuffer[]): Promise<BatchOutcome> {
    const id = this.nextId++;
    const { port1: reply, port2: replyTo } = new MessageChannel();
    return new Promise((resolve) => {
      this.pending.set(id, (outcome) => {
        reply.close();
        resolve(outcome);
      });
      reply.once('message', (outcome: BatchOutcome) => this.settle(id, outcome));
      const message: SubmitMessage = { id, task: { ...task, replyTo } };
      this.port.postMessage(message, [...transfer, replyTo]);
    });
  }

  private settle(id: number, outcome: BatchOutcome): void {
    const settle = this.pending.get(id);
    if (!settle) return;
    this.pending.delete(id);
    settle(outcome);
  }
}
