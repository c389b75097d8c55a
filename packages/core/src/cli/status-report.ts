/**
 * The status of an application, as `status`, `watch` and `--json` show it: per stream, one row per
 * shard (listed by the stream or leased), then the workers and what they hold over all streams,
 * and a summary. Built by a pure function from what was read (each stream's shards, the leases,
 * the lags) and the lease expiry observed so far, with the Java KCL's relative rule the takers
 * use: an owner is live while its lease counter changes, and its lease expired once the counter
 * stood still for failoverMs. A lease's stream and shard come from `leaseAddress` alone.
 */
import type { Shard } from '@aws-sdk/client-kinesis';
import { SHARD_END, handingTo, holderOf, leaseAddress, type LeaseSnapshot } from '@kinesis-client/worker/lease';
import { shardKey } from '@kinesis-client/worker/internal';
import type { LeaseExpiry } from '../lease-taker.js';
import { shardNode } from '../shard-graph.js';
import type { Lag } from './lag.js';

/** open/closed: as the stream lists it; ended: checkpoint at SHARD_END; waiting: a parent is not finished; unlisted: leased, no longer listed. */
type ShardState = 'open' | 'closed' | 'ended' | 'waiting' | 'unlisted';
/** live: the counter moved while watched; expired: still for failoverMs; stalled: still, not yet for failoverMs; unknown: not watched long enough. */
type Renewal = 'live' | 'stalled' | 'expired' | 'unknown';

export interface ShardRow {
  streamName: string;
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

export interface Summary {
  shards: number;
  open: number;
  closed: number;
  leases: number;
  held: number;
  free: number;
  expired: number;
  workers: number;
  maxMillisBehindLatest: number | undefined;
}

/** One stream of the application: given to the CLI (`configured`), leased in the store, or both. */
export interface StreamStatus {
  streamName: string;
  /** Given with --stream or in the config file; false: only its leases are in the store. */
  configured: boolean;
  /** false: Kinesis has no such stream (deleted, or a wrong name): its leases show as unlisted. */
  inKinesis: boolean;
  summary: Summary;
  /** Shard ids of its expired leases. */
  expired: string[];
}

export interface StatusReport {
  application: string;
  /** The first stream given (the only one of a single-stream application). */
  stream: string;
  store: string;
  at: string;
  failoverMs: number;
  /** How long lease counters were watched before this report. */
  observedMs: number;
  /** Over all streams. */
  summary: Summary;
  /** Over all streams: a worker's leases of every stream count toward its load. */
  workers: WorkerRow[];
  streams: StreamStatus[];
  /** Every stream's rows, stream by stream, each naming its stream. */
  shards: ShardRow[];
  /** Owned leases whose owner has not renewed them within failoverMs: shard ids, `stream/shardId` when the report shows several streams. */
  expired: string[];
}

/** A stream as read: its shards from ListShards, undefined when Kinesis has no such stream. */
export interface StreamListing {
  streamName: string;
  shards: readonly Shard[] | undefined;
  /** Only the leases name it (not given): listed to show its shards as Kinesis has them. */
  leasedOnly?: boolean;
}

export interface StatusInput {
  application: string;
  /** The streams given, in order (the first is the stream of bare shard-id lease keys), then any others the leases name. */
  streams: readonly StreamListing[];
  store: string;
  leases: readonly LeaseSnapshot[];
  /** By shardKey (`stream/shardId`). */
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

const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function summarize(nodes: readonly { closed: boolean }[], leases: readonly LeaseSnapshot[], expired: number, workers: number, rows: readonly ShardRow[]): Summary {
  const unfinished = leases.filter((l) => l.checkpoint !== SHARD_END);
  const behind = rows.flatMap((r) => (typeof r.lag === 'object' && r.lag.millisBehindLatest !== undefined ? [r.lag.millisBehindLatest] : []));
  return {
    shards: nodes.length,
    open: nodes.filter((n) => !n.closed).length,
    closed: nodes.filter((n) => n.closed).length,
    leases: leases.length,
    held: unfinished.filter((l) => l.leaseOwner).length,
    free: unfinished.filter((l) => !l.leaseOwner).length,
    expired,
    workers,
    maxMillisBehindLatest: behind.length ? Math.max(...behind) : undefined,
  };
}

/** The rows of one stream, its leases' holders added to `workers`. */
function streamRows(streamName: string, listed: readonly Shard[], leases: readonly LeaseSnapshot[], input: StatusInput, workers: Map<string, WorkerRow>) {
  const nodes = new Map(listed.map((s) => [s.ShardId!, shardNode(s)]));
  const defaultStream = input.streams[0]!.streamName;
  const byShard = new Map(leases.map((l) => [leaseAddress(l, defaultStream).shardId, l]));
  const ids = [...new Set([...nodes.keys(), ...byShard.keys()])].sort(order);
  const expired: string[] = [];
  const held = new Set<string>();
  const rows = ids.map((shardId): ShardRow => {
    const node = nodes.get(shardId);
    const lease = byShard.get(shardId);
    const parentShardIds = node?.parentShardIds ?? lease?.parentShardIds ?? [];
    const parentPending = parentShardIds.some((p) => nodes.has(p) && byShard.has(p) && byShard.get(p)!.checkpoint !== SHARD_END);
    const state: ShardState =
      lease?.checkpoint === SHARD_END ? 'ended' : parentPending ? 'waiting' : !node ? 'unlisted' : node.closed ? 'closed' : 'open';
    const holder = lease && holderOf(lease);
    const owned = lease && holder ? renewalOf(lease, input) : undefined;
    if (lease && holder && lease.checkpoint !== SHARD_END) {
      const w = workers.get(holder) ?? { workerId: holder, leases: 0, expired: 0 };
      w.leases++;
      if (owned?.renewal === 'expired') w.expired++;
      workers.set(holder, w);
      held.add(holder);
    }
    // a finished lease is nobody's work: its owner need not renew it
    if (lease && lease.checkpoint !== SHARD_END && owned?.renewal === 'expired') expired.push(shardId);
    const lag = input.lags.get(shardKey({ streamName, shardId }));
    return {
      streamName,
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
  return { rows, expired, nodes: [...nodes.values()], workers: held.size };
}

/** The streams a report shows: those given, in order, then any other the leases name, by name. */
export function streamsOf(given: readonly string[], leases: readonly LeaseSnapshot[]): string[] {
  const leased = new Set(leases.map((l) => leaseAddress(l, given[0]!).streamName));
  return [...given, ...[...leased].filter((s) => !given.includes(s)).sort(order)];
}

export function statusReport(input: StatusInput): StatusReport {
  const given = input.streams.filter((s) => !s.leasedOnly).map((s) => s.streamName);
  const defaultStream = given[0]!;
  const names = streamsOf(given, input.leases);
  const listings = new Map(input.streams.map((s) => [s.streamName, s.shards]));
  const workers = new Map<string, WorkerRow>();
  const streams: StreamStatus[] = [];
  const shards: ShardRow[] = [];
  const expired: string[] = [];
  const nodes: { closed: boolean }[] = [];
  for (const streamName of names) {
    const leases = input.leases.filter((l) => leaseAddress(l, defaultStream).streamName === streamName);
    const listed = listings.get(streamName);
    const one = streamRows(streamName, listed ?? [], leases, input, workers);
    streams.push({
      streamName,
      configured: given.includes(streamName),
      inKinesis: listed !== undefined,
      summary: summarize(one.nodes, leases, one.expired.length, one.workers, one.rows),
      expired: one.expired,
    });
    shards.push(...one.rows);
    nodes.push(...one.nodes);
    expired.push(...(names.length === 1 ? one.expired : one.expired.map((shardId) => shardKey({ streamName, shardId }))));
  }
  return {
    application: input.application,
    stream: defaultStream,
    store: input.store,
    at: new Date(input.wallNow).toISOString(),
    failoverMs: input.failoverMs,
    observedMs: input.now - input.watchedSince,
    summary: summarize(nodes, input.leases, expired.length, workers.size, shards),
    workers: [...workers.values()].sort((a, b) => order(a.workerId, b.workerId)),
    streams,
    shards,
    expired,
  };
}
