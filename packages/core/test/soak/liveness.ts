/** The soak's liveness figures (the benchmark), from the same logs as the validator. */
import type { BatchRun, SoakData } from './logs.js';

/**
 * The longest time a shard went without progress while it had records: for each produced record,
 * from the later of its write and the shard's last progress before it was first handled, to that
 * first handling (progress = a successful batch that handled something for the first time).
 * A record never handled counts until the end of the run.
 */
export function longestStall(data: SoakData, delivered: ReadonlyMap<string, BatchRun[]>): { ms: number; shard: string; at: number } {
  const progress = new Map<string, number[]>();
  const firstEnd = new Map<string, number>();
  for (const [id, list] of delivered) {
    const end = Math.min(...list.map((b) => b.end ?? Infinity));
    firstEnd.set(id, end);
    const shard = id.slice(0, id.indexOf('/'));
    progress.set(shard, [...(progress.get(shard) ?? []), end]);
  }
  for (const list of progress.values()) list.sort((a, b) => a - b);
  let worst = { ms: 0, shard: '', at: 0 };
  for (const p of data.produced) {
    const handled = firstEnd.get(`${p.shardId}/${p.sequenceNumber}`) ?? data.endAt;
    const times = progress.get(p.shardId) ?? [];
    let before = p.at;
    // the last progress strictly before this record's first handling (binary search)
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! < handled) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) before = Math.max(before, times[lo - 1]!);
    const ms = handled - before;
    if (ms > worst.ms) worst = { ms, shard: p.shardId, at: before };
  }
  return worst;
}

/**
 * From a worker losing DynamoDB (a 'dynamodb-loss' fault) to its last batch start on a shard it
 * held then, before it could reach DynamoDB again for that shard (its next checkpoint or take of
 * it): what fencing by time bounds to failoverMs minus a margin, whether or not another worker
 * has taken the shard yet.
 */
export function lossToLastStart(data: SoakData): { ms: number | undefined; shards: number; losses: number } {
  let worst: number | undefined;
  let shards = 0;
  const losses = data.faults.filter((f) => f.applied && f.fault.kind === 'calls' && f.fault.label === 'dynamodb-loss' && f.inc);
  for (const loss of losses) {
    const worker = data.incarnations.find((i) => i.inc === loss.inc)!.worker;
    const held = new Set<string>();
    for (const e of data.events) {
      if (e.t > loss.at) break;
      if (e.e === 'take' && e.shard) (e.worker === worker ? held.add(e.shard) : held.delete(e.shard));
    }
    for (const shard of held) {
      const back = data.events.find((e) => e.inc === loss.inc && e.shard === shard && e.t > loss.at && (e.e === 'checkpoint' || e.e === 'take'))?.t ?? Infinity;
      const mine = data.batches.filter((b) => b.inc === loss.inc && b.shard === shard && b.start >= loss.at && b.start < back);
      shards++;
      worst = Math.max(worst ?? 0, mine.length ? Math.max(...mine.map((b) => b.start)) - loss.at : 0);
    }
  }
  return { ms: worst, shards, losses: losses.length };
}
