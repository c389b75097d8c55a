/** The soak's verdicts and its printed summary (the issue's benchmark figures). */
import type { SoakData } from './logs.js';
import { longestStall, lossToLastStart } from './liveness.js';
import { faultLabel, type Fault } from './schedule.js';
import { deliveriesByRecord, duplicates, fencingViolations, lostRecords, orderViolations, overlaps, type Verdict } from './validate.js';

export interface SummaryMeta {
  seed: number;
  schedule: readonly Fault[];
  timings: { startedAt: number; chaosStart: number; chaosEnd: number; drainedMs: number | undefined; stopMs: number; endAt: number };
  notices: readonly string[];
  stallLimitMs: number;
  stopLimitMs: number;
  producerFailedCalls: number;
}

export interface Summary {
  ok: boolean;
  verdicts: Verdict[];
  figures: Record<string, number | string | undefined>;
  text: string;
}

const s = (ms: number | undefined) => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);
const first = (list: readonly string[], n = 3) => (list.length ? `: ${list.slice(0, n).join('; ')}${list.length > n ? `; ... (${list.length})` : ''}` : '');

export function summarize(data: SoakData, meta: SummaryMeta): Summary {
  const delivered = deliveriesByRecord(data.batches);
  const lost = lostRecords(data, delivered);
  const order = orderViolations(data.batches);
  const fencing = fencingViolations(data);
  const overlap = overlaps(data);
  const dups = duplicates(data, delivered);
  const stall = longestStall(data, delivered);
  const loss = lossToLastStart(data);
  const forced = data.incarnations.filter((i) => i.how === 'forced').map((i) => i.inc);
  const verdicts: Verdict[] = [
    { name: 'every record handled', ok: lost.length === 0, detail: `${lost.length} of ${data.produced.length} never handled${first(lost)}` },
    { name: 'first deliveries in per-key order', ok: order.length === 0, detail: `${order.length} out of order${first(order)}` },
    { name: 'batches start only at the latest lease taker', ok: fencing.length === 0, detail: `${fencing.length} batch starts by a worker whose lease another had taken${first(fencing)}` },
    {
      name: 'never two workers in one shard\'s handleBatch',
      ok: overlap.unexplained.length === 0,
      detail: `${overlap.unexplained.length} overlaps (${overlap.explained} explained by a lease lost under a running batch)${first(overlap.unexplained)}`,
    },
    {
      name: 'duplicates explained by restarts',
      ok: dups.unexplained.length === 0 && dups.count <= dups.bound,
      detail: `${dups.count} duplicates, bound ${dups.bound}, ${dups.unexplained.length} unexplained${first(dups.unexplained)}`,
    },
    { name: 'no shard without progress for long', ok: stall.ms <= meta.stallLimitMs, detail: `longest ${s(stall.ms)} on ${stall.shard || '-'} (limit ${s(meta.stallLimitMs)})` },
    { name: 'graceful stop is bounded', ok: forced.length === 0, detail: forced.length ? `${forced.join(', ')} still running ${s(meta.stopLimitMs + 10_000)} after stop` : `stopped in ${s(meta.timings.stopMs)}` },
  ];
  const drawn = new Map<string, number>();
  for (const f of meta.schedule) drawn.set(faultLabel(f), (drawn.get(faultLabel(f)) ?? 0) + 1);
  const applied = new Map<string, number>();
  const unavailable = new Map<string, number>();
  const skipped = new Map<string, number>();
  for (const f of data.faults) {
    if (f.applied) applied.set(faultLabel(f.fault), (applied.get(faultLabel(f.fault)) ?? 0) + 1);
    for (const m of /"modes":\[([^\]]*)\]/.exec(f.detail)?.[1]?.match(/[a-z]+-unavailable[^",]*|no-answer/g) ?? []) unavailable.set(m, (unavailable.get(m) ?? 0) + 1);
    if (!f.applied) {
      const why = f.detail.startsWith('{') ? ((JSON.parse(f.detail) as { why?: string }).why ?? 'not applied') : f.detail;
      skipped.set(why, (skipped.get(why) ?? 0) + 1);
    }
  }
  const startMs = data.incarnations.map((i) => ({ inc: i.inc, ms: (i.readyAt ?? i.endedAt ?? data.endAt) - i.startedAt }));
  const slowestStart = startMs.reduce((a, b) => (b.ms > a.ms ? b : a), { inc: '-', ms: 0 });
  const deliveries = [...delivered.values()].reduce((n, l) => n + l.length, 0);
  const figures = {
    seed: meta.seed,
    produced: data.produced.length,
    handled: delivered.size,
    deliveries,
    lost: lost.length,
    duplicates: dups.count,
    duplicateBound: dups.bound,
    longestStallMs: stall.ms,
    lossToLastStartMs: loss.ms,
    drainedMs: meta.timings.drainedMs,
    slowestStartMs: slowestStart.ms,
  };
  const ok = verdicts.every((v) => v.ok);
  const text = [
    `chaos soak ${ok ? 'PASSED' : 'FAILED'} - seed ${meta.seed} (replay: SOAK_SEED=${meta.seed}, or pnpm soak --seed ${meta.seed})`,
    `  run: 3 workers over 8 shards, ${s(meta.timings.chaosEnd - meta.timings.chaosStart)} of faults, drained ${meta.timings.drainedMs === undefined ? 'NOT' : `in ${s(meta.timings.drainedMs)}`}, stop took ${s(meta.timings.stopMs)}; ${data.incarnations.length} worker processes, slowest to start ${slowestStart.inc} (${s(slowestStart.ms)} to createSystem)`,
    `  faults applied/drawn: ${[...drawn].map(([k, n]) => `${k} ${applied.get(k) ?? 0}/${n}`).join(', ')}`,
    ...(skipped.size ? [`  faults not applied: ${[...skipped].map(([k, n]) => `${k} x${n}`).join(', ')}`] : []),
    ...(unavailable.size ? [`  call rules this library lacks or never installed: ${[...unavailable].map(([k, n]) => `${k} x${n}`).join(', ')}`] : []),
    ...meta.notices.map((n) => `  note: ${n}`),
    `  records: ${data.produced.length} produced${meta.producerFailedCalls ? ` (${meta.producerFailedCalls} producer calls failed)` : ''}, ${delivered.size} handled, ${deliveries} deliveries, ${lost.length} lost`,
    `  duplicates: ${dups.count} (bound from restarts since their checkpoints: ${dups.bound}; unexplained ${dups.unexplained.length})`,
    `  longest time a shard had records and made no progress: ${s(stall.ms)} (${stall.shard || '-'})`,
    `  worker losing DynamoDB -> its last batch start before reaching DynamoDB again: ${s(loss.ms)} (${loss.losses} losses, ${loss.shards} shards held then; fencing bounds it below failoverMs ${data.failoverMs} ms)`,
    ...verdicts.map((v) => `  ${v.ok ? 'ok  ' : 'FAIL'} ${v.name}: ${v.detail}`),
  ].join('\n');
  return { ok, verdicts, figures, text };
}
