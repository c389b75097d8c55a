import test from 'ava';
import { backoffDelay } from '../src/backoff.js';
import { packRecords, unpackRecords } from '../src/batch-codec.js';

test('batch codec: payloads and metadata survive a round trip, as views over one buffer', (t) => {
  const enc = new TextEncoder();
  const records = ['a', '', 'héllo', 'x'.repeat(1000)].map((s, i) => ({
    Data: enc.encode(s),
    PartitionKey: `pk${i}`,
    SequenceNumber: `${1000 + i}`,
    ApproximateArrivalTimestamp: new Date(1_700_000_000_000 + i),
  }));
  const packed = packRecords(records);
  t.is(packed.count, 4);
  t.is(packed.payload.byteLength, records.reduce((n, r) => n + r.Data.byteLength, 0));
  const out = unpackRecords(structuredClone(packed), 'shard-1', 'stream-1');
  t.deepEqual(out.map((m) => new TextDecoder().decode(m.data)), ['a', '', 'héllo', 'x'.repeat(1000)]);
  t.deepEqual(out.map((m) => m.partitionKey), ['pk0', 'pk1', 'pk2', 'pk3']);
  t.deepEqual(out.map((m) => m.sequenceNumber), ['1000', '1001', '1002', '1003']);
  t.deepEqual(out.map((m) => m.approximateArrivalTimestamp.getTime()), records.map((r) => r.ApproximateArrivalTimestamp.getTime()));
  t.true(out.every((m) => m.shardId === 'shard-1' && m.streamName === 'stream-1' && m.subSequenceNumber === 0));
  t.is(new Set(out.map((m) => m.data.buffer)).size, 1, 'one shared buffer');
});

test('backoff: capped, jittered, growing', (t) => {
  const opts = { baseMs: 100, maxMs: 1_000 };
  t.is(backoffDelay(1, opts, () => 0), 50);
  t.is(backoffDelay(1, opts, () => 1), 100);
  t.is(backoffDelay(3, opts, () => 1), 400);
  t.is(backoffDelay(10, opts, () => 1), 1_000, 'capped at maxMs');
  t.true(backoffDelay(10, opts, () => 0) >= 500, 'jitter never drops below half the ceiling');
});
