/**
 * Reads what `status` and `watch` show: each stream's shards, the leases and their lags, judged
 * by the pure `statusReport` (status-report.ts) with the lease counters watched so far.
 */
import { leaseAddress } from '@kinesis-client/worker/lease';
import { LeaseExpiry } from '../lease-taker.js';
import { readLags } from './lag.js';
import type { Session } from './session.js';
import { statusReport, streamsOf, type StatusReport, type StreamListing } from './status-report.js';

export type { ShardRow, StatusReport, StatusInput, StreamStatus, Summary, WorkerRow } from './status-report.js';
export { statusReport } from './status-report.js';

/** Lease counters as watched so far: across redraws (watch), or over one sample (status). */
export interface Watcher {
  expiry: LeaseExpiry;
  /** When the counters were first read; a counter that moved after it was renewed while watched. */
  since?: number;
}

/** Reads the streams and the leases, adding what they show to `watcher`. */
export async function readStatus(session: Session, watcher: Watcher, lag: boolean): Promise<StatusReport> {
  const { options } = session;
  // the streams first: with none in Kinesis, that is the error to report
  const listed = await session.listings();
  const leases = await session.scan();
  const now = performance.now();
  watcher.expiry.observe(leases, now);
  watcher.since ??= now;
  const { expiry, since: watchedSince } = watcher;
  // a stream only the leases name is listed too, so its shards show as Kinesis has them
  const others = streamsOf(session.streams, leases).filter((s) => !session.streams.includes(s));
  const streams: StreamListing[] = [...listed, ...(await Promise.all(others.map(async (streamName) => ({ streamName, shards: await session.listing(streamName), leasedOnly: true }))))];
  const inKinesis = new Set(streams.filter((s) => s.shards !== undefined).map((s) => s.streamName));
  const addressOf = (l: (typeof leases)[number]) => leaseAddress(l, session.streams[0]!);
  const lags = lag ? await readLags(session.kinesis, leases.filter((l) => inKinesis.has(addressOf(l).streamName)), addressOf) : new Map();
  return statusReport({
    application: options.appName,
    streams,
    store: session.target,
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
