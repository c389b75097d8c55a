import test from 'ava';
import type { LeaseSnapshot } from '@kinesis-client/worker';
import { ManualClock } from '@kinesis-client/worker';
import { LeaseExpiry, leasesToTake } from '../src/lease-taker.js';
import { resolveOptions } from '../src/options.js';
import { lease } from './helpers/leases.js';

const take = (leases: LeaseSnapshot[], clock: ManualClock, expiry: LeaseExpiry, held: string[] = [], listed?: string[]) => {
  expiry.observe(leases, clock.now());
  const input = { leases, workerId: 'me', held: new Set(held), now: clock.now(), failoverMs: 10_000, expiry };
  return leasesToTake(listed ? { ...input, listed: new Set(listed) } : input).map((l) => l.leaseKey);
};

test('free leases are taken at once; held and finished ones are not', (t) => {
  const clock = new ManualClock();
  const leases = [lease('free'), lease('held', { leaseOwner: 'me' }), lease('done', { checkpoint: 'SHARD_END' })];
  t.deepEqual(take(leases, clock, new LeaseExpiry(), ['held']), ['free']);
});

test('a lease still carrying this worker id from an earlier life is taken back at once', (t) => {
  t.deepEqual(take([lease('mine', { leaseOwner: 'me', leaseCounter: 7 })], new ManualClock(), new LeaseExpiry()), ['mine']);
});

test('expiry is relative: another owner expires only after failoverMs without a counter change on our clock', (t) => {
  const clock = new ManualClock();
  const expiry = new LeaseExpiry();
  const other = (counter: number) => [lease('s', { leaseOwner: 'other', leaseCounter: counter })];
  t.deepEqual(take(other(5), clock, expiry), [], 'first sight is never expired');
  clock.advance(9_999);
  t.deepEqual(take(other(5), clock, expiry), []);
  clock.advance(1);
  t.deepEqual(take(other(5), clock, expiry), ['s'], 'unchanged for failoverMs: expired');
  clock.advance(5_000);
  t.deepEqual(take(other(6), clock, expiry), [], 'a renewal resets the observation');
  clock.advance(9_000);
  t.deepEqual(take(other(6), clock, expiry), []);
});

test('a child waits until every parent is at SHARD_END; an absent parent counts as done', (t) => {
  const clock = new ManualClock();
  const child = lease('child', { parentShardIds: ['p1', 'p2'] });
  t.deepEqual(take([lease('p1', { checkpoint: 'SHARD_END' }), lease('p2', { leaseOwner: 'me', checkpoint: '123' }), child], clock, new LeaseExpiry(), ['p2']), []);
  t.deepEqual(take([lease('p1', { checkpoint: 'SHARD_END' }), lease('p2', { checkpoint: 'SHARD_END' }), child], clock, new LeaseExpiry()), ['child']);
  t.deepEqual(take([child], clock, new LeaseExpiry()), ['child'], 'parents aged out of the table');
});

test('a merge child waits for both parents; a parent the stream no longer lists counts as done', (t) => {
  const clock = new ManualClock();
  const merged = lease('m', { parentShardIds: ['a', 'b'] });
  const a = lease('a', { checkpoint: 'SHARD_END' });
  const b = lease('b', { leaseOwner: 'other', leaseCounter: 3, checkpoint: '5' });
  t.deepEqual(take([a, b, merged], clock, new LeaseExpiry(), [], ['a', 'b', 'm']), [], 'b is still being read');
  t.deepEqual(take([a, b, merged], clock, new LeaseExpiry(), [], ['a', 'm']), ['m'], 'b aged out of retention: nothing of it is left to read');
  t.deepEqual(take([a, { ...b, checkpoint: 'SHARD_END' }, merged], clock, new LeaseExpiry(), [], ['a', 'b', 'm']), ['m']);
});

test('with a listing, a lease whose shard the stream no longer lists is not taken', (t) => {
  const clock = new ManualClock();
  t.deepEqual(take([lease('gone'), lease('here')], clock, new LeaseExpiry(), [], ['here']), ['here']);
  t.deepEqual(take([lease('gone'), lease('here')], clock, new LeaseExpiry()), ['gone', 'here'], 'without a listing the table decides');
});

test('option defaults: renewals every failoverMs/3, takes every 2 x failoverMs, table named after appName', (t) => {
  const o = resolveOptions({ streamName: 's', appName: 'billing', consumer: './c.js' });
  t.is(o.lease.failoverMs, 10_000);
  t.is(o.lease.renewIntervalMs, 3_333);
  t.is(o.lease.takeIntervalMs, 20_000);
  t.is(o.tableName, 'billing');
  t.is(o.batchers.batchSize, 500);
  t.is(o.initialPosition, 'TRIM_HORIZON');
  t.true(o.consumerUrl.startsWith('file:///') && o.consumerUrl.endsWith('/c.js'));
  t.regex(o.workerId, /:\d+:[0-9a-f]{8}$/);
  const custom = resolveOptions({ streamName: 's', appName: 'billing', consumer: './c.js', lease: { failoverMs: 3_000, takeIntervalMs: 500 } });
  t.is(custom.lease.renewIntervalMs, 1_000);
  t.is(custom.lease.takeIntervalMs, 500);
});
