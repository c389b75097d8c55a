/**
 * Whether this worker is live and ready, decided in one pure function from what the system knows,
 * with the time passed in (as `decide()` takes its counts): `system.health()`, `/healthz` and
 * `/readyz` all answer from it. Each reason has a stable code; the README lists them.
 */

export type HealthCode =
  /** createSystem has not resolved yet. */
  | 'STARTING'
  /** stop() was called, or the system stopped itself. */
  | 'STOPPED'
  /** The root supervisor passed its restart limit (`fatal`): the system stopped itself. */
  | 'SUPERVISOR_GAVE_UP'
  /** No shard-host thread is up: every one is restarting. */
  | 'NO_SHARD_HOST'
  /** The latest lease-store call of the main thread failed (table missing, server unreachable), none succeeded since. */
  | 'LEASE_STORE_UNREACHABLE'
  /** A shard this worker holds has records waiting and handled no batch for `health.stallMs`. */
  | 'NO_PROGRESS';

export interface HealthReason {
  code: HealthCode;
  message: string;
  /** NO_PROGRESS: the shards without progress. */
  shardIds?: string[];
  /** NO_PROGRESS: the same shards with their streams (shard ids repeat across the streams of one system). */
  shards?: { streamName: string; shardId: string }[];
}

export interface Health {
  /** False once the system has stopped for good (stopped, or its root supervisor gave up): restart the process. */
  live: boolean;
  /** True when there is no reason at all. */
  ready: boolean;
  reasons: HealthReason[];
}

/** A held shard's progress as the monitor saw it; times on the same clock as `now`. */
export interface ShardProgress {
  streamName: string;
  shardId: string;
  /** When this worker took (or started running) the shard. */
  heldSince: number;
  /** The last batch handled, if any. */
  lastHandledAt: number | undefined;
  /** Records are waiting: behind latest, or buffered and not yet handled, as last seen. */
  waiting: boolean;
}

export interface HealthInput {
  started: boolean;
  stopped: boolean;
  gaveUp: boolean;
  /** Shard-host threads answering now, of how many. */
  hostsUp: number;
  hosts: number;
  /** The main thread's lease-store calls: when the latest one succeeded and when one failed. */
  store: { lastOkAt: number | undefined; lastFailedAt: number | undefined; lastError: string | undefined };
  shards: readonly ShardProgress[];
  stallMs: number;
}

const STOPPING: ReadonlySet<HealthCode> = new Set(['STOPPED', 'SUPERVISOR_GAVE_UP']);

export function assessHealth(input: HealthInput, now: number): Health {
  const reasons: HealthReason[] = [];
  if (input.gaveUp) reasons.push({ code: 'SUPERVISOR_GAVE_UP', message: 'the root supervisor passed its restart limit and stopped the system' });
  if (input.stopped) reasons.push({ code: 'STOPPED', message: 'the system is stopping or stopped' });
  if (!input.started && !input.stopped) reasons.push({ code: 'STARTING', message: 'createSystem has not finished starting' });
  if (input.started && !input.stopped && input.hosts > 0 && input.hostsUp === 0) {
    reasons.push({ code: 'NO_SHARD_HOST', message: `none of the ${input.hosts} shard-host threads is up` });
  }
  const { lastOkAt, lastFailedAt, lastError } = input.store;
  if (lastFailedAt !== undefined && (lastOkAt === undefined || lastFailedAt > lastOkAt)) {
    reasons.push({ code: 'LEASE_STORE_UNREACHABLE', message: `the latest lease-store call failed${lastError ? `: ${lastError}` : ''}` });
  }
  const stalled = input.shards
    .filter((s) => s.waiting && now - Math.max(s.heldSince, s.lastHandledAt ?? -Infinity) >= input.stallMs)
    .map(({ streamName, shardId }) => ({ streamName, shardId }))
    .sort((a, b) => (a.streamName === b.streamName ? (a.shardId < b.shardId ? -1 : 1) : a.streamName < b.streamName ? -1 : 1));
  if (stalled.length > 0 && !input.stopped) {
    const message = `records wait on ${stalled.length} held shard(s) with no batch handled for ${input.stallMs} ms`;
    reasons.push({ code: 'NO_PROGRESS', message, shardIds: stalled.map((s) => s.shardId).sort(), shards: stalled });
  }
  return { live: !reasons.some((r) => STOPPING.has(r.code)), ready: reasons.length === 0, reasons };
}
