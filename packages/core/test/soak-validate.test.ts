import test from 'ava';
import type { AppliedFault, BatchRun, Produced, SoakData, WorkerEvent } from './soak/logs.js';
import { longestStall, lossToLastStart } from './soak/liveness.js';
import { drawSchedule, faultLabel } from './soak/schedule.js';
import { summarize } from './soak/summary.js';
import { deliveriesByRecord, duplicates, fencingViolations, lostRecords, orderViolations, overlaps } from './soak/validate.js';

/** The soak validator on hand-made logs: each verdict must pass a clean history and catch its violation. */
const S = 'shardId-000000000000';
const rec = (seq: number, n: number): [string, number, number] => [String(1000 + seq), 0, n];
const batch = (inc: string, start: number, end: number | undefined, records: [string, number, number][], ok = true): BatchRun => ({
  inc,
  worker: inc.split('.')[0]!,
  shard: S,
  attempt: 1,
  start,
  end,
  ok: end === undefined ? undefined : ok,
  records,
});
const ev = (inc: string, t: number, e: string, extra: Partial<WorkerEvent> = {}): WorkerEvent => ({ inc, worker: inc.split('.')[0]!, t, e, shard: S, ...extra });
const produced = (count: number): Produced[] => Array.from({ length: count }, (_, i) => ({ shardId: S, sequenceNumber: String(1000 + i), key: 0, n: i, at: 0 }));

function data(batches: BatchRun[], events: WorkerEvent[], faults: AppliedFault[] = [], count = 4): SoakData {
  return {
    produced: produced(count),
    batches: [...batches].sort((a, b) => a.start - b.start),
    events: [...events].sort((a, b) => a.t - b.t),
    incarnations: [
      { inc: 'a.1', worker: 'a', startedAt: 0, endedAt: 5_000, how: 'stopped' },
      { inc: 'b.1', worker: 'b', startedAt: 0, endedAt: 5_000, how: 'stopped' },
    ],
    faults,
    failoverMs: 100,
    chaosStart: 0,
    chaosEnd: 4_900,
    endAt: 5_000,
  };
}

/** a takes the shard, handles 0-1, checkpoints 1001; b takes over (a restart there), replays nothing covered, handles 2-3. */
const clean = () =>
  data(
    [batch('a.1', 10, 20, [rec(0, 0), rec(1, 1)]), batch('b.1', 3_300, 3_310, [rec(2, 2), rec(3, 3)])],
    [ev('a.1', 5, 'take'), ev('a.1', 6, 'started'), ev('a.1', 25, 'checkpoint', { seq: '1001' }), ev('b.1', 3_200, 'take'), ev('b.1', 3_290, 'started')],
  );

test('a clean history passes every check', (t) => {
  const d = clean();
  const delivered = deliveriesByRecord(d.batches);
  t.deepEqual(lostRecords(d, delivered), []);
  t.deepEqual(orderViolations(d.batches), []);
  t.deepEqual(fencingViolations(d), []);
  t.deepEqual(overlaps(d).unexplained, []);
  t.like(duplicates(d, delivered), { count: 0, unexplained: [] });
});

test('a record never handled successfully is lost', (t) => {
  const d = clean();
  d.batches[1]!.ok = false;
  t.is(lostRecords(d, deliveriesByRecord(d.batches)).length, 2);
});

test('per-key order: a later counter first handled before an earlier one', (t) => {
  const d = clean();
  d.batches[1]!.records = [rec(3, 3), rec(2, 2)];
  t.is(orderViolations(d.batches).length, 1);
});

test('fencing: a batch start after another worker took the lease, even without overlap', (t) => {
  const d = clean();
  d.batches.push(batch('a.1', 3_400, 3_405, [rec(3, 3)]));
  t.is(fencingViolations(d).length, 1);
  // taking it back first is fine, even when the take is logged a little after the start
  d.events.push(ev('a.1', 3_401, 'take'));
  t.deepEqual(fencingViolations(d), []);
});

test('overlap: two workers in handleBatch at once, excused only by a lease lost to DynamoDB faults', (t) => {
  const d = clean();
  d.batches[0]!.end = 3_305; // a's batch still runs when b starts at 3 300
  t.is(overlaps(d).unexplained.length, 1);
  const loss: AppliedFault = { fault: { at: 0, kind: 'calls', label: 'dynamodb-loss', worker: 0, rules: [] }, at: 50, inc: 'a.1', applied: true, detail: '' };
  d.faults.push(loss);
  t.like(overlaps(d), { unexplained: [], explained: 1 });
  // a batch with no end line runs until its process ended
  const open = clean();
  open.batches[0]!.end = undefined;
  t.is(overlaps(open).unexplained.length, 1);
});

test('duplicates: explained by a restart from an older checkpoint, not otherwise', (t) => {
  const replay = clean();
  replay.batches[1]!.records = [rec(1, 1), rec(2, 2), rec(3, 3)];
  replay.events = replay.events.filter((e) => e.e !== 'checkpoint');
  let r = duplicates(replay, deliveriesByRecord(replay.batches));
  t.like(r, { count: 1, unexplained: [] });
  t.true(r.bound >= 1);
  // one restart explains one replay
  const again = structuredClone(replay);
  again.batches.push(batch('b.1', 3_350, 3_360, [rec(2, 2)]));
  t.is(duplicates(again, deliveriesByRecord(again.batches)).unexplained.length, 1);
  // the checkpoint covered record 1: handling it again is not explained
  const covered = clean();
  covered.batches[1]!.records = [rec(1, 1), rec(2, 2), rec(3, 3)];
  r = duplicates(covered, deliveriesByRecord(covered.batches));
  t.is(r.unexplained.length, 1);
  // no restart of the shard in b before it handled record 1 again
  const noRestart = clean();
  noRestart.batches[1]!.records = [rec(1, 1), rec(2, 2), rec(3, 3)];
  noRestart.events = noRestart.events.filter((e) => e.e !== 'checkpoint' && e.e !== 'started');
  t.is(duplicates(noRestart, deliveriesByRecord(noRestart.batches)).unexplained.length, 1);
});

test("duplicates: the old reader's batch that began after the restart is replayed, and only that one", (t) => {
  const d = clean();
  // records 2 and 3 were written while b ran (after its start at 3 290), 4 and 5 before the restart at 3 500
  for (const p of d.produced) p.at = p.n >= 2 ? 3_295 : 0;
  d.produced.push(...[4, 5].map((n) => ({ shardId: S, sequenceNumber: String(1000 + n), key: 0, n, at: 3_400 })));
  d.events.push(ev('b.1', 3_500, 'started'));
  // 3 600: the batch the old reader had queued in the pool; 3 700: the replay of it
  d.batches.push(batch('b.1', 3_600, 3_610, [rec(4, 4)]), batch('b.1', 3_700, 3_710, [rec(4, 4), rec(5, 5)]));
  let r = duplicates(d, deliveriesByRecord(d.batches));
  t.like(r, { count: 1, unexplained: [] });
  t.true(r.bound >= 1);
  // a second replay of it with no restart in between is not explained
  d.batches.push(batch('b.1', 3_800, 3_810, [rec(5, 5)]));
  r = duplicates(d, deliveriesByRecord(d.batches));
  t.is(r.unexplained.length, 1);
});

test('duplicates: a record another worker handled after this one had started the shard is two readers at once', (t) => {
  const d = clean();
  // a still reads after b took over (b started at 3 290): b then handles the same record, going forward
  d.batches.push(batch('a.1', 3_320, 3_330, [rec(4, 4)]), batch('b.1', 3_400, 3_410, [rec(4, 4), rec(5, 5)]));
  d.batches.sort((x, y) => x.start - y.start);
  t.like(duplicates(d, deliveriesByRecord(d.batches)), { count: 1, unexplained: [`${S}: b.1 handled 1 records at 3400 that another process handled after b.1 had started the shard`] });
});

test('liveness: the longest time a shard had records and no progress; the time from losing DynamoDB to the last batch start', (t) => {
  const d = clean();
  t.is(longestStall(d, deliveriesByRecord(d.batches)).ms, 3_310 - 20);
  d.batches[1]!.ok = false;
  t.is(longestStall(d, deliveriesByRecord(d.batches)).ms, 5_000 - 20, 'a record never handled counts to the end');
  const cut = clean();
  cut.faults.push({ fault: { at: 0, kind: 'calls', label: 'dynamodb-loss', worker: 0, rules: [] }, at: 30, inc: 'a.1', applied: true, detail: '' });
  cut.batches.push(batch('a.1', 3_450, 3_455, []));
  t.like(lossToLastStart(cut), { ms: 3_450 - 30, shards: 1, losses: 1 });
  // once its checkpoint went through again it was no longer cut off
  cut.events.push(ev('a.1', 3_000, 'checkpoint', { seq: '1001' }));
  cut.events.sort((x, y) => x.t - y.t);
  t.like(lossToLastStart(cut), { ms: 0, shards: 1 });
});

test('the fault schedule is a function of the seed, with a split, a merge, a SIGKILL and a DynamoDB loss', (t) => {
  const shape = { chaosMs: 45_000, workers: 3, failoverMs: 6_000 };
  t.deepEqual(drawSchedule(7, shape), drawSchedule(7, shape));
  t.notDeepEqual(drawSchedule(7, shape), drawSchedule(8, shape));
  const labels = new Set(drawSchedule(7, shape).map(faultLabel));
  for (const kind of ['split', 'merge', 'sigkill', 'dynamodb-loss']) t.true(labels.has(kind), kind);
  t.true(drawSchedule(7, { ...shape, chaosMs: 300_000 }).filter((f) => f.kind === 'sigkill').length >= 5, 'longer runs repeat them');
});

test('the summary fails on a violation and names the seed to replay it', (t) => {
  const meta = {
    seed: 42,
    schedule: drawSchedule(42, { chaosMs: 10_000, workers: 3, failoverMs: 6_000 }),
    timings: { startedAt: 0, chaosStart: 0, chaosEnd: 4_900, drainedMs: 100, stopMs: 50, endAt: 5_000 },
    notices: [],
    stallLimitMs: 4_000,
    stopLimitMs: 20_000,
    producerFailedCalls: 0,
  };
  const good = summarize(clean(), meta);
  t.true(good.ok, good.text);
  t.is(good.figures.lost, 0);
  const bad = clean();
  bad.batches[1]!.ok = false;
  const summary = summarize(bad, meta);
  t.false(summary.ok);
  t.regex(summary.text, /FAILED - seed 42 \(replay: SOAK_SEED=42/);
  t.deepEqual(summary.verdicts.filter((v) => !v.ok).map((v) => v.name), ['every record handled', 'no shard without progress for long']);
});
