import test from 'ava';
import { lease } from './helpers/leases.js';
import { ShardGraph, planCleanup, planLeaseSync, shardNode, type LeaseSyncPlan, type ShardNode } from '../src/shard-graph.js';

// s0 split into s2+s3, which merged into s4, which split into s5+s6; s1 never changed
const open = (shardId: string, ...parentShardIds: string[]): ShardNode => ({ shardId, parentShardIds, closed: false });
const closed = (shardId: string, ...parentShardIds: string[]): ShardNode => ({ shardId, parentShardIds, closed: true });
const history = [closed('s0'), open('s1'), closed('s2', 's0'), closed('s3', 's0'), closed('s4', 's2', 's3'), open('s5', 's4'), open('s6', 's4')];

const ended = (leaseKey: string, parentShardIds: string[] = []) => lease(leaseKey, { checkpoint: 'SHARD_END', parentShardIds });

/** leaseKey -> checkpoint, per creation group. */
const created = (plan: LeaseSyncPlan) => plan.create.map((group) => Object.fromEntries(group.map((l) => [l.leaseKey, l.checkpoint])));

test('shardNode reads both parents and whether the shard is closed', (t) => {
  const node = shardNode({
    ShardId: 'm',
    ParentShardId: 'a',
    AdjacentParentShardId: 'b',
    HashKeyRange: { StartingHashKey: '0', EndingHashKey: '9' },
    SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: '5' },
  });
  t.deepEqual(node, { shardId: 'm', parentShardIds: ['a', 'b'], closed: true, startingHashKey: '0', endingHashKey: '9' });
  t.false(shardNode({ ShardId: 'x', SequenceNumberRange: { StartingSequenceNumber: '1' } }).closed);
});

test('the graph: children, descendants, and generations that put parents first', (t) => {
  const graph = new ShardGraph(history);
  t.deepEqual([...graph.childrenOf('s0')], ['s2', 's3']);
  t.deepEqual([...graph.childrenOf('s2')], ['s4']);
  t.deepEqual([...graph.descendantsOf('s0')].sort(), ['s2', 's3', 's4', 's5', 's6']);
  t.deepEqual(
    graph.generations().map((g) => g.map((s) => s.shardId)),
    [['s0', 's1'], ['s2', 's3'], ['s4'], ['s5', 's6']],
  );
});

test('a parent that aged out of the listing is no node: its children are roots', (t) => {
  const graph = new ShardGraph([open('c1', 'gone'), open('c2', 'gone')]);
  t.deepEqual(graph.listedParentsOf('c1'), []);
  t.deepEqual(graph.generations().map((g) => g.map((s) => s.shardId)), [['c1', 'c2']]);
});

test('new application, TRIM_HORIZON: the whole listed ancestry, oldest first, parents before children', (t) => {
  const plan = planLeaseSync(history, [], 'TRIM_HORIZON');
  t.deepEqual(created(plan), [
    { s0: 'TRIM_HORIZON', s1: 'TRIM_HORIZON' },
    { s2: 'TRIM_HORIZON', s3: 'TRIM_HORIZON' },
    { s4: 'TRIM_HORIZON' },
    { s5: 'TRIM_HORIZON', s6: 'TRIM_HORIZON' },
  ]);
  const byKey = new Map(plan.create.flat().map((l) => [l.leaseKey, l]));
  t.deepEqual(byKey.get('s4')!.parentShardIds, ['s2', 's3'], 'a merge child carries both parents');
  t.deepEqual(byKey.get('s2')!.parentShardIds, ['s0'], 'a split child carries its parent');
  t.deepEqual(byKey.get('s0')!.childShardIds, ['s2', 's3'], 'a parent carries its children');
  t.deepEqual(plan.addChildren, []);
});

test('new application, LATEST: only the open shards, at LATEST; no closed parent', (t) => {
  t.deepEqual(created(planLeaseSync(history, [], 'LATEST')), [{ s1: 'LATEST' }, { s5: 'LATEST', s6: 'LATEST' }]);
});

test('new application, AT_TIMESTAMP: every shard from the timestamp, children too', (t) => {
  const plan = planLeaseSync(history, [], 'AT_TIMESTAMP');
  t.true(plan.create.flat().every((l) => l.checkpoint === 'AT_TIMESTAMP'));
  t.is(plan.create.flat().length, history.length);
});

test('children of a shard with a lease start at TRIM_HORIZON whatever the initial position', (t) => {
  const shards = [closed('p'), open('c1', 'p'), open('c2', 'p')];
  for (const initial of ['LATEST', 'AT_TIMESTAMP', 'TRIM_HORIZON'] as const) {
    const plan = planLeaseSync(shards, [lease('p', { checkpoint: '49', leaseOwner: 'w' })], initial);
    t.deepEqual(created(plan), [{ c1: 'TRIM_HORIZON', c2: 'TRIM_HORIZON' }], initial);
    t.deepEqual(plan.addChildren, [{ leaseKey: 'p', childShardIds: ['c1', 'c2'] }], 'the parent learns its children');
  }
});

test('a merge child whose parents have leases is created once, with both parents', (t) => {
  const shards = [closed('a'), closed('b'), open('m', 'a', 'b')];
  const plan = planLeaseSync(shards, [lease('a', { checkpoint: '1' }), ended('b')], 'LATEST');
  t.deepEqual(created(plan), [{ m: 'TRIM_HORIZON' }]);
  t.deepEqual(plan.create[0]![0]!.parentShardIds, ['a', 'b']);
});

test('shards whose ancestry is done are not recreated', (t) => {
  // s0's row was cleaned up after its children finished; s2..s4 were finished and cleaned up too
  const leases = [lease('s1'), ended('s5', ['s4']), lease('s6', { checkpoint: '77', parentShardIds: ['s4'] })];
  const plan = planLeaseSync(history, leases, 'TRIM_HORIZON');
  t.deepEqual(plan.create, []);
  // a closed parent whose children are at SHARD_END or beyond is not brought back
  t.deepEqual(planLeaseSync([closed('p'), closed('c', 'p'), open('g', 'c')], [ended('c', ['p']), lease('g', { parentShardIds: ['c'] })], 'TRIM_HORIZON').create, []);
});

test('a second sync over an unchanged table writes nothing', (t) => {
  const first = planLeaseSync(history, [], 'TRIM_HORIZON');
  const table = first.create.flat().map((l) => lease(l.leaseKey, { parentShardIds: l.parentShardIds, childShardIds: l.childShardIds }));
  t.deepEqual(planLeaseSync(history, table, 'TRIM_HORIZON'), { create: [], addChildren: [] });
});

test('a row that exists but cannot be read counts as existing: never re-created, never written', (t) => {
  const shards = [closed('p'), open('c1', 'p'), open('c2', 'p')];
  const plan = planLeaseSync(shards, [lease('c1', { parentShardIds: ['p'] })], 'TRIM_HORIZON', new Set(['p', 'c2']));
  t.deepEqual(plan, { create: [], addChildren: [] }, 'no create for p or c2, and no childShardIds written to p');
});

test('a deleted parent the stream still lists is not re-created while a descendant has a lease', (t) => {
  const shards = [closed('p'), open('c1', 'p'), open('c2', 'p')];
  const children = [lease('c1', { checkpoint: '5', parentShardIds: ['p'] }), lease('c2', { checkpoint: 'TRIM_HORIZON', parentShardIds: ['p'] })];
  for (const initial of ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'] as const) t.deepEqual(planLeaseSync(shards, children, initial).create, [], initial);
});

// --- lease cleanup ---

const started = (leaseKey: string, parentShardIds: string[], checkpoint = '49') => lease(leaseKey, { checkpoint, parentShardIds });
const cleanup = (leases: ReturnType<typeof lease>[], shards: ShardNode[] | undefined, now = 0, since = new Map<string, number>(), after = 0) =>
  planCleanup(leases, shards, now, since, after);
const deleted = (plan: ReturnType<typeof planCleanup>) => plan.delete.map((l) => l.leaseKey).sort();
const split = [closed('p'), open('c1', 'p'), open('c2', 'p')];
const parentRow = (over: Partial<ReturnType<typeof lease>> = {}) => lease('p', { checkpoint: 'SHARD_END', childShardIds: ['c1', 'c2'], ...over });

test('cleanup: a finished parent goes once every child has a lease with a real checkpoint', (t) => {
  t.deepEqual(deleted(cleanup([parentRow(), started('c1', ['p']), started('c2', ['p'])], split)), ['p']);
  for (const unstarted of ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP']) {
    t.deepEqual(deleted(cleanup([parentRow(), started('c1', ['p']), started('c2', ['p'], unstarted)], split)), [], `a child at ${unstarted}`);
  }
  t.deepEqual(deleted(cleanup([parentRow(), started('c1', ['p'])], split)), [], 'a child without a lease');
  t.deepEqual(deleted(cleanup([parentRow(), started('c1', ['p']), started('c2', ['p'], 'SHARD_END')], split)), ['p'], 'a child at SHARD_END has started');
  t.deepEqual(deleted(cleanup([parentRow({ checkpoint: '77' }), started('c1', ['p']), started('c2', ['p'])], split)), [], 'not finished');
});

test('cleanup: children known from the listing count even before the row lists them; none known, nothing goes', (t) => {
  t.deepEqual(deleted(cleanup([parentRow({ childShardIds: ['c1'] }), started('c1', ['p']), started('c2', ['p'], 'TRIM_HORIZON')], split)), []);
  t.deepEqual(deleted(cleanup([parentRow({ childShardIds: [] }), started('c1', ['p'])], [closed('p'), open('c1', 'p')])), ['p']);
  t.deepEqual(deleted(cleanup([parentRow({ childShardIds: [] })], [closed('p'), open('x')])), [], 'a finished shard without known children stays');
});

test('cleanup: oldest first, as the Java KCL: a finished shard goes only once its listed parents have no row', (t) => {
  const chain = [closed('g'), closed('p', 'g'), open('c', 'p')];
  const rows = [lease('g', { checkpoint: 'SHARD_END', childShardIds: ['p'] }), lease('p', { checkpoint: 'SHARD_END', parentShardIds: ['g'], childShardIds: ['c'] }), started('c', ['p'])];
  t.deepEqual(deleted(cleanup(rows, chain)), ['g'], 'g first; p once g is gone');
  t.deepEqual(deleted(cleanup(rows.slice(1), chain)), ['p']);
});

test('cleanup: a finished shard the stream no longer lists goes; an unfinished one stays; no listing, no such deletes', (t) => {
  const listing = [open('c1', 'gone'), open('c2', 'gone')];
  const gone = lease('gone', { checkpoint: 'SHARD_END', childShardIds: ['c1', 'c2'] });
  t.deepEqual(deleted(cleanup([gone, lease('c1', { parentShardIds: ['gone'] })], listing)), ['gone'], 'aged out: nothing of it is left to read');
  t.deepEqual(deleted(cleanup([lease('gone', { checkpoint: '5' })], listing)), [], 'not at SHARD_END');
  t.deepEqual(deleted(cleanup([gone], undefined)), [], 'without a listing only the completed rule applies');
  t.deepEqual(deleted(cleanup([gone], [])), [], 'an empty listing proves nothing');
});

test('cleanup: deleted only after cleanupAfterMs of being deletable, on this worker\'s clock', (t) => {
  const rows = [parentRow(), started('c1', ['p']), started('c2', ['p'])];
  const first = cleanup(rows, split, 1_000, new Map(), 5_000);
  t.deepEqual(deleted(first), []);
  t.deepEqual([...first.eligibleSince], [['p', 1_000]]);
  t.deepEqual(deleted(cleanup(rows, split, 5_999, first.eligibleSince, 5_000)), []);
  t.deepEqual(deleted(cleanup(rows, split, 6_000, first.eligibleSince, 5_000)), ['p']);
  // a child that is not started any more (its row replaced) resets the wait
  const reset = cleanup([parentRow(), started('c1', ['p']), started('c2', ['p'], 'TRIM_HORIZON')], split, 6_000, first.eligibleSince, 5_000);
  t.deepEqual([...reset.eligibleSince], []);
});
