/**
 * Fencing by time, on this worker's own clock: a lease is ours to act on until failoverMs minus a
 * safety margin after the last successful write of it (take, renewal or checkpoint) was SENT —
 * measured from the send, not the answer, so a slow answer never lengthens it. Other workers may
 * take the lease failoverMs after they last saw its counter change, which is never before that
 * send; so a worker that stops at the fence never overlaps one that took the lease.
 *
 * The state lives in a SharedArrayBuffer so the consumer pool thread reads the live value at the
 * moment a batch really starts, however long the batch waited in queues on the way.
 */

import type { Clock } from '../clock.js';

/** Milliseconds on the process-wide monotonic clock: the same in every thread of this process. */
export function processNow(): number {
  return Number(process.hrtime.bigint() / 1_000n) / 1_000;
}

interface FenceTiming {
  failoverMs: number;
  safetyMarginMs: number;
}

/** Until when batches may start, given when the last successful write was sent. */
const fenceUntil = (sentAt: number, t: FenceTiming): number => sentAt + t.failoverMs - t.safetyMarginMs;

/** From when other workers may take the lease: this worker considers it lost then. */
const leaseLostAt = (sentAt: number, t: FenceTiming): number => sentAt + t.failoverMs;

/** Whether a batch may start at `now`, given the fence's buffer (what the pool thread gets). */
export function fenceOpen(buffer: SharedArrayBuffer, now: number): boolean {
  return now < Number(Atomics.load(new BigInt64Array(buffer), UNTIL)) / 1_000;
}

/** A write still unanswered when the lease must be considered lost. */
export const EXPIRED: unique symbol = Symbol('lease expired');

/**
 * `call`, or EXPIRED once `waitMs` have passed without its answer: a hung call never keeps a lease
 * actor believing it holds the lease (nor blocks its mailbox) past the moment others may take it.
 * A non-finite wait (no deadline yet) leaves the call alone.
 */
export function beforeDeadline<T>(call: Promise<T>, waitMs: number, clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>): Promise<T | typeof EXPIRED> {
  if (!Number.isFinite(waitMs)) return call;
  return new Promise((resolve, reject) => {
    // after the I/O of this loop turn: an answer already in (a loop that stalled) wins over the timer
    const timer = clock.setTimeout(() => setImmediate(() => resolve(EXPIRED)), Math.max(0, waitMs));
    call.then(
      (value) => (clock.clearTimeout(timer), resolve(value)),
      (error) => (clock.clearTimeout(timer), reject(error)),
    );
  });
}

const UNTIL = 0;
const SENT = 1;

/** One shard's fence, shared by its lease actor (writes), dispatcher and pool threads (read). Microseconds inside. */
export class LeaseFence {
  readonly buffer = new SharedArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT);
  private readonly view = new BigInt64Array(this.buffer);

  constructor(private readonly timing: FenceTiming) {}

  /** A write sent at `sentAt` held: the lease is ours for longer. Never moves the fence back. */
  renewed(sentAt: number): void {
    const sent = BigInt(Math.floor(sentAt * 1_000));
    if (sent <= Atomics.load(this.view, SENT)) return;
    Atomics.store(this.view, SENT, sent);
    Atomics.store(this.view, UNTIL, BigInt(Math.floor(fenceUntil(sentAt, this.timing) * 1_000)));
  }

  /** The lease is gone (lost, released, ended): nothing more starts. */
  revoke(): void {
    Atomics.store(this.view, UNTIL, 0n);
    Atomics.store(this.view, SENT, 0n);
  }

  open(now: number): boolean {
    return fenceOpen(this.buffer, now);
  }

  /** When this worker must consider the lease lost; -Infinity before any successful write. */
  lostAt(): number {
    const sent = Atomics.load(this.view, SENT);
    return sent === 0n ? Number.NEGATIVE_INFINITY : leaseLostAt(Number(sent) / 1_000, this.timing);
  }
}
