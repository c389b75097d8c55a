import type { Emitter } from 'mitt';
import type { LeaseStore } from '@kinesis-client/worker/lease';
import { shardKey, type ShardAddress, type ShardStatus } from '@kinesis-client/worker/internal';
import type { SystemEvents } from './events.js';
import type { HealthInput, ShardProgress } from './health.js';
import { streamOf } from './stream-names.js';

/** Seconds of records/s history kept per shard (the dashboard's chart). */
const SERIES_SECONDS = 120;
const MAX_ERRORS = 50;

export interface RecentError {
  at: number;
  code: string | undefined;
  message: string;
  streamName: string | undefined;
  shardId: string | undefined;
  fatal: boolean;
}

export type LeaseChange = {
  type: 'lease:acquired' | 'lease:lost' | 'lease:released' | 'shard:ended';
  streamName: string;
  shardId: string;
  workerId?: string;
  to?: string;
  at: number;
};

interface Held extends ShardProgress {
  millisBehindLatest: number | undefined;
}

/**
 * What this worker has seen, kept on the main thread from `system.events` and a periodic look at
 * the shard-host threads: each held shard's progress (for health), records per second per shard
 * (a ring of one-second buckets), the main thread's lease-store outcomes and the recent errors.
 * Shards are told apart by stream and shard id (`shardKey`): two streams share shard ids.
 * It only listens and counts: nothing here changes what the system does.
 */
export class SystemObserver {
  gaveUp = false;
  readonly errors: RecentError[] = [];
  /** By shardKey. */
  private readonly held = new Map<string, Held>();
  /** Per shardKey: records handled in each of the last SERIES_SECONDS seconds, by epoch second. */
  private readonly buckets = new Map<string, Map<number, number>>();
  private readonly store: HealthInput['store'] = { lastOkAt: undefined, lastFailedAt: undefined, lastError: undefined };
  private readonly changeListeners = new Set<(change: LeaseChange) => void>();

  /**
   * `defaultStream`: a single-stream system's stream, for events that name none (every
   * shard-scoped event of a system with several streams names its own).
   */
  constructor(
    events: Emitter<SystemEvents>,
    private readonly defaultStream: string | undefined = undefined,
    private readonly now: () => number = Date.now,
  ) {
    events.on('lease:acquired', (e) => {
      const address = this.address(e);
      this.held.set(shardKey(address), { ...address, heldSince: this.now(), lastHandledAt: undefined, waiting: false, millisBehindLatest: undefined });
      this.changed({ type: 'lease:acquired', ...address, workerId: e.workerId, at: this.now() });
    });
    events.on('lease:lost', (e) => this.dropped('lease:lost', this.address(e)));
    events.on('lease:released', (e) => this.dropped('lease:released', this.address(e), e.to));
    events.on('shard:ended', (e) => this.dropped('shard:ended', this.address(e)));
    events.on('shard:stopped', (e) => void this.held.delete(shardKey(this.address(e))));
    events.on('batch:handled', (e) => {
      const at = this.now();
      const key = shardKey(this.address(e));
      const shard = this.held.get(key);
      if (shard) {
        shard.lastHandledAt = at;
        shard.waiting = (e.millisBehindLatest ?? 0) > 0;
        shard.millisBehindLatest = e.millisBehindLatest;
      }
      const second = Math.floor(at / 1000);
      const buckets = this.buckets.get(key) ?? new Map<number, number>();
      buckets.set(second, (buckets.get(second) ?? 0) + e.count);
      for (const s of buckets.keys()) if (s <= second - SERIES_SECONDS) buckets.delete(s);
      this.buckets.set(key, buckets);
    });
    events.on('error', (e) => this.recordError(e.error, streamOf(e, this.defaultStream), e.shardId, false));
    events.on('fatal', (e) => {
      this.gaveUp = true;
      this.recordError(e.error, this.defaultStream, undefined, true);
    });
  }

  /** The shard an event is about: its stream (the event's own, else the system's one) and shard id. */
  private address(e: { shardId: string }): ShardAddress {
    return { streamName: streamOf(e, this.defaultStream) ?? '', shardId: e.shardId };
  }

  /** A lease moved on this worker: the dashboard pushes at once. */
  onLeaseChange(listener: (change: LeaseChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** What the shard-host threads report now: which shards have records waiting. */
  sample(statuses: readonly ShardStatus[]): void {
    for (const s of statuses) {
      const shard = this.held.get(shardKey(s));
      if (!shard) continue;
      shard.millisBehindLatest = s.millisBehindLatest;
      shard.waiting = (s.millisBehindLatest ?? 0) > 0 || s.bufferedRecords > 0;
    }
  }

  progress(): ShardProgress[] {
    return [...this.held.values()].map(({ streamName, shardId, heldSince, lastHandledAt, waiting }) => ({ streamName, shardId, heldSince, lastHandledAt, waiting }));
  }

  storeOutcomes(): HealthInput['store'] {
    return { ...this.store };
  }

  millisBehind(address: ShardAddress): number | undefined {
    return this.held.get(shardKey(address))?.millisBehindLatest;
  }

  /** Records per second over the last `seconds` whole seconds. */
  rate(address: ShardAddress, seconds = 5): number {
    const buckets = this.buckets.get(shardKey(address));
    if (!buckets) return 0;
    const current = Math.floor(this.now() / 1000);
    let sum = 0;
    for (let s = current - seconds; s < current; s++) sum += buckets.get(s) ?? 0;
    return sum / seconds;
  }

  /** Records per second, one value per whole second up to the last one, oldest first, per shard seen (by shardKey, `stream/shardId`). */
  series(seconds = 60): { endsAt: number; perShard: Record<string, number[]> } {
    const current = Math.floor(this.now() / 1000);
    const perShard: Record<string, number[]> = {};
    for (const [key, buckets] of this.buckets) {
      perShard[key] = Array.from({ length: seconds }, (_, i) => buckets.get(current - seconds + i) ?? 0);
    }
    return { endsAt: current * 1000, perShard };
  }

  /**
   * The store, its calls' outcomes recorded: a call that throws is a failure (a false answer to a
   * conditional write is not). Only the main thread's calls pass here; the threads report theirs as events.
   */
  watchStore(store: LeaseStore): LeaseStore {
    const outcomes = this.store;
    const now = this.now;
    return new Proxy(store, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== 'function' || key === 'close') return value;
        return (...args: unknown[]) => {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (!(result instanceof Promise)) return result;
          return result.then(
            (v) => {
              outcomes.lastOkAt = now();
              return v;
            },
            (error: unknown) => {
              outcomes.lastFailedAt = now();
              outcomes.lastError = error instanceof Error ? error.message : String(error);
              throw error;
            },
          );
        };
      },
    });
  }

  private dropped(type: LeaseChange['type'], address: ShardAddress, to?: string): void {
    this.held.delete(shardKey(address));
    this.changed({ type, ...address, ...(to ? { to } : {}), at: this.now() });
  }

  private changed(change: LeaseChange): void {
    for (const listener of this.changeListeners) listener(change);
  }

  private recordError(error: Error, streamName: string | undefined, shardId: string | undefined, fatal: boolean): void {
    this.errors.push({ at: this.now(), code: (error as { code?: string }).code, message: error.message, streamName, shardId, fatal });
    if (this.errors.length > MAX_ERRORS) this.errors.splice(0, this.errors.length - MAX_ERRORS);
  }
}
