import test from 'ava';
import { createStream, putRecords, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { eventually, isAscending, jsonRecords, sortedSeqs, startRecordingSystem } from './helpers/recording.js';

const aws = withLocalAws(test);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Where a shard's delivery log goes back to a record it had already delivered, the reader was
 * restarted from a checkpoint: the record before the jump target must end a handled batch.
 */
function redeliveries(log: string[], batchEnds: Set<string>, order: string[]) {
  const position = new Map(order.map((s, i) => [s, i]));
  const jumps: { to: string; replayed: number; fromCheckpoint: boolean }[] = [];
  let max = -1;
  let previous = -1;
  let replaying = false;
  for (const seq of log) {
    const at = position.get(seq)!;
    if (at > max) {
      max = at;
      replaying = false;
    } else {
      if (!replaying || at <= previous) {
        const before = order[at - 1];
        jumps.push({ to: seq, replayed: 0, fromCheckpoint: before === undefined || batchEnds.has(before) });
        replaying = true;
      }
      jumps[jumps.length - 1]!.replayed++;
    }
    previous = at;
  }
  return jumps;
}

test('chaos: actors crashed every 150 ms, two thread kills and a consumer failing every 7th batch lose nothing', async (t) => {
  const stream = uniqueName('chaos');
  const app = uniqueName('app');
  const shards = 4;
  const total = 20_000;
  await createStream(aws.kinesis, stream, shards);
  const { system, deliveries, stop } = await startRecordingSystem(
    t,
    aws,
    { stream, app },
    {
      shardHosts: { threads: 2 },
      batchers: { batchSize: 100, maxAttempts: 5, backoff: { baseMs: 5, maxMs: 20 } },
      retrieval: { idleMs: 100, getRecordsLimit: 1_000 },
      supervision: { shard: { maxRestarts: 1_000, backoff: { baseMs: 5, maxMs: 20 } }, shardHosts: { backoff: { baseMs: 10, maxMs: 50 } } },
    },
    { failMod: 7, failAttempts: 1 },
  );
  const starts = new Map<string, number>();
  const crashes = new Map<string, number>();
  const escalated: string[] = [];
  system.events.on('shard:started', (e) => starts.set(e.shardId, (starts.get(e.shardId) ?? 0) + 1));
  system.events.on('actor:crashed', (e) => e.shardId && crashes.set(e.shardId, (crashes.get(e.shardId) ?? 0) + 1));
  system.events.on('supervisor:escalated', (e) => escalated.push(`${e.supervisor}/${e.child}`));
  const killed = new Set<string>();
  try {
    const producing = (async () => {
      const out: { shardId: string; sequenceNumber: string }[] = [];
      for (let offset = 0; offset < total; offset += 2_000) {
        out.push(...(await putRecords(aws.kinesis, stream, jsonRecords(2_000, { offset, keys: 256 }))));
        await sleep(100);
      }
      return out;
    })();
    await deliveries.waitFor(() => deliveries.count > 500);
    let injected = 0;
    let kills = 0;
    const shardIds = (await system.inspect()).shards.map((s) => s.shardId);
    const killAt = [1_000, 2_000];
    const chaosStarted = Date.now();
    // at least 3 s and 10 crashes: a crash aimed at a shard that is between hosts (a killed thread's) misses
    const chaosGoing = () => Date.now() - chaosStarted < 3_000 || kills < killAt.length || (injected < 10 && Date.now() - chaosStarted < 30_000);
    for (let i = 0; chaosGoing(); i++) {
      if (kills < killAt.length && Date.now() - chaosStarted >= killAt[kills]!) {
        const view = await system.inspect();
        const target = view.shards.find((s) => s.threadId !== undefined);
        if (target) {
          for (const s of view.shards) if (s.threadId === target.threadId) killed.add(s.shardId);
          if (await system.faults.killThread(target.shardId)) kills++;
        }
      } else if (await system.faults.crashActor(shardIds[i % shardIds.length]!, i % 3 === 0 ? 'lease' : 'reader')) {
        injected++;
      }
      await sleep(150);
    }
    const put = await producing;
    t.log(`${injected} actor crashes and ${kills} thread kills injected`);
    t.true(injected >= 10, 'actors were crashed throughout');
    t.is(kills, 2);

    await deliveries.waitFor(() => new Set([...deliveries.byShard().values()].flat()).size >= total, 120_000, 'every record');
    const last = new Map<string, string>();
    for (const p of put) last.set(p.shardId, p.sequenceNumber);
    await eventually(async () => ((await aws.leaseTable(app).scan()).every((l) => l.checkpoint === last.get(l.leaseKey)) ? true : undefined), 30_000, 'final checkpoints');

    const byShard = deliveries.byShard();
    const handled = new Set([...byShard.values()].flat());
    t.deepEqual(sortedSeqs(handled), sortedSeqs(put.map((p) => p.sequenceNumber)), 'every record handled');
    t.true(deliveries.threw.length > 0, 'the consumer did throw');
    const batchEnds = new Set(deliveries.batches.map((b) => b.sequenceNumbers[b.sequenceNumbers.length - 1]!));
    let duplicates = 0;
    for (const [shardId, log] of byShard) {
      const firsts = log.filter((s, i) => log.indexOf(s) === i);
      t.true(isAscending(firsts), `${shardId}: first deliveries in shard order`);
      const order = sortedSeqs(put.filter((p) => p.shardId === shardId).map((p) => p.sequenceNumber));
      const jumps = redeliveries(log, batchEnds, order);
      const replayed = jumps.reduce((n, j) => n + j.replayed, 0);
      t.is(replayed, log.length - firsts.length, `${shardId}: every duplicate is inside a replay`);
      t.true(jumps.every((j) => j.fromCheckpoint), `${shardId}: every replay starts right after a handled batch (a checkpoint)`);
      t.true(jumps.length <= (starts.get(shardId) ?? 1) - 1, `${shardId}: ${jumps.length} replays, no more than its ${(starts.get(shardId) ?? 1) - 1} restarts`);
      if (jumps.length > 0) t.true((crashes.get(shardId) ?? 0) > 0 || killed.has(shardId), `${shardId} replayed only because it crashed`);
      duplicates += replayed;
    }
    t.log(`${duplicates} duplicate deliveries out of ${total}; shard restarts ${JSON.stringify(Object.fromEntries(starts))}`);
    t.deepEqual(escalated, [], 'no supervisor gave up');
  } finally {
    await stop();
  }
});
