import test from 'ava';
import { createStream, putRecords, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { isAscending, jsonRecords, startRecordingSystem } from './helpers/recording.js';
import { withStores, type StoreKind } from './helpers/stores.js';

const aws = withLocalAws(test);

const kinds: StoreKind[] = ['dynamodb', 'postgres', 'redis', 'memory'];
const stores = withStores(test, aws, kinds);

const endToEnd = test.macro(async (t, kind: StoreKind) => {
  const stream = uniqueName('e2e');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 4);
  const put = await putRecords(aws.kinesis, stream, jsonRecords(20_000));
  const lastByShard = new Map<string, string>();
  const putByShard = new Map<string, string[]>();
  for (const r of put) {
    if (!lastByShard.has(r.shardId) || BigInt(r.sequenceNumber) > BigInt(lastByShard.get(r.shardId)!)) lastByShard.set(r.shardId, r.sequenceNumber);
    putByShard.set(r.shardId, [...(putByShard.get(r.shardId) ?? []), r.sequenceNumber]);
  }
  t.is(lastByShard.size, 4, 'the records span all four shards');

  const checkpoints = new Map<string, string>();
  const { system, deliveries, stop } = await startRecordingSystem(t, aws, { stream, app }, { ...stores.options(kind, app), lease: { failoverMs: 6_000 }, processors: { concurrency: 2 } });
  // subscribing after `await createSystem` must still see the start-up events
  const acquired: string[] = [];
  const started: string[] = [];
  system.events.on('lease:acquired', (e) => acquired.push(e.shardId));
  system.events.on('shard:started', (e) => started.push(e.shardId));
  system.events.on('checkpoint', (e) => checkpoints.set(e.shardId, e.sequenceNumber));
  try {
    await deliveries.waitFor(() => deliveries.count >= 20_000);
    await deliveries.waitFor(() => [...lastByShard].every(([s, seq]) => checkpoints.get(s) === seq), 15_000, 'final checkpoints');
  } finally {
    await stop();
  }

  t.deepEqual([...acquired].sort(), [...lastByShard.keys()].sort(), 'lease:acquired once per shard');
  t.deepEqual([...started].sort(), [...lastByShard.keys()].sort(), 'shard:started once per shard');
  const byShard = deliveries.byShard();
  const all = [...byShard.values()].flat();
  t.is(new Set(all).size, 20_000, 'every record handled');
  t.is(all.length, 20_000, 'no record handed over twice in a clean run');
  for (const [shardId, seqs] of byShard) {
    t.true(isAscending(seqs), `${shardId} delivered in sequence order`);
    t.deepEqual(seqs, putByShard.get(shardId), `${shardId} delivered exactly what was put`);
  }
  const bodies = deliveries.bodies().map((b) => JSON.parse(b).i as number);
  t.deepEqual([...new Set(bodies)].sort((a, b) => a - b), Array.from({ length: 20_000 }, (_, i) => i), 'payloads arrive intact');

  const leases = await (await stores.leases(kind, app)).scan();
  t.is(leases.length, 4);
  for (const lease of leases) {
    t.is(lease.checkpoint, lastByShard.get(lease.leaseKey), `${lease.leaseKey} checkpoint is its last sequence number`);
    t.is(lease.leaseOwner, undefined, `${lease.leaseKey} released by stop()`);
  }
});

const title = '4 shards, 20 000 records: every record handled in shard order, checkpoints at each shard end';
for (const kind of kinds) test.serial(kind === 'dynamodb' ? title : `${title} (${kind} store)`, endToEnd, kind);
