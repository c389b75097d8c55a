/**
 * The status of an application, as `status`, `watch` and `--json` show it: one row per shard
 * (listed by the stream or leased), the workers and what they hold, and a summary. Built by a pure
 * function from what was read (shards, leases, lags) and the lease expiry observed so far, with
 * the Java KCL's relative rule the takers use: an owner is live while its lease counter changes,
 * and its lease expired once the counter stood still for failoverMs.
 */
import type { Shard } from '@aws-sdk/client-kinesis';
import { SHARD_END, handingTo, holderOf, type LeaseSnapshot } from '@kinesis-client/worker/lease';
import { LeaseExpiry } from '../lease-taker.js';
import { shardNode } from '../shard-graph.js';
import { readLags, type Lag } from './lag.js';
import type { Session } from './session.js';

/** open/closed: as the stream lists it; ended: checkpoint at SHARD_END; waiting: a parent is not finished; unlisted: leased, no longer listed. */
type ShardState = 'open' | 'closed' | 'ended' | 'waiting' | 'unlisted';
/** live: the counter moved while watched; expired: still for failoverMs; stalled: still, not yet for failoverMs; unknown: not watched long enough. */
type Renewal = 'live' | 'stalled' | 'expired' | 'unknown';

export interface ShardRow {
  shardId: string;
  state: ShardState;
  parentShardIds: string[];
  /** Who processes the shard: during a handoff still the old owner (its checkpointOwner). */
  owner: string | undefined;
  /** While a handoff is pending, the worker it goes to. */
  handingTo: string | undefined;
  /** Only for a lease with an owner. */
  renewal: Renewal | undefined;
  /** How long the counter has been seen unchanged. */
  unchangedForMs: number | undefined;
  leaseCounter: number | undefined;
  checkpoint: string | undefined;
  checkpointSubSequenceNumber: number | undefined;
  /** The anchor of a LATEST / AT_TIMESTAMP checkpoint (ISO), where reading starts. */
  checkpointTimestamp: string | undefined;
  /** 'at shard end', 'not started' (LATEST never taken), or what Kinesis said; undefined: not read. */
  lag: (Omit<Lag, 'oldestUnreadArrival'> & { oldestUnreadAgeMs?: number }) | 'at shard end' | 'not started' | undefined;
}

export interface WorkerRow {
  workerId: string;
  leases: number;
  expired: number;
}

export interface StatusReport {
  application: string;
  stream: string;
  store: string;
  at: string;
  failoverMs: number;
  /** How long lease counters were watched before this report. */
  observedMs: number;
  summary: { shards: number; open: number; closed: number; leases: number; held: number; free: number; expired: number; workers: number; maxMillisBehindLatest: number | undefined };
  workers: WorkerRow[];
  shards: ShardRow[];
  /** Owned leases whose owner has not renewed them within failoverMs: any worker may take them. */
  expired: string[];
}

export interface StatusInput {
  application: string;
  stream: string;
  store: string;
  shards: readonly Shard[];
  leases: readonly LeaseSnapshot[];
  lags: ReadonlyMap<string, Lag | 'at shard end' | 'not started'>;
  expiry: LeaseExpiry;
  /** When watching began (same clock as `now`). */
  watchedSince: number;
  now: number;
  wallNow: number;
  failoverMs: number;
  renewIntervalMs: number;
}

function renewalOf(lease: LeaseSnapshot, input: StatusInput): { renewal: Renewal; unchangedForMs: number } {
  const watched = input.now - input.watchedSince;
  const unchangedForMs = input.expiry.unchangedFor(lease, input.now) ?? 0;
  if (unchangedForMs < watched) return { renewal: 'live', unchangedForMs };
  if (input.expiry.isExpired(lease, input.now, input.failoverMs)) return { renewal: 'expired', unchangedForMs };
  // every live owner renews once per renewal interval
  return { renewal: watched > input.renewIntervalMs ? 'stalled' : 'unknown', unchangedForMs };
}

const shardOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function statusReport(input: StatusInput): StatusReport {
  const nodes = new Map(input.shards.map((s) => [s.ShardId!, shardNode(s)]));
  const byKey = new Map(input.leases.map((l) => [l.leaseKey, l]));
  const ids = [...new Set([...nodes.keys(), ...byKey.keys()])].sort(shardOrder);
  const workers = new Map<string, WorkerRow>();
  const expired: string[] = [];
  const rows = ids.map((shardId): ShardRow => {
    const node = nodes.get(shardId);
    const lease = byKey.get(shardId);
    const parentShardIds = node?.parentShardIds ?? lease?.parentShardIds ?? [];
    const parentPending = parentShardIds.some((p) => nodes.has(p) && byKey.has(p) && byKey.get(p)!.checkpoint !== SHARD_END);
    const state: ShardState =
      lease?.checkpoint === SHARD_END ? 'ended' : parentPending ? 'waiting' : !node ? 'unlisted' : node.closed ? 'closed' : 'open';
    const holder = lease && holderOf(lease);
    const owned = lease && holder ? renewalOf(lease, input) : undefined;
    if (lease && holder && lease.checkpoint !== SHARD_END) {
      const w = workers.get(holder) ?? { workerId: holder, leases: 0, expired: 0 };
      w.leases++;
      if (owned?.renewal === 'expired') w.expired++;
      workers.set(holder, w);
    }
    // a finished lease is nobody's work: its owner need not renew it
    if (lease && lease.checkpoint !== SHARD_END && owned?.renewal === 'expired') expired.push(shardId);
    const lag = input.lags.get(shardId);
    return {
      shardId,
      state,
      parentShardIds,
      owner: holder,
      handingTo: lease && handingTo(lease),
      renewal: owned?.renewal,
      unchangedForMs: owned?.unchangedForMs,
      leaseCounter: lease?.leaseCounter,
      checkpoint: lease?.checkpoint,
      checkpointSubSequenceNumber: lease?.checkpointSubSequenceNumber,
      checkpointTimestamp: lease?.checkpointTimestamp === undefined ? undefined : new Date(lease.checkpointTimestamp).toISOString(),
      lag:
        lag === undefined || typeof lag === 'string'
          ? lag
          : {
              ...(lag.millisBehindLatest === undefined ? {} : { millisBehindLatest: lag.millisBehindLatest }),
              ...(lag.oldestUnreadArrival === undefined ? {} : { oldestUnreadAgeMs: Math.max(0, input.wallNow - lag.oldestUnreadArrival) }),
              ...(lag.error === undefined ? {} : { error: lag.error }),
            },
    };
  });
  const unfinished = input.leases.filter((l) => l.checkpoint !== SHARD_END);
  const behind = rows.flatMap((r) => (typeof r.lag === 'object' && r.lag.millisBehindLatest !== undefined ? [r.lag.millisBehindLatest] : []));
  return {
    application: input.application,
    stream: input.stream,
    store: input.store,
    at: new Date(input.wallNow).toISOString(),
    failoverMs: input.failoverMs,
    observedMs: input.now - input.watchedSince,
    summary: {
      shards: nodes.size,
      open: [...nodes.values()].filter((n) => !n.closed).length,
      closed: [...nodes.values()].filter((n) => n.closed).length,
      leases: input.leases.length,
      held: unfinished.filter((l) => l.leaseOwner).length,
      free: unfinished.filter((l) => !l.leaseOwner).length,
      expired: expired.length,
      workers: workers.size,
      maxMillisBehindLatest: behind.length ? Math.max(...behind) : undefined,
    },
    workers: [...workers.values()].sort((a, b) => shardOrder(a.workerId, b.workerId)),
    shards: rows,
    expired,
  };
}

/** Lease counters as watched so far: across redraws (watch), or over one sample (status). */
export interface Watcher {
  expiry: LeaseExpiry;
  /** When the counters were first read; a counter that moved after it was renewed while watched. */
  since?: number;
}

/** Reads the stream and the leases, adding what they show to `watcher`. */
export async function readStatus(session: Session, watcher: Watcher, lag: boolean): Promise<StatusReport> {
  const { options } = session;
  // the stream first: without one, that is the error to report
  const shards = await session.shards();
  const leases = await session.scan();
  const now = performance.now();
  watcher.expiry.observe(leases, now);
  watcher.since ??= now;
  const { expiry, since: watchedSince } = watcher;
  const lags = lag ? await readLags(session.kinesis, options.streamName, leases) : new Map();
  return statusReport({
    application: options.appName,
    stream: options.streamName,
    store: session.target,
    shards,
    leases,
    lags,
    expiry,
    watchedSince,
    now,
    wallNow: Date.now(),
    failoverMs: options.lease.failoverMs,
    renewIntervalMs: options.lease.renewIntervalMs,
  });
}

/** Status once: the counters watched for `sampleMs` first, so live owners and expired leases tell apart. */
export async function sampleStatus(session: Session, sampleMs: number, lag: boolean): Promise<StatusReport> {
  const watcher: Watcher = { expiry: new LeaseExpiry() };
  if (sampleMs > 0) {
    watcher.since = performance.now();
    watcher.expiry.observe(await session.scan(), watcher.since);
    await new Promise((r) => setTimeout(r, sampleMs));
  }
  return readStatus(session, watcher, lag);
}
