import test from 'ava';
import { backoffDelay } from '../src/backoff.js';
import { packRecords, payloadBytes, sequenceNumberAt, sliceRecords, unpackRecords } from '../src/batch-codec.js';

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
  t.is(payloadBytes(packed), records.reduce((n, r) => n + r.Data.byteLength, 0));
  const out = unpackRecords(structuredClone(packed), 'shard-1', 'stream-1');
  t.deepEqual(out.map((m) => new TextDecoder().decode(m.data)), ['a', '', 'héllo', 'x'.repeat(1000)]);
  t.deepEqual(out.map((m) => m.partitionKey), ['pk0', 'pk1', 'pk2', 'pk3']);
  t.deepEqual(out.map((m) => m.sequenceNumber), ['1000', '1001', '1002', '1003']);
  t.deepEqual(out.map((m) => m.approximateArrivalTimestamp.getTime()), records.map((r) => r.ApproximateArrivalTimestamp.getTime()));
  t.true(out.every((m) => m.shardId === 'shard-1' && m.streamName === 'stream-1' && m.subSequenceNumber === 0));
  t.is(new Set(out.map((m) => m.data.buffer)).size, 1, 'one shared buffer');
});

test('batch codec: a batch sliced from ranges of several pages holds exactly those records, the pages untouched', (t) => {
  const enc = new TextEncoder();
  const page = (from: number, count: number) =>
    packRecords(
      Array.from({ length: count }, (_, i) => ({
        Data: enc.encode(`payload ${from + i} ${'z'.repeat((from + i) % 7)}`),
        PartitionKey: `ключ-${from + i}`,
        SequenceNumber: `${100_000 + from + i}`,
        ApproximateArrivalTimestamp: new Date(1_700_000_000_000 + from + i),
      })),
    );
  const [a, b, c] = [page(0, 5), page(5, 3), page(8, 6)];
  const batch = sliceRecords([
    { page: a, start: 3, end: 5 },
    { page: b, start: 0, end: 3 },
    { page: c, start: 0, end: 2 },
  ]);
  t.is(batch.count, 7);
  t.is(sequenceNumberAt(batch, 0), '100003');
  t.is(sequenceNumberAt(batch, 6), '100009');
  t.is(payloadBytes(batch, 2, 5), payloadBytes(b));
  const out = unpackRecords(structuredClone(batch), 'shard-1', 'stream-1');
  t.deepEqual(
    out.map((m) => [new TextDecoder().decode(m.data), m.partitionKey, m.sequenceNumber, m.approximateArrivalTimestamp.getTime()]),
    [3, 4, 5, 6, 7, 8, 9].map((i) => [`payload ${i} ${'z'.repeat(i % 7)}`, `ключ-${i}`, `${100_000 + i}`, 1_700_000_000_000 + i]),
  );
  t.is(sequenceNumberAt(a, 4), '100004', 'the pages are left as they were');
  t.deepEqual(sliceRecords([]).count, 0);
});

test('backoff: capped, jittered, growing', (t) => {
  const opts = { baseMs: 100, maxMs: 1_000 };
  t.is(backoffDelay(1, opts, () => 0), 50);
  t.is(backoffDelay(1, opts, () => 1), 100);
  t.is(backoffDelay(3, opts, () => 1), 400);
  t.is(backoffDelay(10, opts, () => 1), 1_000, 'capped at maxMs');
  t.true(backoffDelay(10, opts, () => 0) >= 500, 'jitter never drops below half the ceiling');
});
