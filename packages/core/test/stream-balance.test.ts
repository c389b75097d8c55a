/**
 * Balancing over several streams, pure: each stream's coordinator sees the table through
 * tableView (its own leases by shard id for sync and cleanup, every stream's for balance) and
 * plans with planTakes acting on its own stream's leases only.
 */
import test from 'ava';
import { ManualClock } from '@kinesis-client/worker/actor';
import type { LeaseSnapshot } from '@kinesis-client/worker/lease';
import { LeaseExpiry, planTakes } from '../src/lease-taker.js';
import { multiStream, singleStream } from '../src/stream-unit.js';
import { tableView } from '../src/table-view.js';
import { lease } from './helpers/leases.js';

const unit = (streamName: string, creationEpoch = 1_700_000_000) =>
  multiStream({ accountId: '123456789012', streamName, creationEpoch }, { streamName, initialPosition: 'TRIM_HORIZON' }, `arn:aws:kinesis:us-east-1:123456789012:stream/${streamName}`);
const A = unit('a');
const B = unit('b');
const shard = (n: number) => `shardId-00000000000${n}`;

/** w2 plans for `stream` over `table`, holding `held` (lease keys), every lease seen renewed just now. */
function plan(stream: ReturnType<typeof unit>, table: LeaseSnapshot[], held: string[] = []) {
  const clock = new ManualClock();
  const expiry = new LeaseExpiry();
  expiry.observe(table, clock.now());
  const listings = new Map([A, B].map((u) => [u.streamName, new Set(table.filter((l) => u.shardOf(l.leaseKey)).map((l) => u.shardOf(l.leaseKey)!))]));
  const view = tableView({ leases: table, unreadable: [] }, stream, [A, B], listings);
  return planTakes({
    leases: view.table,
    workerId: 'w2',
    held: new Set(held),
    now: clock.now(),
    failoverMs: 10_000,
    expiry,
    listed: view.listed,
    mine: view.mine,
    parentKey: view.parentKey,
    maxStealPerCycle: 1,
    pull: true,
    random: () => 0,
  });
}

test('two streams of one shard each, both on w1: w2 asks for one, since balance counts every stream (2/0 would be balanced per stream)', (t) => {
  const table = [lease(A.leaseKeyOf(shard(0)), { leaseOwner: 'w1', leaseCounter: 3 }), lease(B.leaseKeyOf(shard(0)), { leaseOwner: 'w1', leaseCounter: 3 })];
  const forB = plan(B, table);
  t.is(forB.target, 1);
  t.deepEqual(
    forB.steal.map((l) => l.leaseKey),
    [B.leaseKeyOf(shard(0))],
    "B's coordinator asks w1 for B's lease",
  );
  t.deepEqual(plan(B, table, []).take, []);
});

test("a stream's coordinator takes and asks for its own stream's leases only; the others count for the target", (t) => {
  const table = [0, 1, 2].map((n) => lease(A.leaseKeyOf(shard(n)))).concat([lease(B.leaseKeyOf(shard(0)))]);
  const forB = plan(B, table);
  t.is(forB.target, 4, 'four free leases, one live worker seen');
  t.deepEqual(
    forB.take.map((l) => l.leaseKey),
    [B.leaseKeyOf(shard(0))],
  );
  // w2 already runs A's three: B's coordinator counts them as w2's
  const held = [0, 1, 2].map((n) => A.leaseKeyOf(shard(n)));
  const withA = plan(B, [...table, lease(B.leaseKeyOf(shard(1)), { leaseOwner: 'w1', leaseCounter: 1 }), lease(B.leaseKeyOf(shard(2)), { leaseOwner: 'w1', leaseCounter: 1 })], held);
  t.is(withA.target, 3, 'six leases over two workers');
  t.deepEqual(withA.take.map((l) => l.leaseKey), [], 'at target with A\'s three: B\'s free lease is left to w1, below target');
  t.deepEqual(withA.steal, []);
});

test('tableView: the stream under its shard ids, a recreated stream\'s old epoch and single-stream keys left out, parents by their own stream\'s keys', (t) => {
  const oldA = unit('a', 1_600_000_000);
  const table = [
    lease(A.leaseKeyOf(shard(1)), { parentShardIds: [shard(0)] }),
    lease(B.leaseKeyOf(shard(0))),
    lease(oldA.leaseKeyOf(shard(0)), { checkpoint: '49590338271490256608559692538361571095921575989136588898' }),
    lease(shard(0)),
  ];
  const view = tableView({ leases: table, unreadable: [] }, A, [A, B], new Map([['a', new Set([shard(0), shard(1)])]]));
  t.deepEqual(view.table.map((l) => l.leaseKey), [A.leaseKeyOf(shard(1)), B.leaseKeyOf(shard(0))]);
  t.deepEqual(view.ours.map((l) => l.leaseKey), [shard(1)], "A's own, by shard id");
  t.is(view.parentKey(table[0]!, shard(0)), A.leaseKeyOf(shard(0)));
  t.deepEqual([...view.listed].sort(), [A.leaseKeyOf(shard(0)), A.leaseKeyOf(shard(1)), B.leaseKeyOf(shard(0))].sort(), "A's listing, and B's leases while B has none");
  t.true(view.mine(table[0]!));
  t.false(view.mine(table[1]!));

  const single = singleStream({ streamName: 'a', initialPosition: 'TRIM_HORIZON' });
  const plain = tableView({ leases: [lease(shard(0)), lease(shard(1))], unreadable: [] }, single, [single], new Map());
  t.deepEqual(plain.ours.map((l) => l.leaseKey), [shard(0), shard(1)], 'single-stream: every row, keys as they are');
});
