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

/** A take logged up to this long after the taker's first batch start still counts (events and batch lines race). */
const TAKE_LOG_SLACK_MS = 1_000;

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
    const mine = list.some((t) => t.worker === b.worker && t.t > latest.t && t.t <= b.start + TAKE_LOG_SLACK_MS);
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
 * Duplicates and what explains them. A record is handled again only by a reader that (re)started
 * its shard (a crash, a thread or process death, a lease move, a shard that gave up) from a
 * checkpoint that did not yet cover it. A batch the old reader had already sent to the pool may
 * still begin after the restart (it waited in the pool's queue; the replay waits for it, one batch
 * per shard in the pool at a time): that batch is the first of the shard in that process after
 * the restart. So:
 * - each repeat delivery must follow, in its own process, a shard start at which the logged
 *   checkpoint did not cover the record, and that came after the previous delivery began, or
 *   just before the old reader's last batch ("explained");
 * - the bound: for every shard start, the records of that shard already handled by then
 *   (anywhere) or in that first batch after it, and not covered by the checkpoint then: what that
 *   restart may replay. Failed and abandoned attempts are not deliveries, so they add nothing
 *   beyond their restart.
 */
export function duplicates(data: SoakData, delivered: ReadonlyMap<string, BatchRun[]>) {
  const starts = data.events.filter((e) => e.e === 'started');
  const cp = new Map<WorkerEvent, bigint>(starts.map((s) => [s, checkpointAt(data.events, s.shard!, s.t - CHECKPOINT_SLACK_MS)]));
  const runs = new Map<string, BatchRun[]>();
  for (const b of data.batches) runs.set(`${b.inc}/${b.shard}`, [...(runs.get(`${b.inc}/${b.shard}`) ?? []), b]);
  const firstAfter = new Map<WorkerEvent, BatchRun | undefined>(starts.map((s) => [s, runs.get(`${s.inc}/${s.shard}`)?.find((b) => b.start >= s.t)]));
  // the old reader's batch was read before the restart, so it holds only records written before it
  const writtenAt = new Map(data.produced.map((p) => [`${p.shardId}/${p.sequenceNumber}`, p.at]));
  const inFlightAt = (s: WorkerEvent, b: BatchRun, id: string) => b === firstAfter.get(s) && (writtenAt.get(id) ?? -Infinity) <= s.t;
  let count = 0;
  const unexplained: string[] = [];
  const firstStarts = new Map<string, { id: string; start: number; seq: bigint; batch: BatchRun }[]>();
  for (const [id, list] of delivered) {
    const [shard, seqText] = id.split('/') as [string, string];
    const seq = BigInt(seqText);
    firstStarts.set(shard, [...(firstStarts.get(shard) ?? []), { id, start: list[0]!.start, seq, batch: list[0]! }]);
    for (let i = 1; i < list.length; i++) {
      count++;
      const prev = list[i - 1]!;
      const d = list[i]!;
      const ok = starts.some((s) => s.inc === d.inc && s.shard === shard && s.t <= d.start && seq > cp.get(s)! && (prev.start <= s.t || inFlightAt(s, prev, id)));
      if (!ok) unexplained.push(`${id} handled again by ${d.inc} at ${d.start} (before: ${prev.inc} at ${prev.start}) with no restart from an older checkpoint`);
    }
  }
  let bound = 0;
  for (const s of starts) {
    for (const r of firstStarts.get(s.shard!) ?? []) if ((r.start <= s.t || inFlightAt(s, r.batch, r.id)) && r.seq > cp.get(s)!) bound++;
  }
  return { count, bound, unexplained };
}
