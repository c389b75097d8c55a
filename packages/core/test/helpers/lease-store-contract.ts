/**
 * The semantics every LeaseStore adapter must keep, as one ava macro per rule over an adapter
 * factory: the coordinator and the lease actor rely on exactly these conditions (counter fencing,
 * holder-only writes, the Java KCL 3.x's graceful handoff through checkpointOwner), so a new store passes this suite before it is used.
 * `leaseStoreContract(test, 'memory', () => new MemoryLeaseStore())` registers every case.
 */
import type { TestFn } from 'ava';
import { SHARD_END, type LeaseSnapshot, type LeaseStore } from '@kinesis-client/worker/lease';

/** A fresh, empty store not yet ensured. */
export type StoreFactory = () => LeaseStore | Promise<LeaseStore>;

type Case = (t: Parameters<Parameters<TestFn>[1]>[0], store: LeaseStore) => Promise<void>;

const A = 'worker-a';
const B = 'worker-b';
const C = 'worker-c';

async function must(store: LeaseStore, key: string): Promise<LeaseSnapshot> {
  const lease = await store.get(key);
  if (!lease) throw new Error(`no lease ${key}`);
  return lease;
}

/** A lease `owner` holds: created and taken once, at counter 1. */
async function held(store: LeaseStore, key: string, owner = A): Promise<LeaseSnapshot> {
  await store.create({ leaseKey: key, checkpoint: 'TRIM_HORIZON', parentShardIds: [] });
  if (!(await store.take(await must(store, key), owner))) throw new Error('setup take failed');
  return must(store, key);
}

const cases: Record<string, Case> = {
  'ensure: created once, then existed': async (t, store) => {
    t.is(await store.ensure(), 'existed', 'the factory store was ensured by the suite');
  },

  'create: a new lease is free at counter 0 with its fields; a second create of the key loses': async (t, store) => {
    const results = await Promise.all([1, 2].map(() => store.create({ leaseKey: 'k', checkpoint: 'LATEST', parentShardIds: ['p1', 'p2'], childShardIds: ['c1'], startingHashKey: '0', endingHashKey: '99' })));
    t.deepEqual(results.sort(), [false, true]);
    const lease = await must(store, 'k');
    t.like(lease, { leaseKey: 'k', leaseOwner: undefined, leaseCounter: 0, checkpoint: 'LATEST', checkpointSubSequenceNumber: 0, ownerSwitchesSinceCheckpoint: 0, startingHashKey: '0', endingHashKey: '99' });
    t.deepEqual([...lease.parentShardIds].sort(), ['p1', 'p2']);
    t.deepEqual(lease.childShardIds, ['c1']);
    t.is(lease.checkpointOwner, undefined);
    t.is(lease.checkpointTimestamp, undefined);
    t.false(await store.create({ leaseKey: 'k', checkpoint: 'TRIM_HORIZON', parentShardIds: [] }));
    t.is((await must(store, 'k')).checkpoint, 'LATEST', 'the losing create wrote nothing');
    t.deepEqual((await store.scan()).map((l) => l.leaseKey), ['k']);
    t.deepEqual((await store.scanRows()).unreadable, []);
    t.is(await store.get('absent'), undefined);
  },

  'take: only at the counter seen; a stale snapshot or a missing lease is refused': async (t, store) => {
    await store.create({ leaseKey: 'k', checkpoint: 'TRIM_HORIZON', parentShardIds: [] });
    const seen = await must(store, 'k');
    t.true(await store.take(seen, A));
    t.like(await must(store, 'k'), { leaseOwner: A, leaseCounter: 1, ownerSwitchesSinceCheckpoint: 1 });
    t.false(await store.take(seen, B), 'counter 0 is stale');
    t.like(await must(store, 'k'), { leaseOwner: A, leaseCounter: 1 });
    t.false(await store.take({ ...seen, leaseKey: 'absent' }, B));
    t.is(await store.get('absent'), undefined);
  },

  'take: an owner switch counts; retaking your own lease does not': async (t, store) => {
    const mine = await held(store, 'k', A);
    t.true(await store.take(mine, A));
    t.like(await must(store, 'k'), { leaseOwner: A, leaseCounter: 2, ownerSwitchesSinceCheckpoint: 1 });
    t.true(await store.take(await must(store, 'k'), B));
    t.like(await must(store, 'k'), { leaseOwner: B, leaseCounter: 3, ownerSwitchesSinceCheckpoint: 2 });
  },

  'take: the anchor is set only if none, floored; a concrete checkpoint removes it': async (t, store) => {
    await store.create({ leaseKey: 'k', checkpoint: 'LATEST', parentShardIds: [] });
    t.true(await store.take(await must(store, 'k'), A));
    t.is((await must(store, 'k')).checkpointTimestamp, undefined, 'no anchor given, none written');
    t.true(await store.take(await must(store, 'k'), A, 1_000.9));
    t.is((await must(store, 'k')).checkpointTimestamp, 1_000);
    t.true(await store.take(await must(store, 'k'), B, 2_000));
    t.is((await must(store, 'k')).checkpointTimestamp, 1_000, 'the first anchor stays');
    t.truthy(await store.checkpoint('k', 3, B, '49590338271490256608559692538361571095921575989136588898', 0));
    t.is((await must(store, 'k')).checkpointTimestamp, undefined);
  },

  'renew: only by the owner at its counter; it bumps the counter': async (t, store) => {
    await held(store, 'k', A);
    t.false(await store.renew('k', 1, B), 'not the owner');
    t.false(await store.renew('k', 0, A), 'stale counter');
    t.false(await store.renew('absent', 1, A));
    t.deepEqual(await store.renew('k', 1, A), { nextOwner: undefined });
    t.like(await must(store, 'k'), { leaseOwner: A, leaseCounter: 2 });
    t.false(await store.renew('k', 1, A), 'its own old counter is stale now');
  },

  'checkpoint: only by the owner at its counter; writes position, resets switches, adds children, renews': async (t, store) => {
    await held(store, 'k', A);
    t.false(await store.checkpoint('k', 1, B, '100', 0), 'not the owner');
    t.false(await store.checkpoint('k', 0, A, '100', 0), 'stale counter');
    t.deepEqual(await store.checkpoint('k', 1, A, '100', 7), { nextOwner: undefined });
    t.like(await must(store, 'k'), { leaseCounter: 2, checkpoint: '100', checkpointSubSequenceNumber: 7, ownerSwitchesSinceCheckpoint: 0 });
    t.truthy(await store.checkpoint('k', 2, A, '200', 0));
    t.like(await must(store, 'k'), { checkpoint: '200', checkpointSubSequenceNumber: 0 });
    t.truthy(await store.checkpoint('k', 3, A, SHARD_END, 0, ['c1', 'c2']));
    const ended = await must(store, 'k');
    t.like(ended, { checkpoint: SHARD_END, leaseCounter: 4 });
    t.deepEqual([...ended.childShardIds].sort(), ['c1', 'c2']);
    t.like(await must(store, 'k'), { leaseOwner: A }, 'a checkpoint does not release');
  },

  'addChildShardIds: adds to the set without touching the counter; false on no lease': async (t, store) => {
    await held(store, 'k', A);
    t.true(await store.addChildShardIds('k', ['c1']));
    t.true(await store.addChildShardIds('k', ['c1', 'c2']));
    const lease = await must(store, 'k');
    t.deepEqual([...lease.childShardIds].sort(), ['c1', 'c2']);
    t.is(lease.leaseCounter, 1, 'the owner is not fenced out');
    t.truthy(await store.renew('k', 1, A));
    t.false(await store.addChildShardIds('absent', ['c1']));
    t.is(await store.get('absent'), undefined);
  },

  'release: only by the owner; frees the lease, bumps the counter': async (t, store) => {
    await held(store, 'k', A);
    t.false(await store.release('k', B), 'not the owner');
    t.like(await must(store, 'k'), { leaseOwner: A, leaseCounter: 1 });
    t.true(await store.release('k', A));
    const free = await must(store, 'k');
    t.like(free, { leaseOwner: undefined, leaseCounter: 2 });
    t.false(await store.renew('k', 1, A), 'the old owner is fenced out');
    t.false(await store.release('k', A), 'a free lease has no owner to release it');
    t.false(await store.initiateHandoff('k', A, B), 'no owner to hand it over');
    t.true(await store.take(free, C));
  },

  'initiateHandoff: leaseOwner = receiver, checkpointOwner = owner, counter untouched; one at a time': async (t, store) => {
    await held(store, 'k', A);
    t.false(await store.initiateHandoff('k', B, C), 'the owner named must hold the lease');
    t.false(await store.initiateHandoff('absent', A, B));
    t.true(await store.initiateHandoff('k', A, B));
    t.like(await must(store, 'k'), { leaseOwner: B, checkpointOwner: A, leaseCounter: 1 }, 'the owner is not fenced out');
    t.false(await store.initiateHandoff('k', A, C), 'one handoff at a time');
    t.false(await store.initiateHandoff('k', B, C), 'nor from the receiver while it is pending');
  },

  'a pending handoff: the old owner renews and checkpoints as checkpointOwner and sees the receiver; the receiver cannot': async (t, store) => {
    await held(store, 'k', A);
    t.true(await store.initiateHandoff('k', A, B));
    t.deepEqual(await store.renew('k', 1, A), { nextOwner: B });
    t.deepEqual(await store.checkpoint('k', 2, A, '100', 3), { nextOwner: B });
    t.false(await store.renew('k', 3, B), 'the receiver does not hold it yet');
    t.false(await store.checkpoint('k', 3, B, '200', 0), 'nor checkpoint it');
    t.false(await store.release('k', B), 'nor release it');
    t.like(await must(store, 'k'), { leaseOwner: B, checkpointOwner: A, leaseCounter: 3, checkpoint: '100', checkpointSubSequenceNumber: 3 });
  },

  'completeHandoff: one write removes checkpointOwner and bumps the counter; only by the old owner, only to the receiver': async (t, store) => {
    await held(store, 'k', A);
    t.false(await store.completeHandoff('k', A, B), 'nothing pending');
    t.true(await store.initiateHandoff('k', A, B));
    t.false(await store.completeHandoff('k', C, B), 'only the checkpointOwner lets go');
    t.false(await store.completeHandoff('k', A, C), 'only to the receiver');
    t.true(await store.completeHandoff('k', A, B));
    const moved = await must(store, 'k');
    t.like(moved, { leaseOwner: B, leaseCounter: 2, ownerSwitchesSinceCheckpoint: 2 });
    t.is(moved.checkpointOwner, undefined, 'checkpointOwner cleared');
    t.false(await store.renew('k', 1, A), 'the old owner is fenced out');
    t.false(await store.completeHandoff('k', A, B), 'once');
    t.true(await store.take(moved, B), 'the receiver takes what is now its own');
    t.like(await must(store, 'k'), { leaseOwner: B, leaseCounter: 3, ownerSwitchesSinceCheckpoint: 2 });
  },

  'release by the checkpointOwner hands the lease to the receiver (the Java KCL 3.x evictLease)': async (t, store) => {
    await held(store, 'k', A);
    t.true(await store.initiateHandoff('k', A, B));
    t.true(await store.release('k', A));
    const row = await must(store, 'k');
    t.like(row, { leaseOwner: B, leaseCounter: 2 });
    t.is(row.checkpointOwner, undefined);
    t.false(await store.release('k', A), 'no longer the holder');
  },

  // the lease actor's release path: `(to && completeHandoff(to)) || release()`
  'cancelHandoff: back to the owner, counter untouched; the owner’s completion then fails and its release frees the lease': async (t, store) => {
    await held(store, 's', A);
    t.true(await store.initiateHandoff('s', A, B));
    t.false(await store.cancelHandoff('s', A, C), 'only by the receiver');
    t.false(await store.cancelHandoff('s', B, A), 'only of the handoff pending');
    t.true(await store.cancelHandoff('s', A, B));
    const back = await must(store, 's');
    t.like(back, { leaseOwner: A, leaseCounter: 1 });
    t.is(back.checkpointOwner, undefined);
    t.deepEqual(await store.renew('s', 1, A), { nextOwner: undefined }, 'the owner that never let go keeps renewing');
    t.false(await store.completeHandoff('s', A, B), 'cancelled: nothing to complete');
    t.true(await store.release('s', A));
    t.is((await must(store, 's')).leaseOwner, undefined, 'free: any worker may take it');
  },

  'a take ends a pending handoff (forced): checkpointOwner removed, the old owner fenced out': async (t, store) => {
    await held(store, 'k', A);
    t.true(await store.initiateHandoff('k', A, B));
    const pending = await must(store, 'k');
    t.true(await store.take(pending, B));
    const taken = await must(store, 'k');
    t.like(taken, { leaseOwner: B, leaseCounter: 2, ownerSwitchesSinceCheckpoint: 2 });
    t.is(taken.checkpointOwner, undefined);
    t.false(await store.renew('k', 1, A), 'the old owner is fenced out');
    t.false(await store.completeHandoff('k', A, B));
    t.false(await store.cancelHandoff('k', A, B));
  },

  'deleteFinished: only at SHARD_END': async (t, store) => {
    await held(store, 'k', A);
    t.false(await store.deleteFinished('k'), 'not finished');
    t.truthy(await store.get('k'));
    t.truthy(await store.checkpoint('k', 1, A, SHARD_END, 0));
    t.true(await store.deleteFinished('k'));
    t.is(await store.get('k'), undefined);
    t.false(await store.deleteFinished('k'), 'gone already');
  },

  'deleteFinished: a lease created at SHARD_END goes, an open one stays': async (t, store) => {
    await store.create({ leaseKey: 'open', checkpoint: '123', parentShardIds: [] });
    await store.create({ leaseKey: 'done', checkpoint: SHARD_END, parentShardIds: [] });
    t.false(await store.deleteFinished('open'));
    t.true(await store.deleteFinished('done'));
    t.false(await store.deleteFinished('done'), 'already gone: a lost race');
    t.deepEqual((await store.scan()).map((l) => l.leaseKey), ['open']);
  },

  "multi-stream keys (the Java KCL's account:stream:epoch:shardId) are keys like any other: each write, and two streams' same shard apart": async (t, store) => {
    const [a, b] = ['123456789012:orders:1700000000:shardId-000000000000', '123456789012:refunds:1700000001:shardId-000000000000'];
    for (const key of [a, b]) t.true(await store.create({ leaseKey: key, checkpoint: 'TRIM_HORIZON', parentShardIds: ['shardId-000000000009'] }));
    t.true(await store.take(await must(store, a), A));
    t.like(await store.checkpoint(a, 1, A, '49590338271490256608559692538361571095921575989136588898', 0), { nextOwner: undefined });
    t.like(await must(store, a), { leaseOwner: A, leaseCounter: 2, checkpoint: '49590338271490256608559692538361571095921575989136588898', parentShardIds: ['shardId-000000000009'] });
    t.like(await must(store, b), { leaseOwner: undefined, leaseCounter: 0, checkpoint: 'TRIM_HORIZON' }, "the other stream's shard of the same id untouched");
    t.deepEqual((await store.scan()).map((l) => l.leaseKey).sort(), [a, b]);
    t.true(await store.release(a, A));
  },

  'deleteReleased: only a lease nobody holds; a held or missing one is refused': async (t, store) => {
    const lease = await held(store, 'held');
    await store.create({ leaseKey: 'free', checkpoint: 'TRIM_HORIZON', parentShardIds: [] });
    t.false(await store.deleteReleased('held'), 'held');
    t.true(await store.deleteReleased('free'));
    t.false(await store.deleteReleased('free'), 'gone already');
    t.true(await store.release('held', lease.leaseOwner!));
    t.true(await store.deleteReleased('held'), 'released');
    t.deepEqual(await store.scan(), []);
  },

  '20 concurrent takers of one lease: exactly one wins': async (t, store) => {
    await store.create({ leaseKey: 'k', checkpoint: 'TRIM_HORIZON', parentShardIds: [] });
    const seen = await must(store, 'k');
    const owners = Array.from({ length: 20 }, (_, i) => `taker-${i}`);
    const results = await Promise.all(owners.map((owner) => store.take(seen, owner)));
    t.is(results.filter(Boolean).length, 1);
    const winner = owners[results.indexOf(true)];
    t.like(await must(store, 'k'), { leaseOwner: winner, leaseCounter: 1, ownerSwitchesSinceCheckpoint: 1 });
  },
};

/** Both outcomes of a race of two conditional writes: exactly one held. */
const oneOf = (results: unknown[]) => results.filter(Boolean).length;

const races: Record<string, Case> = {
  'race: a take and the owner\'s checkpoint on one counter: exactly one holds, and the state is that one\'s': async (t, store) => {
    for (let round = 0; round < 10; round++) {
      const key = `k${round}`;
      const seen = await held(store, key, A);
      const [taken, checkpointed] = await Promise.all([store.take(seen, B), store.checkpoint(key, 1, A, `${100 + round}`, 0)]);
      t.is(oneOf([taken, checkpointed]), 1, `round ${round}`);
      const after = await must(store, key);
      if (taken) t.like(after, { leaseOwner: B, leaseCounter: 2, checkpoint: 'TRIM_HORIZON' }, 'the loser\'s checkpoint left no trace');
      else t.like(after, { leaseOwner: A, leaseCounter: 2, checkpoint: `${100 + round}` });
    }
  },

  'race: a worker that lost the lease cannot checkpoint; the new owner\'s checkpoints stand': async (t, store) => {
    const seen = await held(store, 'k', A);
    t.true(await store.take(seen, B));
    t.truthy(await store.checkpoint('k', 2, B, '500', 3));
    const late = await Promise.all(Array.from({ length: 10 }, (_, i) => store.checkpoint('k', 1 + (i % 3), A, '999', 0)));
    t.is(oneOf(late), 0, 'every checkpoint of the old owner is refused, at any counter it may believe in');
    t.like(await must(store, 'k'), { leaseOwner: B, leaseCounter: 3, checkpoint: '500', checkpointSubSequenceNumber: 3 });
  },

  'race: 10 concurrent releases, only the owner\'s holds; 10 concurrent renewals at one counter, one holds': async (t, store) => {
    await held(store, 'k', A);
    const renewals = await Promise.all(Array.from({ length: 10 }, () => store.renew('k', 1, A)));
    t.is(oneOf(renewals), 1, 'a duplicate renewal at a stale counter is refused');
    const releasers = [A, ...Array.from({ length: 9 }, (_, i) => `other-${i}`)];
    const released = await Promise.all(releasers.map((owner) => store.release('k', owner)));
    t.deepEqual(released, [true, ...releasers.slice(1).map(() => false)]);
    t.like(await must(store, 'k'), { leaseOwner: undefined, leaseCounter: 3 });
  },
};

/** Registers every contract case for one adapter; each case gets a fresh, ensured store. */
export function leaseStoreContract(test: TestFn, adapter: string, factory: StoreFactory): void {
  const macro = test.macro<[Case]>({
    async exec(t, run) {
      const store = await factory();
      t.is(await store.ensure(), 'created');
      await run(t, store);
    },
    title: (name = '') => `${adapter} lease store: ${name}`,
  });
  for (const [name, run] of Object.entries({ ...cases, ...races })) test(name, macro, run);
}
