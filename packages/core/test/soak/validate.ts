/**
 * The soak's validator: pure functions over what the workers recorded (logs.ts). Safety here;
 * liveness figures in liveness.ts.
 */
import type { BatchRun, SoakData, WorkerEvent } from './logs.js';

export interface Verdict {
  name: string;
  ok: boolean;
  detail: string;
}

/** Successful deliveries per record ("shard/seq"), in start order. */
export function deliveriesByRecord(batches: readonly BatchRun[]): Map<string, BatchRun[]> {
  const out = new Map<string, BatchRun[]>();
  for (const b of batches) {
    if (!b.ok) continue;
    for (const [seq] of b.records) {
      const key = `${b.shard}/${seq}`;
      const list = out.get(key);
      if (list) list.push(b);
      else out.set(key, [b]);
    }
  }
  return out;
}

export function lostRecords(data: SoakData, delivered: ReadonlyMap<string, BatchRun[]>): string[] {
  return data.produced.filter((p) => !delivered.has(`${p.shardId}/${p.sequenceNumber}`)).map((p) => `${p.shardId}/${p.sequenceNumber} (key ${p.key} n ${p.n})`);
}

/**
 * Per partition key, records in the order they were first handled (successful batches by start
 * time, records in batch order) must carry ascending counters: a key lives in one shard at a time,
 * and a child's records come only after its parents'.
 */
export function orderViolations(batches: readonly BatchRun[]): string[] {
  const seen = new Set<string>();
  const lastN = new Map<number, number>();
  const out: string[] = [];
  for (const b of batches) {
    if (!b.ok) continue;
    for (const [seq, key, n] of b.records) {
      const id = `${b.shard}/${seq}`;
      if (seen.has(id) || key < 0) continue;
      seen.add(id);
      const before = lastN.get(key) ?? -1;
      if (n < before) out.push(`key ${key}: n ${n} first handled after n ${before} (${b.inc} ${b.shard} at ${b.start})`);
      lastN.set(key, Math.max(before, n));
    }
  }
  return out;
}

/**
 * An event logged up to this long after a batch start may still have happened before it: events
 * reach the main thread's log over the host's event relay, while batch lines come from the pool
 * thread, which the shard host feeds directly (a take or a reader start and the first batch race).
 */
const EVENT_LOG_SLACK_MS = 1_000;

/**
 * Fencing, judged from batch starts against the lease takes (each a conditional write that only
 * one worker can win, so the takes are ground truth, not a worker's belief): a batch may start on
 * a shard only by the worker that won the latest take of it. A worker that goes on starting
 * batches after another took its lease (a partition, a handoff the hard way) is caught here even
 * when its batches and the taker's never overlap in time.
 */
export function fencingViolations(data: SoakData): string[] {
  const takes = new Map<string, WorkerEvent[]>();
  for (const e of data.events) if (e.e === 'take' && e.shard) takes.set(e.shard, [...(takes.get(e.shard) ?? []), e]);
  const out: string[] = [];
  for (const b of data.batches) {
    const list = takes.get(b.shard) ?? [];
    let latest: WorkerEvent | undefined;
    for (const t of list) if (t.t <= b.start) latest = t;
    if (!latest || latest.worker === b.worker) continue;
    const mine = list.some((t) => t.worker === b.worker && t.t > latest.t && t.t <= b.start + EVENT_LOG_SLACK_MS);
    if (!mine) out.push(`${b.inc} started a batch of ${b.shard} at ${b.start}, ${b.start - latest.t} ms after ${latest.inc} took it`);
  }
  return out;
}

/** When a batch without an end line stopped: abandoned at its timeout, or its process ended. */
export function batchEnd(data: SoakData, b: BatchRun): number {
  if (b.end !== undefined) return b.end;
  const timeout = data.events.find((e) => e.inc === b.inc && e.shard === b.shard && e.e === 'batch-failed' && e.code === 'BATCH_TIMEOUT' && e.t >= b.start);
  if (timeout) return timeout.t;
  return data.incarnations.find((i) => i.inc === b.inc)?.endedAt ?? data.endAt;
}

/** Faults that can make a live worker's renewals fail, so that its lease may legitimately expire under a running batch. */
const LEASE_FAULT = /^(dynamodb-loss|calls-(throw|hang|slow))$/;

/**
 * Two workers in one shard's handleBatch at once. The one exception: a batch that started while
 * its worker could still count on its lease, and then outlived it because that worker's DynamoDB
 * calls failed (it cannot be told; the batch timeout bounds it). A batch still running when a
 * live, renewing owner hands the lease on is a violation.
 */
export function overlaps(data: SoakData): { unexplained: string[]; explained: number } {
  const byShard = new Map<string, BatchRun[]>();
  for (const b of data.batches) byShard.set(b.shard, [...(byShard.get(b.shard) ?? []), b]);
  const unexplained: string[] = [];
  let explained = 0;
  for (const list of byShard.values()) {
    let open: { b: BatchRun; end: number }[] = [];
    for (const b of list) {
      open = open.filter((a) => a.end > b.start);
      for (const a of open) {
        if (a.b.inc === b.inc || a.end <= b.start) continue;
        const excused = data.faults.some(
          (f) => f.inc === a.b.inc && f.fault.kind === 'calls' && LEASE_FAULT.test(f.fault.label) && f.at <= b.start && Math.abs(a.b.start - f.at) <= data.failoverMs,
        );
        if (excused) explained++;
        else unexplained.push(`${b.shard}: ${b.inc} started at ${b.start} while ${a.b.inc}'s batch (${a.b.start}..${a.end}) ran`);
      }
      open.push({ b, end: batchEnd(data, b) });
    }
  }
  return { unexplained, explained };
}

const numeric = (seq: string | undefined) => (seq && /^\d+$/.test(seq) ? BigInt(seq) : undefined);
/** A checkpoint logged this long before a reader started may not have been what it read. */
const CHECKPOINT_SLACK_MS = 2_000;

/** The highest checkpoint of `shard` logged by `t` (any worker); SHARD_END covers everything. */
function checkpointAt(events: readonly WorkerEvent[], shard: string, t: number): bigint {
  let best = -1n;
  for (const e of events) {
    if (e.t > t) break;
    if (e.e !== 'checkpoint' || e.shard !== shard) continue;
    if (e.seq === 'SHARD_END') return BigInt(Number.MAX_SAFE_INTEGER) ** 4n;
    const n = numeric(e.seq);
    if (n !== undefined && n > best) best = n;
  }
  return best;
}

/**
 * Duplicates and what explains them. A shard's deliveries go back to records already handled
 * (a "replay") only from a reader that (re)started the shard (a crash, a thread or process death,
 * a lease move, a shard that gave up) at a checkpoint that did not cover them. Each restart
 * explains one replay in its process, after it. Before that replay, the batches the older readers
 * had already sent to the pool may still begin (one per reader restarted since the shard's last
 * batch; the replay waits for them, one batch per shard in the pool at a time), so those do not
 * use the restart up; they hold only records written before it, so once a batch with a newer
 * record has begun, that restart's replay is past. Attempts at the replay's own batch don't count.
 * The bound, a figure: for every restart, the records of that shard handled by then (anywhere),
 * or in the first batch after it and written before it, not covered by the checkpoint then.
 * Failed and abandoned attempts are not deliveries, so they add nothing beyond their restart.
 */
export function duplicates(data: SoakData, delivered: ReadonlyMap<string, BatchRun[]>) {
  const starts = data.events.filter((e) => e.e === 'started');
  const cp = new Map<WorkerEvent, bigint>(starts.map((s) => [s, checkpointAt(data.events, s.shard!, s.t - CHECKPOINT_SLACK_MS)]));
  const key = (inc: string, shard: string) => `${inc}/${shard}`;
  const runs = new Map<string, BatchRun[]>();
  for (const b of data.batches) runs.set(key(b.inc, b.shard), [...(runs.get(key(b.inc, b.shard)) ?? []), b]);
  const restarts = new Map<string, WorkerEvent[]>();
  for (const s of starts) restarts.set(key(s.inc, s.shard!), [...(restarts.get(key(s.inc, s.shard!)) ?? []), s]);
  const writtenAt = new Map(data.produced.map((p) => [`${p.shardId}/${p.sequenceNumber}`, p.at]));
  const used = new Set<WorkerEvent>();
  /** The restart that explains replay batch `j` going back to `first`, if any (and uses it up). */
  const explain = (j: BatchRun, first: bigint): WorkerEvent | undefined => {
    const mine = runs.get(key(j.inc, j.shard)) ?? [];
    const rs = restarts.get(key(j.inc, j.shard)) ?? [];
    const found = rs.find((s) => {
      if (used.has(s) || s.t > j.start + EVENT_LOG_SLACK_MS || first <= cp.get(s)!) return false;
      // batches of other records in between (not earlier attempts at this replay's own batch)
      const between = mine.filter((b) => b.start > s.t && b.start < j.start && b.records[0]?.[0] !== j.records[0]![0]);
      const queued = new Set(between.map((b) => b.records[0]?.[0])).size;
      const lastBefore = Math.max(-Infinity, ...mine.filter((b) => b.start < s.t).map((b) => b.start));
      // a batch with a record written after the restart came from the new reader: its replay was before that
      const moved = between.some((b) => b.records.some(([seq]) => (writtenAt.get(`${b.shard}/${seq}`) ?? -Infinity) > s.t));
      return !moved && queued <= rs.filter((r) => r.t > lastBefore && r.t <= j.start + EVENT_LOG_SLACK_MS).length;
    });
    if (found) used.add(found);
    return found;
  };
  let count = 0;
  const unexplained: string[] = [];
  const byShard = new Map<string, BatchRun[]>();
  for (const b of data.batches) if (b.ok && b.records.length) byShard.set(b.shard, [...(byShard.get(b.shard) ?? []), b]);
  for (const [shard, list] of byShard) {
    let max = -1n;
    // where each process's reader of this shard is: a batch going back from there (or the first
    // after a restart) starts a replay; the batches after it continue that replay
    const at = new Map<string, bigint>();
    const shardStarts = starts.filter((s) => s.shard === shard);
    let next = 0;
    for (const b of list) {
      for (; next < shardStarts.length && shardStarts[next]!.t <= b.start; next++) at.delete(shardStarts[next]!.inc);
      const first = BigInt(b.records[0]![0]);
      const repeats = b.records.filter(([seq]) => BigInt(seq) <= max);
      count += repeats.length;
      const replay = repeats.length > 0 && (!at.has(b.inc) || first <= at.get(b.inc)!);
      const unexplainedReplay = replay && !explain(b, first);
      if (unexplainedReplay) unexplained.push(`${shard}: ${b.inc} handled ${repeats.length} records again at ${b.start} (from ${b.records[0]![0]}) with no restart left to explain it`);
      // a record another process handled after this one's reader had started: two readers at once
      const since = shardStarts.filter((s) => s.inc === b.inc && s.t <= b.start + EVENT_LOG_SLACK_MS).at(-1)?.t ?? -Infinity;
      const twice = repeats.filter(([seq]) => {
        const l = delivered.get(`${shard}/${seq}`) ?? [];
        const prev = l[l.indexOf(b) - 1];
        return prev !== undefined && prev.inc !== b.inc && prev.start > since;
      });
      if (twice.length && !unexplainedReplay) unexplained.push(`${shard}: ${b.inc} handled ${twice.length} records at ${b.start} that another process handled after ${b.inc} had started the shard`);
      at.set(b.inc, BigInt(b.records[b.records.length - 1]![0]));
      for (const [seq] of b.records) if (BigInt(seq) > max) max = BigInt(seq);
    }
  }
  let bound = 0;
  for (const s of starts) {
    const next = runs.get(key(s.inc, s.shard!))?.find((b) => b.start >= s.t);
    for (const [id, list] of delivered) {
      if (!id.startsWith(`${s.shard}/`)) continue;
      const seq = BigInt(id.slice(id.indexOf('/') + 1));
      const inFlight = list[0] === next && (writtenAt.get(id) ?? -Infinity) <= s.t;
      if ((list[0]!.start <= s.t || inFlight) && seq > cp.get(s)!) bound++;
    }
  }
  return { count, bound, unexplained };
}
