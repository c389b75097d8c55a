import test from 'ava';
import { createHash } from 'node:crypto';
import type { Message } from '../src/consumer.js';
import { aggregate, deaggregate, hashKeyOf } from '../src/kpl/aggregation.js';
import { expandAggregates } from '../src/kpl/expand.js';
import { startPosition } from '../src/reader/start-position.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const users = (n: number, prefix = 'u') => Array.from({ length: n }, (_, i) => ({ partitionKey: `${prefix}-${i % 3}`, explicitHashKey: undefined, data: enc.encode(`${prefix}${i}`) }));
const message = (sequenceNumber: string, data: Uint8Array): Message => ({
  data,
  partitionKey: 'outer',
  sequenceNumber,
  subSequenceNumber: 0,
  approximateArrivalTimestamp: new Date(0),
  explicitHashKey: undefined,
  shardId: 'shardId-000000000000',
  streamName: 's',
});

test('aggregate then deaggregate gives back every user record, keys included', (t) => {
  const input = [
    { partitionKey: 'a', explicitHashKey: undefined, data: enc.encode('one') },
    { partitionKey: 'b', explicitHashKey: '123', data: enc.encode('two') },
    { partitionKey: 'a', explicitHashKey: undefined, data: new Uint8Array(0) },
  ];
  const record = aggregate(input);
  t.is(record.PartitionKey, 'a');
  t.is(record.ExplicitHashKey, hashKeyOf(input[0]!).toString(), 'the aggregate lands where its first record would');
  const out = deaggregate(record.Data)!;
  t.deepEqual(out.map((u) => [u.partitionKey, u.explicitHashKey, dec.decode(u.data)]), [['a', undefined, 'one'], ['b', '123', 'two'], ['a', undefined, '']]);
});

test('hashKeyOf: the explicit hash key, else the MD5 of the partition key as a 128-bit integer', (t) => {
  t.is(hashKeyOf({ partitionKey: 'x', explicitHashKey: '42' }), 42n);
  t.is(hashKeyOf({ partitionKey: 'x' }), BigInt(`0x${createHash('md5').update('x').digest('hex')}`));
});

test('not an aggregate, or a corrupt one, passes through: bad magic, bad MD5, bad protobuf, short data', (t) => {
  const good = aggregate(users(4)).Data;
  const badMagic = Uint8Array.from(good);
  badMagic[0] = 0;
  const badDigest = Uint8Array.from(good);
  badDigest[good.length - 1]! ^= 0xff;
  const garbage = enc.encode('protobuf garbage!');
  const digest = createHash('md5').update(garbage).digest();
  const badProtobuf = new Uint8Array([0xf3, 0x89, 0x9a, 0xc2, ...garbage, ...digest]);
  for (const [name, data] of [['plain', enc.encode('{"hello":1}')], ['bad magic', badMagic], ['bad md5', badDigest], ['bad protobuf', badProtobuf], ['short', good.subarray(0, 10)]] as const) {
    t.is(deaggregate(data), undefined, name);
    const { messages } = expandAggregates([message('100', data)]);
    t.is(messages.length, 1, `${name}: passed through`);
    t.is(messages[0]!.data, data, `${name}: unchanged`);
  }
});

test('expandAggregates: user records in order with sub-sequence numbers, plain records between them kept', (t) => {
  const batch = [message('1', enc.encode('plain-1')), message('2', aggregate(users(3, 'a')).Data), message('3', enc.encode('plain-3')), message('4', aggregate(users(2, 'b')).Data)];
  const { messages, lastSubSequenceNumber } = expandAggregates(batch);
  t.deepEqual(messages.map((m) => [m.sequenceNumber, m.subSequenceNumber, dec.decode(m.data)]), [
    ['1', 0, 'plain-1'],
    ['2', 0, 'a0'],
    ['2', 1, 'a1'],
    ['2', 2, 'a2'],
    ['3', 0, 'plain-3'],
    ['4', 0, 'b0'],
    ['4', 1, 'b1'],
  ]);
  t.is(lastSubSequenceNumber, 1, 'the checkpoint of the batch covers the last aggregate whole');
  t.is(expandAggregates([message('9', enc.encode('x'))]).lastSubSequenceNumber, 0);
});

test('expandAggregates resumes after a checkpoint inside an aggregate at the next user record', (t) => {
  const batch = [message('2', aggregate(users(5, 'a')).Data), message('3', enc.encode('plain-3'))];
  const resumed = expandAggregates(batch, undefined, { sequenceNumber: '2', subSequenceNumber: 2 });
  t.deepEqual(resumed.messages.map((m) => [m.sequenceNumber, m.subSequenceNumber]), [['2', 3], ['2', 4], ['3', 0]]);
  const plainAtResume = expandAggregates([message('3', enc.encode('plain-3')), message('4', enc.encode('plain-4'))], undefined, { sequenceNumber: '3', subSequenceNumber: 1 });
  t.deepEqual(plainAtResume.messages.map((m) => m.sequenceNumber), ['4'], 'a plain record at the resume point was handled before');
});

test('expandAggregates drops user records hashed outside the shard, as after a reshard', (t) => {
  const low = { partitionKey: 'low', explicitHashKey: '10', data: enc.encode('low') };
  const high = { partitionKey: 'high', explicitHashKey: '1000', data: enc.encode('high') };
  const { messages } = expandAggregates([message('7', aggregate([low, high, low]).Data)], { startingHashKey: '0', endingHashKey: '500' });
  t.deepEqual(messages.map((m) => [m.subSequenceNumber, dec.decode(m.data)]), [[0, 'low'], [2, 'low']]);
  const plain = expandAggregates([message('8', enc.encode('plain'))], { startingHashKey: '0', endingHashKey: '1' });
  t.is(plain.messages.length, 1, 'plain records are never dropped: Kinesis placed them');
});

test('aggregate refuses what cannot be one Kinesis record', (t) => {
  t.throws(() => aggregate([]), { message: /at least one/ });
  const big = [{ partitionKey: 'k', explicitHashKey: undefined, data: new Uint8Array(1024 * 1024) }];
  t.throws(() => aggregate(big), { message: /1 MiB/ });
});

test('a checkpoint at sub-sequence 0 inside an aggregate (as the Java KCL writes) resumes at user record 1', (t) => {
  const batch = [message('2', aggregate(users(4, 'a')).Data), message('3', enc.encode('plain-3'))];
  const resumed = expandAggregates(batch, undefined, { sequenceNumber: '2', subSequenceNumber: 0 });
  t.deepEqual(resumed.messages.map((m) => [m.sequenceNumber, m.subSequenceNumber]), [['2', 1], ['2', 2], ['2', 3], ['3', 0]]);
});

test('a poison aggregate (an explicit hash key that is not a number) passes through whole, with or without a hash range', (t) => {
  const poison = aggregate([
    { partitionKey: 'ok', explicitHashKey: '10', data: enc.encode('ok') },
    { partitionKey: 'bad', explicitHashKey: 'not-a-number', data: enc.encode('bad') },
  ]).Data;
  const after = message('8', enc.encode('after'));
  for (const range of [undefined, { startingHashKey: '0', endingHashKey: '500' }]) {
    const { messages, lastSubSequenceNumber } = expandAggregates([message('7', poison), after], range);
    t.deepEqual(messages.map((m) => m.sequenceNumber), ['7', '8'], 'the record whole, then the next one');
    t.is(messages[0]!.data, poison);
    t.is(lastSubSequenceNumber, 0);
    t.deepEqual(expandAggregates([message('7', poison), after], range, { sequenceNumber: '7', subSequenceNumber: 0 }).messages.map((m) => m.sequenceNumber), ['8'], 'checkpointed whole, skipped whole');
  }
  const badRange = expandAggregates([message('9', aggregate(users(2)).Data)], { startingHashKey: 'x', endingHashKey: 'y' });
  t.is(badRange.messages.length, 2, 'a lease row with an unreadable hash range filters nothing rather than failing every batch');
});

const none = { anchor: undefined, initial: undefined };

test('startPosition: sentinels as they are; a sequence number AT_SEQUENCE_NUMBER, skipping through its sub-sequence number', (t) => {
  t.deepEqual(startPosition('TRIM_HORIZON', 0, none), { type: 'TRIM_HORIZON' });
  t.deepEqual(startPosition('LATEST', 0, none), { type: 'LATEST' });
  t.deepEqual(startPosition('SHARD_END', 0, none), { type: 'SHARD_END' });
  t.deepEqual(startPosition('AT_TIMESTAMP', 0, { anchor: undefined, initial: 5 }), { type: 'AT_TIMESTAMP', timestamp: new Date(5) });
  t.deepEqual(startPosition('123', 0, none), { type: 'AT_SEQUENCE_NUMBER', sequenceNumber: '123', skipThrough: { sequenceNumber: '123', subSequenceNumber: 0 } });
  t.deepEqual(startPosition('123', 4, none), { type: 'AT_SEQUENCE_NUMBER', sequenceNumber: '123', skipThrough: { sequenceNumber: '123', subSequenceNumber: 4 } });
});

test("startPosition: AT_TIMESTAMP reads from the lease's own anchor (a reset to a time, a first owner's take) before the configured initial timestamp", (t) => {
  t.deepEqual(startPosition('AT_TIMESTAMP', 0, { anchor: 7_000, initial: 5 }), { type: 'AT_TIMESTAMP', timestamp: new Date(7_000) });
  t.deepEqual(startPosition('AT_TIMESTAMP', 0, { anchor: 7_000, initial: undefined }), { type: 'AT_TIMESTAMP', timestamp: new Date(7_000) });
  t.deepEqual(startPosition('AT_TIMESTAMP', 0, { anchor: undefined, initial: 5 }), { type: 'AT_TIMESTAMP', timestamp: new Date(5) });
});
