/**
 * The coordinator actor on its own: its leases in a MemoryLeaseStore, its clock a ManualClock, its
 * shard hosts stand-ins that take the lease as the lease actor does and note what they were given.
 * Only the shard listing is real (kinesalite), so lease sync, expiry, placement and the parent gate
 * run in well under a second each, without DynamoDB or threads; the same behaviour end to end, with
 * real workers, is in balance, handoff, lease-lost and reshard.
 */
import test, { type ExecutionContext } from 'ava';
import { MemoryLeaseStore, SHARD_END, type LeaseSnapshot, type LeaseStore } from '@kinesis-client/worker/lease';
import { ActorRuntime, ManualClock } from '@kinesis-client/worker/actor';
import { createKinesisClient } from '@kinesis-client/worker/internal';
import { LOCAL_CREDENTIALS, LOCAL_REGION, createStream, splitShard, uniqueName, withKinesalite } from '@kinesis-client/examples/testing';
import { coordinator, type CoordinatorMessage } from '../src/coordinator.js';
import { resolveOptions } from '../src/options.js';
import { Placement } from '../src/placement.js';
import type { ShardHostHandle } from '../src/shard-host-handle.js';

const kinesalite = withKinesalite(test);
const FAILOVER_MS = 6_000;

function kinesisClient(t: ExecutionContext) {
  const kinesis = createKinesisClient({ region: LOCAL_REGION, endpoint: kinesalite.endpoint, credentials: LOCAL_CREDENTIALS });
  t.teardown(() => kinesis.destroy());
  return kinesis;
}

interface Setup {
  store: LeaseStore;
  streamName: string;
  workerId: string;
  hosts?: number;
  lease?: Record<string, number>;
}

/** A coordinator of `workerId` over `store`, stopped when the test ends; `tick()` runs a full cycle and resolves when it is done. */
function startCoordinator(t: ExecutionContext, { store, streamName, workerId, hosts = 1, lease = {} }: Setup) {
  const clock = new ManualClock();
  const runtime = new ActorRuntime(clock);
  const kinesis = kinesisClient(t);
  const options = resolveOptions({
    streamName,
    appName: 'coordinator-test',
    consumer: 'file:///unused.mjs',
    workerId,
    region: LOCAL_REGION,
    kinesis: { endpoint: kinesalite.endpoint, credentials: LOCAL_CREDENTIALS },
    lease: { failoverMs: FAILOVER_MS, ...lease },
  });
  const started: { host: number; shardId: string }[] = [];
  const placed = Array.from({ length: hosts }, (_, index) => ({
    index,
    alive: true,
    api: {
      // what the lease actor does first: take the lease on the counter the coordinator saw
      async startShard(lease: LeaseSnapshot) {
        if (await store.take(lease, workerId)) started.push({ host: index, shardId: lease.leaseKey });
      },
      async stopShard() {},
    },
  }));
  const errors: unknown[] = [];
  const shardHosts = {
    placement: new Placement(),
    at: (index: number) => placed[index] as unknown as ShardHostHandle,
    aliveIndexes: () => placed.filter((h) => h.alive).map((h) => h.index),
  };
  const ref = runtime.spawn<CoordinatorMessage>(
    'coordinator',
    coordinator({ options, kinesis, leases: store, hosts: shardHosts, onError: (e) => errors.push(e), handled: () => undefined }),
    () => undefined,
  );
  t.teardown(() => {
    runtime.send(ref, { type: 'stop' });
    return runtime.stop(ref);
  });
  const tick = () => new Promise<void>((resolve, reject) => runtime.send(ref, { type: 'tick', done: (e) => (e ? reject(e) : resolve()) }));
  return { clock, tick, started, placed, errors, placement: shardHosts.placement, send: (m: CoordinatorMessage) => runtime.send(ref, m) };
}

/** A stream of 4 shards on kinesalite and an empty in-memory lease table. */
async function fourShards(t: ExecutionContext) {
  const streamName = uniqueName('coord');
  await createStream(kinesisClient(t), streamName, 4);
  const store = new MemoryLeaseStore();
  await store.ensure();
  return { streamName, store };
}

const owners = async (store: LeaseStore) => Object.fromEntries((await store.scan()).map((l) => [l.leaseKey, l.leaseOwner]));

test('a cycle creates a lease per shard, takes the free ones and places them on the least busy host', async (t) => {
  const { streamName, store } = await fourShards(t);
  const a = startCoordinator(t, { store, streamName, workerId: 'A', hosts: 2 });
  await a.tick();
  const leases = await store.scan();
  t.is(leases.length, 4);
  t.true(leases.every((l) => l.leaseOwner === 'A' && l.checkpoint === 'TRIM_HORIZON'));
  t.deepEqual(
    [0, 1].map((h) => a.started.filter((s) => s.host === h).length),
    [2, 2],
    'two shards on each host',
  );
  t.deepEqual(a.errors, []);
});

test("another worker's leases: left alone while their counters move, taken after failoverMs without a change on this worker's clock", async (t) => {
  const { streamName, store } = await fourShards(t);
  const b = startCoordinator(t, { store, streamName, workerId: 'B' });
  await b.tick();
  t.deepEqual(Object.values(await owners(store)), ['B', 'B', 'B', 'B']);

  // no stealing: only expiry may move a lease here
  const a = startCoordinator(t, { store, streamName, workerId: 'A', lease: { maxStealPerCycle: 0 } });
  await a.tick();
  a.clock.advance(5_000);
  for (const lease of await store.scan()) t.truthy(await store.renew(lease.leaseKey, lease.leaseCounter, 'B'), 'B renews');
  await a.tick();
  t.deepEqual(a.started, [], 'renewed leases are not taken');

  // B is gone: its counters stop at what A saw at 5 000 ms
  a.clock.advance(FAILOVER_MS - 1);
  await a.tick();
  t.deepEqual(a.started, [], 'one ms short of failoverMs since the last change A saw');
  a.clock.advance(1);
  await a.tick();
  t.is(a.started.length, 4, 'every lease taken once failoverMs has passed');
  t.deepEqual(Object.values(await owners(store)), ['A', 'A', 'A', 'A']);
  t.deepEqual(a.errors, []);
});

test('after a split, the children get leases naming their parent and start only once the parent is at SHARD_END', async (t) => {
  const streamName = uniqueName('coord');
  const kinesis = kinesisClient(t);
  await createStream(kinesis, streamName, 1);
  const parent = 'shardId-000000000000';
  const store = new MemoryLeaseStore();
  await store.ensure();
  const a = startCoordinator(t, { store, streamName, workerId: 'A' });
  await a.tick();
  t.deepEqual(a.started.map((s) => s.shardId), [parent]);

  const children = (await splitShard(kinesis, streamName, parent)).map((s) => s.ShardId!).sort();
  await a.tick();
  t.deepEqual(a.started.map((s) => s.shardId), [parent], 'no child while its parent is being read');
  const leases = new Map((await store.scan()).map((l) => [l.leaseKey, l]));
  for (const child of children) t.deepEqual(leases.get(child)?.parentShardIds, [parent], `${child} names its parent`);

  // the parent's reader reached its end: the lease actor writes SHARD_END with the children, the host reports it
  const held = leases.get(parent)!;
  t.truthy(await store.checkpoint(parent, held.leaseCounter, 'A', SHARD_END, 0, children));
  a.placement.remove(parent);
  a.send({ type: 'shardStopped', shardId: parent, reason: 'ended' });
  await a.tick();
  t.deepEqual(a.started.map((s) => s.shardId).slice(1).sort(), children, 'both children started once the parent ended');
  t.deepEqual(a.errors, []);
});

test("a thread's death reported after its replacement took shards: the coordinator keeps them and never starts a running shard twice", async (t) => {
  const { streamName, store } = await fourShards(t);
  const a = startCoordinator(t, { store, streamName, workerId: 'A', hosts: 2 });
  await a.tick();
  t.is(a.started.length, 4);
  const onHost1 = a.started.filter((s) => s.host === 1).map((s) => s.shardId).sort();

  // thread 1 dies: the shard hosts forget its shards at once (ShardHosts does so when the thread
  // exits) and tell the coordinator, whose mailbox may hold a tick begun before: here that tick
  // runs first, and places the orphaned shards on the replacement thread at index 1
  a.placement.dropHost(1);
  await a.tick();
  t.deepEqual(a.started.slice(4).map((s) => s.shardId).sort(), onHost1, "the dead thread's shards started again");
  t.true(a.started.slice(4).every((s) => s.host === 1), 'on the replacement');

  // the death reaches the coordinator late: the shards now on index 1 are the replacement's
  a.send({ type: 'hostDown', index: 1 });
  await a.tick();
  t.is(a.started.length, 6, 'no shard started a third time');
  t.deepEqual(a.placement.shardsOn(1).sort(), onHost1);
  t.deepEqual(a.errors, []);
});

test("a shard's stop reported after a later tick placed it again: the coordinator keeps the new placement", async (t) => {
  const { streamName, store } = await fourShards(t);
  const a = startCoordinator(t, { store, streamName, workerId: 'A', hosts: 2 });
  await a.tick();
  const [first] = a.started;
  // the shard failed on its thread, its lease still ours: the shard hosts forget it as the report
  // arrives (ShardHosts.forget), and a tick already under way starts it again
  a.placement.remove(first!.shardId);
  await a.tick();
  t.deepEqual(a.started.slice(4).map((s) => s.shardId), [first!.shardId], 'started again');
  // the report reaches the coordinator's mailbox only now
  a.send({ type: 'shardStopped', shardId: first!.shardId, reason: 'failed' });
  await a.tick();
  t.is(a.started.length, 5, 'not started a third time');
  t.true(a.placement.has(first!.shardId));
  t.deepEqual(a.errors, []);
});
