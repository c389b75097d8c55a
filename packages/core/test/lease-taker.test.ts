import test from 'ava';
import { leaseRowProblem, type LeaseSnapshot } from '@kinesis-client/worker/lease';
import { ManualClock } from '@kinesis-client/worker/actor';
import { LeaseExpiry, planTakes, type TakeInput } from '../src/lease-taker.js';
import { resolveOptions } from '../src/options.js';
import { lease } from './helpers/leases.js';

/** A pending handoff of `l` to `to` (the Java KCL 3.x's): leaseOwner the receiver, checkpointOwner the holder. */
const handing = (l: LeaseSnapshot, to: string): LeaseSnapshot => ({ ...l, leaseOwner: to, checkpointOwner: l.leaseOwner });

const take = (leases: LeaseSnapshot[], clock: ManualClock, expiry: LeaseExpiry, held: string[] = [], listed?: string[]) => {
  expiry.observe(leases, clock.now());
  const input = { leases, workerId: 'me', held: new Set(held), now: clock.now(), failoverMs: 10_000, expiry };
  return planTakes(listed ? { ...input, listed: new Set(listed) } : input)
    .take.map((l) => l.leaseKey)
    .sort();
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

// --- balancing across workers ---

const first = () => 0;
/** n leases named s0..s(n-1), owned as `owners` says (undefined: free). */
const table = (owners: (string | undefined)[], over: Partial<LeaseSnapshot> = {}) =>
  owners.map((owner, i) => lease(`s${i}`, { leaseOwner: owner, leaseCounter: 1, ...over }));
const plan = (leases: LeaseSnapshot[], clock: ManualClock, expiry: LeaseExpiry, extra: Partial<TakeInput> = {}) => {
  expiry.observe(leases, clock.now());
  // what this worker holds: leases it owns, not those still being handed to it
  const held = new Set(leases.filter((l) => (l.checkpointOwner ?? l.leaseOwner) === 'me').map((l) => l.leaseKey));
  return planTakes({ leases, workerId: 'me', held, now: clock.now(), failoverMs: 10_000, expiry, maxStealPerCycle: 1, random: first, ...extra });
};
const owners = (spec: Record<string, number>) => Object.entries(spec).flatMap(([o, n]) => Array<string | undefined>(n).fill(o === 'free' ? undefined : o));

test('target is ceil(leases / live workers), this worker included; free leases are taken only up to it', (t) => {
  const p = plan(table(owners({ a: 4, b: 4, free: 4 })), new ManualClock(), new LeaseExpiry());
  t.is(p.liveWorkers, 3);
  t.is(p.target, 4);
  t.is(p.take.length, 4);
  t.deepEqual(p.steal, []);
  const alone = plan(table(owners({ free: 12 })), new ManualClock(), new LeaseExpiry());
  t.is(alone.target, 12, 'a worker that sees nobody else takes everything');
  t.is(alone.take.length, 12);
});

test('maxLeasesPerWorker caps the target', (t) => {
  const p = plan(table(owners({ free: 12 })), new ManualClock(), new LeaseExpiry(), { maxLeasesPerWorker: 5 });
  t.is(p.target, 5);
  t.is(p.take.length, 5);
});

test('a live owner is one with a lease renewed within failoverMs; a dead one is not counted and its leases are taken', (t) => {
  const clock = new ManualClock();
  const expiry = new LeaseExpiry();
  const rows = (bCounter: number) => [
    ...table(owners({ me: 4 })).map((l, i) => ({ ...l, leaseKey: `m${i}` })),
    ...table(owners({ b: 4 })).map((l, i) => ({ ...l, leaseKey: `b${i}`, leaseCounter: bCounter })),
    ...table(owners({ dead: 4 })).map((l, i) => ({ ...l, leaseKey: `d${i}` })),
  ];
  t.is(plan(rows(1), clock, expiry).liveWorkers, 3, 'first sight: everyone counts as live');
  clock.advance(10_000);
  const p = plan(rows(2), clock, expiry);
  t.is(p.liveWorkers, 2, 'dead renewed nothing for failoverMs');
  t.is(p.target, 6);
  t.is(p.take.length, 2, 'up to target; the other survivor takes the rest');
  t.true(p.take.every((l) => l.leaseOwner === 'dead'));
});

test('free leases come before expired ones', (t) => {
  const clock = new ManualClock();
  const expiry = new LeaseExpiry();
  const rows = [lease('expired', { leaseOwner: 'dead', leaseCounter: 3 }), lease('free'), lease('mine1', { leaseOwner: 'me' }), lease('x', { leaseOwner: 'b', leaseCounter: 1 })];
  plan(rows, clock, expiry);
  clock.advance(10_000);
  const renewed = rows.map((l) => (l.leaseKey === 'x' ? { ...l, leaseCounter: 2 } : l));
  // 4 leases over me and b: target 2, I hold 1, so one more: the free one
  t.deepEqual(plan(renewed, clock, expiry).take.map((l) => l.leaseKey), ['free']);
});

test('below target with nothing free: steal one lease per cycle from the most loaded worker', (t) => {
  const p = plan(table(owners({ a: 5, b: 7 })), new ManualClock(), new LeaseExpiry());
  t.is(p.target, 4);
  t.deepEqual(p.take, []);
  t.is(p.steal.length, 1);
  t.is(p.steal[0]!.leaseOwner, 'b');
  t.is(p.load.get('b'), 6);
  t.is(p.load.get('me'), 1);
});

test('maxStealPerCycle bounds the steals; 0 turns stealing off', (t) => {
  const rows = table(owners({ a: 6, b: 6 }));
  t.is(plan(rows, new ManualClock(), new LeaseExpiry(), { maxStealPerCycle: 3 }).steal.length, 3);
  t.is(plan(rows, new ManualClock(), new LeaseExpiry(), { maxStealPerCycle: 10 }).steal.length, 4, 'never past target');
  t.is(plan(rows, new ManualClock(), new LeaseExpiry(), { maxStealPerCycle: 0 }).steal.length, 0);
  const spread = plan(rows, new ManualClock(), new LeaseExpiry(), { maxStealPerCycle: 4 });
  t.deepEqual([spread.load.get('a'), spread.load.get('b'), spread.load.get('me')], [4, 4, 4], 'taken from whoever is most loaded at each step');
});

test('a victim is never left below target, so a balanced table stays put', (t) => {
  t.deepEqual(plan(table(owners({ a: 4, b: 4, me: 4 })), new ManualClock(), new LeaseExpiry()).steal, [], '4/4/4');
  t.deepEqual(plan(table(owners({ a: 5, b: 4, me: 4 })), new ManualClock(), new LeaseExpiry()).steal, [], '13 over 3: target 5, nobody may take from a 5');
  t.deepEqual(plan(table(owners({ a: 4, b: 3, me: 3 })), new ManualClock(), new LeaseExpiry()).steal, [], '10 over 3: 4/3/3 is balanced');
});

test('two below target, a victim at target may go to target - 1: 10 over 3 reaches 4/3/3 rather than 4/4/2', (t) => {
  const p = plan(table(owners({ a: 4, b: 4, me: 2 })), new ManualClock(), new LeaseExpiry());
  t.is(p.target, 4);
  t.is(p.steal.length, 1);
  t.is(p.load.get('me'), 3);
});

test('a lease with a pending handoff counts for the worker it moves to and is not stolen twice', (t) => {
  const rows = table(owners({ a: 6, b: 6 })).map((l, i) => (i < 2 ? handing(l, 'c') : l));
  const p = plan(rows, new ManualClock(), new LeaseExpiry());
  t.is(p.liveWorkers, 4, 'the requester is alive: it just asked');
  t.is(p.load.get('c'), 2);
  t.is(p.load.get('a'), 4);
  t.is(p.steal.length, 1);
  t.is(p.steal[0]!.leaseOwner, 'b', 'a is at target once its handoff completes');
  t.is(p.steal[0]!.checkpointOwner, undefined);
});

test('a lease handed to this worker is taken at once; a pending handoff is never taken from a holder that renews, however long it drains', (t) => {
  const clock = new ManualClock();
  const expiry = new LeaseExpiry();
  const handed = plan([lease('h', { leaseOwner: 'me', leaseCounter: 4 }), lease('x', { leaseOwner: 'a', leaseCounter: 1 })], clock, expiry, { held: new Set() });
  t.deepEqual(handed.take.map((l) => l.leaseKey), ['h']);
  const asked = (counter: number) => [handing(lease('r', { leaseOwner: 'a', leaseCounter: counter }), 'me'), lease('y', { leaseOwner: 'a', leaseCounter: counter })];
  const requested = new Map([['r', clock.now()]]);
  const renewing = new LeaseExpiry();
  t.deepEqual(plan(asked(1), clock, renewing, { requested }).take, []);
  // the owner keeps renewing while its slow batch runs: many failoverMs later the request still waits
  for (let i = 2; i < 10; i++) {
    clock.advance(10_000);
    const p = plan(asked(i), clock, renewing, { requested });
    t.deepEqual(p.take, [], `${(i - 1) * 10} s after the request`);
    t.is(p.load.get('me'), 1, 'the lease handed to us counts for this worker meanwhile');
  }
});

test('a handoff whose holder stops renewing is forced: taken once the counter stood still for failoverMs', (t) => {
  const clock = new ManualClock();
  const expiry = new LeaseExpiry();
  const rows = [handing(lease('r', { leaseOwner: 'java', leaseCounter: 3 }), 'me'), lease('y', { leaseOwner: 'b', leaseCounter: 1 })];
  const requested = new Map([['r', clock.now()]]);
  t.deepEqual(plan(rows, clock, expiry, { requested }).take, []);
  clock.advance(9_999);
  t.deepEqual(plan(rows, clock, expiry, { requested }).take, [], 'not before failoverMs');
  clock.advance(1);
  const renewedY = rows.map((l) => (l.leaseKey === 'y' ? { ...l, leaseCounter: 2 } : l));
  const forced = plan(renewedY, clock, expiry, { requested, maxLeasesPerWorker: 1 });
  t.deepEqual(forced.take.map((l) => l.leaseKey), ['r'], 'its counter stood still for failoverMs');
  t.is(forced.take[0]!.checkpointOwner, 'java', 'the take (on the counter seen) removes checkpointOwner');
});

test('a handoff pending for handoffTimeoutMs while its holder renews is cancelled, and the lease counts for its holder again', (t) => {
  const clock = new ManualClock();
  const expiry = new LeaseExpiry();
  const rows = (counter: number) => [
    handing(lease('r', { leaseOwner: 'a', leaseCounter: counter }), 'me'),
    ...table(owners({ a: 2, b: 5 })).map((l) => ({ ...l, leaseCounter: counter })),
  ];
  const requested = new Map([['r', clock.now()]]);
  const early = plan(rows(1), clock, expiry, { requested, handoffTimeoutMs: 60_000 });
  t.deepEqual(early.cancel, []);
  t.is(early.load.get('me'), 1 + early.steal.length, 'the pending handoff counts for this worker');
  clock.advance(60_000);
  const late = plan(rows(7), clock, expiry, { requested, handoffTimeoutMs: 60_000 });
  t.deepEqual(late.cancel.map((l) => l.leaseKey), ['r']);
  t.deepEqual(late.take, [], 'cancelled, never taken');
  t.is(late.steal.length, 1, 'free to ask elsewhere in the same cycle');
  t.is(late.steal[0]!.leaseOwner, 'b', 'the most loaded');
  const onlyA = plan(rows(7).filter((l) => (l.checkpointOwner ?? l.leaseOwner) === 'a'), clock, expiry, { requested, handoffTimeoutMs: 60_000 });
  t.deepEqual(onlyA.steal, [], 'not another lease of the owner that kept it waiting, in the same cycle');
});

test('shouldProcess: only eligible leases are taken or stolen, but all count for the target', (t) => {
  const even = (id: string) => Number(id.slice(1)) % 2 === 0;
  const p = plan(table(owners({ free: 12 })), new ManualClock(), new LeaseExpiry(), { eligible: even });
  t.deepEqual(p.take.map((l) => l.leaseKey).sort(), ['s0', 's10', 's2', 's4', 's6', 's8']);
  const steal = plan(table(owners({ a: 12 })), new ManualClock(), new LeaseExpiry(), { eligible: (id) => id === 's7' });
  t.deepEqual(steal.steal.map((l) => l.leaseKey), ['s7']);
});

test('a free lease nobody below target took for failoverMs + a cycle is taken above target (shouldProcess left it over)', (t) => {
  const clock = new ManualClock();
  const expiry = new LeaseExpiry();
  const rows = (aCounter: number) => [
    ...table(owners({ me: 4 })),
    ...table(owners({ a: 3 })).map((l, i) => ({ ...l, leaseKey: `a${i}`, leaseCounter: aCounter })),
    lease('left', { leaseCounter: 1 }),
  ];
  const extra = { orphanAfterMs: 20_000 };
  t.deepEqual(plan(rows(1), clock, expiry, extra).take, [], '8 over 2: at target 4, the free lease is left to a');
  clock.advance(15_000);
  t.deepEqual(plan(rows(2), clock, expiry, extra).take, []);
  clock.advance(14_999);
  t.deepEqual(plan(rows(3), clock, expiry, extra).take, []);
  clock.advance(1);
  t.deepEqual(plan(rows(3), clock, expiry, extra).take.map((l) => l.leaseKey), ['left'], 'untaken for failoverMs + orphanAfterMs');
});

test('nextExpiry: the earliest moment a lease held by someone could expire', (t) => {
  const clock = new ManualClock();
  const expiry = new LeaseExpiry();
  expiry.observe([lease('a', { leaseOwner: 'x', leaseCounter: 1 }), lease('f')], clock.now());
  clock.advance(3_000);
  const rows = [lease('a', { leaseOwner: 'x', leaseCounter: 1 }), lease('b', { leaseOwner: 'y', leaseCounter: 1 }), lease('f')];
  expiry.observe(rows, clock.now());
  t.is(expiry.nextExpiry(rows, clock.now(), 10_000), 10_000, 'a, seen unchanged since 0; free leases do not expire');
  clock.advance(8_000);
  t.is(expiry.nextExpiry(rows, clock.now(), 10_000), 13_000, 'a is expired already: b next');
});

test('balancing options: stealing one lease per cycle by default, no cap; shouldProcess must be a function and stays on the main thread', (t) => {
  const o = resolveOptions({ streamName: 's', appName: 'billing', consumer: './c.js' });
  t.is(o.lease.maxStealPerCycle, 1);
  t.is(o.lease.maxLeasesPerWorker, undefined);
  t.is(o.shouldProcess, undefined);
  const only = (shardId: string) => shardId.endsWith('1');
  t.is(resolveOptions({ streamName: 's', appName: 'billing', consumer: './c.js', shouldProcess: only }).shouldProcess, only);
  t.throws(() => resolveOptions({ streamName: 's', appName: 'billing', consumer: './c.js', shouldProcess: 'shard-1' }), {
    message: /option "shouldProcess" is invalid: expected a function \(shardId, workerId\) => boolean/,
  });
  t.throws(() => resolveOptions({ streamName: 's', appName: 'billing', consumer: './c.js', lease: { maxStealPerCycle: -1 } }), { message: /lease\.maxStealPerCycle/ });
  t.throws(() => resolveOptions({ streamName: 's', appName: 'billing', consumer: './c.js', lease: { maxLeasesPerWorker: 0 } }), { message: /lease\.maxLeasesPerWorker/ });
});

test('pull: below target, a worker asks workers above target for as many as it lacks, beyond maxStealPerCycle, half a surplus per tick', (t) => {
  // 'me' holds one lease already (it is visible); 'a' took the other eleven before anyone else was up
  const p = plan(table(owners({ me: 1, a: 11 })), new ManualClock(), new LeaseExpiry(), { pull: true });
  t.is(p.target, 6);
  t.is(p.steal.length, 3, 'a is above target: no per-cycle cap, but half its surplus of 5 per tick');
  t.deepEqual([p.load.get('me'), p.load.get('a')], [4, 8]);
  // the next tick, with those three moving to 'me'
  const rows = table(owners({ me: 1, a: 11 })).map((l, i) => (i >= 1 && i <= 3 ? handing(l, 'me') : l));
  const next = plan(rows, new ManualClock(), new LeaseExpiry(), { pull: true, held: new Set(['s0']) });
  t.is(next.steal.length, 1, 'half of the 2 left above target');
  const two = plan(table(owners({ me: 2, b: 5, c: 5 })), new ManualClock(), new LeaseExpiry(), { pull: true });
  t.is(two.steal.length, 2, 'one from each worker above target');
  t.deepEqual([two.load.get('b'), two.load.get('c')], [4, 4]);
  const javaRule = plan(table(owners({ me: 1, a: 11 })), new ManualClock(), new LeaseExpiry());
  t.is(javaRule.steal.length, 1, 'without pull, maxStealPerCycle bounds it');
});

test('pull: three workers from 12/0/0 converge without over-asking: one ask while unseen, the rest once seen', (t) => {
  const unseen = plan(table(owners({ a: 12 })), new ManualClock(), new LeaseExpiry(), { pull: true });
  t.is(unseen.steal.length, 1, 'nobody can see this worker yet: one ask, as maxStealPerCycle');
  // both newcomers asked for one each; now everyone sees everyone
  const rows = table(owners({ a: 12 }));
  rows[0] = handing(rows[0]!, 'me');
  rows[1] = handing(rows[1]!, 'c');
  const next = plan(rows, new ManualClock(), new LeaseExpiry(), { pull: true, maxStealPerCycle: 0 });
  t.is(next.liveWorkers, 3);
  t.is(next.target, 4);
  t.is(next.steal.length, 3, 'a check tick pulls too');
  t.deepEqual([next.load.get('a'), next.load.get('c'), next.load.get('me')], [7, 1, 4], 'c pulls its three from what a has above target');
});

test('pull never asks a worker at or below target beyond the Java rule, and never asks for a lease shouldProcess rejects', (t) => {
  for (const spec of [{ me: 4, b: 4, c: 4 }, { me: 3, b: 4, c: 3 }, { me: 2, b: 3, c: 3 }]) {
    t.deepEqual(plan(table(owners(spec)), new ManualClock(), new LeaseExpiry(), { pull: true }).steal, [], JSON.stringify(spec));
  }
  const twoBelow = plan(table(owners({ me: 2, b: 4, c: 4 })), new ManualClock(), new LeaseExpiry(), { pull: true, maxStealPerCycle: 3 });
  t.is(twoBelow.steal.length, 1, 'at target: one lease, only because the thief is two below');
  // 8 leases over 'me' and 'a': 'me' may process only s0 and s1
  const picky = plan(table(owners({ a: 8 })), new ManualClock(), new LeaseExpiry(), {
    pull: true,
    held: new Set(),
    leases: [lease('z', { leaseOwner: 'me', leaseCounter: 1 }), ...table(owners({ a: 8 }))],
    eligible: (id) => id === 's0' || id === 's1' || id === 'z',
  });
  t.deepEqual(picky.steal.map((l) => l.leaseKey).sort(), ['s0', 's1'], 'only leases this worker will process');
});

test('a lease of ours that shouldProcess now rejects is released, held or not', (t) => {
  const rows = [lease('held', { leaseOwner: 'me', leaseCounter: 1 }), lease('earlier', { leaseOwner: 'me', leaseCounter: 1 }), lease('ok', { leaseOwner: 'me', leaseCounter: 1 })];
  const p = plan(rows, new ManualClock(), new LeaseExpiry(), { held: new Set(['held', 'ok']), eligible: (id) => id === 'ok' });
  t.deepEqual(p.release.map((l) => l.leaseKey).sort(), ['earlier', 'held']);
  t.deepEqual(p.take, [], 'the rejected one carrying our id is not taken back');
  const moving = plan([handing(rows[0]!, 'b')], new ManualClock(), new LeaseExpiry(), { held: new Set(['held']), eligible: () => false });
  t.deepEqual(moving.release, [], 'already being handed over');
  const threw = plan(rows, new ManualClock(), new LeaseExpiry(), { held: new Set(['held', 'ok']), eligible: () => undefined });
  t.deepEqual([threw.release, threw.take], [[], []], 'a shouldProcess that threw neither takes nor gives up anything');
});

test('a child whose parent row cannot be read waits: the parent is not known to be done', (t) => {
  const child = lease('child', { parentShardIds: ['p'] });
  t.deepEqual(plan([child], new ManualClock(), new LeaseExpiry(), { unreadable: new Set(['p']) }).take, []);
  t.deepEqual(plan([child], new ManualClock(), new LeaseExpiry()).take.map((l) => l.leaseKey), ['child'], 'no row at all: done (cleaned up)');
});

test('contradictory timing options are INVALID_OPTION, naming the option to change', (t) => {
  const base = { streamName: 's', appName: 'billing', consumer: './c.js' };
  const bad: [Record<string, unknown>, string][] = [
    [{ lease: { failoverMs: 3_000, renewIntervalMs: 3_000 } }, 'lease.renewIntervalMs'],
    [{ lease: { renewIntervalMs: 20_000 } }, 'lease.renewIntervalMs'],
    [{ lease: { failoverMs: 1 } }, 'lease.failoverMs'],
    [{ lease: { failoverMs: 3_000, handoffTimeoutMs: 1_000 } }, 'lease.handoffTimeoutMs'],
    [{ batchers: { backoff: { baseMs: 500, maxMs: 100 } } }, 'batchers.backoff.baseMs'],
  ];
  for (const [over, option] of bad) {
    const error = t.throws(() => resolveOptions({ ...base, ...over }), { message: new RegExp(`"${option.replace(/\./g, '\\.')}"`) }, option) as { code?: string; details?: { option?: string } };
    t.is(error?.code, 'INVALID_OPTION');
    t.is(error?.details?.option, option);
  }
  const ok = resolveOptions({ ...base, lease: { failoverMs: 3_000, takeIntervalMs: 200 } });
  t.is(ok.lease.handoffTimeoutMs, 9_000, 'default: three take intervals, at least three failoverMs');
  t.is(ok.lease.cleanupAfterMs, 300_000);
});

test('leaseRowProblem: what makes a row unreadable as a lease', (t) => {
  const ok = { leaseKey: { S: 's' }, leaseCounter: { N: '3' }, checkpoint: { S: 'TRIM_HORIZON' } };
  t.is(leaseRowProblem(ok), undefined);
  t.is(leaseRowProblem({ leaseKey: { S: 's' }, leaseCounter: { N: '0' } }), undefined, 'checkpoint may be absent (TRIM_HORIZON)');
  t.regex(leaseRowProblem({ ...ok, leaseCounter: { S: 'abc' } })!, /leaseCounter is not a number/);
  t.regex(leaseRowProblem({ leaseKey: { S: 's' } })!, /leaseCounter is missing/);
  t.regex(leaseRowProblem({ ...ok, leaseKey: { N: '1' } })!, /leaseKey/);
  t.regex(leaseRowProblem({ ...ok, checkpoint: { N: '5' } })!, /checkpoint is not a string/);
  t.regex(leaseRowProblem({ ...ok, parentShardId: { S: 'p' } })!, /parentShardId is not a string set/);
});
