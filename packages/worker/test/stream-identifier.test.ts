import test from 'ava';
import { leaseAddress } from '../src/lease/lease.js';
import { multiStreamLeaseKey, parseLeaseKey, parseStreamIdentifier, sameStream, serializeStreamIdentifier } from '../src/stream-identifier.js';

const orders = { accountId: '123456789012', streamName: 'orders', creationEpoch: 1_700_000_000 };

test('stream identifier: account:stream:epoch round trip, as the Java KCL serializes it', (t) => {
  t.is(serializeStreamIdentifier(orders), '123456789012:orders:1700000000');
  t.deepEqual(parseStreamIdentifier('123456789012:orders:1700000000'), orders);
  t.is(parseStreamIdentifier('orders'), undefined);
  t.is(parseStreamIdentifier('123456789012:orders:0'), undefined, 'the Java KCL rejects an epoch of 0');
  t.is(parseStreamIdentifier('12:or:ders:5'), undefined);
});

test('lease keys: multi-stream keys name their stream; bare shard ids are the application stream', (t) => {
  const key = multiStreamLeaseKey(orders, 'shardId-000000000003');
  t.is(key, '123456789012:orders:1700000000:shardId-000000000003');
  t.deepEqual(parseLeaseKey(key), { shardId: 'shardId-000000000003', stream: orders });
  t.deepEqual(parseLeaseKey('shardId-000000000003'), { shardId: 'shardId-000000000003', stream: undefined });
  t.deepEqual(leaseAddress({ leaseKey: key }, 'other'), { streamName: 'orders', shardId: 'shardId-000000000003' });
  t.deepEqual(leaseAddress({ leaseKey: 'shardId-000000000001' }, 'single'), { streamName: 'single', shardId: 'shardId-000000000001' });
});

test('a stream recreated under the same name is another stream', (t) => {
  t.true(sameStream(orders, { ...orders }));
  t.false(sameStream(orders, { ...orders, creationEpoch: orders.creationEpoch + 60 }));
  t.false(sameStream(orders, { ...orders, accountId: '000000000000' }));
});
