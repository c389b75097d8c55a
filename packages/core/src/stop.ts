import type { BatchInfo } from '@kinesis-client/worker';
import { handingTo, holderOf, type LeaseStore } from '@kinesis-client/worker/lease';
import { invalidArgument } from './option-errors.js';

export interface StopOptions {
  /**
   * How long in-flight batches may take to finish (default 30 000). At the deadline the ones still
   * running are abandoned without a checkpoint: the next owner of their shard reads them again.
   */
  timeoutMs?: number;
}

/** A batch stop() abandoned: it was running at the deadline and was not checkpointed. */
export interface AbandonedBatch {
  shardId: string;
  firstSequenceNumber: string;
  lastSequenceNumber: string;
}

export interface StopResult {
  abandoned: AbandonedBatch[];
}

export const DEFAULT_STOP_TIMEOUT_MS = 30_000;
/**
 * Each step after the deadline gets this long at most: the drains the abandoned batches let finish,
 * ending the threads that did not, releasing from the main thread the leases they still hold.
 * So stop() ends by its deadline plus about three times this, whatever hangs.
 */
const STOP_GRACE_MS = 2_000;
const MAX_TIMER_MS = 2_147_483_647;

/** Validates stop()'s argument; INVALID_ARGUMENT names what is wrong. */
export function stopTimeout(options: unknown): number {
  if (options === undefined) return DEFAULT_STOP_TIMEOUT_MS;
  const invalid = (message: string) => invalidArgument('stop', message, options);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw invalid('expected { timeoutMs?: number } or nothing');
  const unknown = Object.keys(options).filter((k) => k !== 'timeoutMs');
  if (unknown.length > 0) throw invalid(`unknown option "${unknown[0]}"`);
  const { timeoutMs } = options as StopOptions;
  if (timeoutMs === undefined) return DEFAULT_STOP_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_TIMER_MS) {
    throw invalid(`timeoutMs must be an integer from 0 to ${MAX_TIMER_MS}`);
  }
  return timeoutMs;
}

/** True when `work` settled within `ms`; the timer never outlives the call, so it keeps no process alive. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([work.then(() => true as const, () => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface StopSteps {
  /** The graceful stop: the coordinator stops, every shard drains, checkpoints and releases its lease, the threads end, the pool goes idle. */
  graceful(): Promise<void>;
  /** At the deadline: batches still running are abandoned (their pool threads ended); returns them. */
  abandon(): BatchInfo[];
  /** Ends the shard-host threads that have not ended yet. */
  terminateThreads(): Promise<void>;
  /** Gives back, from the main thread, leases this worker still holds and handoffs to it still pending. */
  releaseLeft(): Promise<void>;
  /** Ends the pool and the clients; returns whatever the pool was still running. */
  close(): Promise<BatchInfo[]>;
}

/**
 * stop() with a deadline. Nothing here waits on anything unbounded: a batch or handleFailed that
 * never settles, a shard-host thread that never answers, a DynamoDB call that hangs. After the
 * deadline each step gets `graceMs`, and what did not finish is cut off: abandoned batches are
 * delivered again by the next owner, leases that could not be released expire after failoverMs.
 */
export async function boundedStop(steps: StopSteps, timeoutMs: number, graceMs = STOP_GRACE_MS): Promise<StopResult> {
  const started = Date.now();
  const graceful = steps.graceful();
  const abandoned: BatchInfo[] = [];
  if (!(await settlesWithin(graceful, timeoutMs))) {
    // a drained reader treats its abandoned batch as failed and releases the lease without it
    abandoned.push(...steps.abandon());
    if (!(await settlesWithin(graceful, graceMs))) await settlesWithin(steps.terminateThreads(), graceMs);
  }
  const left = Math.max(graceMs, timeoutMs - (Date.now() - started));
  await settlesWithin(steps.releaseLeft(), left);
  abandoned.push(...(await steps.close()));
  return {
    abandoned: abandoned.map(({ shardId, firstSequenceNumber, lastSequenceNumber }) => ({ shardId, firstSequenceNumber, lastSequenceNumber })),
  };
}

/**
 * Leases of threads that died and were not replaced (the system is stopping), and leases handed
 * to this worker that it had not started yet: give them back too. Handoffs to it still pending
 * are cancelled, so their holders keep them rather than handing them to a worker that is gone.
 */
export async function releaseOrphans(leases: LeaseStore, workerId: string): Promise<void> {
  const pending = (await leases.scan()).filter((l) => handingTo(l) === workerId);
  await Promise.all(pending.map((l) => leases.cancelHandoff(l.leaseKey, l.checkpointOwner!, workerId)));
  // after the cancellations, so a lease handed over just before one is seen here
  const mine = (await leases.scan()).filter((l) => holderOf(l) === workerId);
  await Promise.all(mine.map((l) => leases.release(l.leaseKey, workerId)));
}
