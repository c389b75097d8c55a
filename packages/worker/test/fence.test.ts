import test from 'ava';
import { ManualClock } from '../src/clock.js';
import { EXPIRED, LeaseFence, beforeDeadline, fenceOpen, processNow } from '../src/lease/fence.js';
import { ANCHOR_SKEW_MS, anchorFor, comparePositions, laterPosition, startFrom } from '../src/position.js';

const timing = { failoverMs: 10_000, safetyMarginMs: 2_000 };

test('fence: open until failoverMs - safetyMarginMs after the last successful write was sent; lost at failoverMs', (t) => {
  const fence = new LeaseFence(timing);
  t.false(fence.open(1_000), 'closed before any write');
  t.is(fence.lostAt(), Number.NEGATIVE_INFINITY);
  fence.renewed(1_000);
  t.true(fence.open(1_000));
  t.true(fence.open(8_999));
  t.false(fence.open(9_000), 'closed at sent + failoverMs - safetyMarginMs');
  t.is(fence.lostAt(), 11_000);
  fence.renewed(5_000);
  t.true(fence.open(12_999));
  t.false(fence.open(13_000));
});

test('fence: an older write answered late never moves it back; revoke closes it', (t) => {
  const fence = new LeaseFence(timing);
  fence.renewed(5_000);
  fence.renewed(3_000);
  t.is(fence.lostAt(), 15_000);
  fence.revoke();
  t.false(fence.open(5_001));
});

test('fence: another thread reads the live value through the shared buffer', (t) => {
  const fence = new LeaseFence(timing);
  const copy = structuredClone(fence.buffer);
  fence.renewed(100);
  t.true(fenceOpen(copy, 7_000));
  fence.revoke();
  t.false(fenceOpen(copy, 7_000));
});

test('processNow is monotonic milliseconds', (t) => {
  const a = processNow();
  const b = processNow();
  t.true(b >= a);
  t.true(a > 0);
});

const at = (sequenceNumber: string, subSequenceNumber = 0) => ({ sequenceNumber, subSequenceNumber });

test('positions: sentinels before any sequence number, SHARD_END after; numbers as integers, then sub-sequence', (t) => {
  t.true(comparePositions(at('LATEST'), at('1')) < 0);
  t.true(comparePositions(at('AT_TIMESTAMP'), at('TRIM_HORIZON')) === 0);
  t.true(comparePositions(at('49590338271490256608559692538361571095921575989136588898'), at('9')) > 0, 'longer than a double');
  t.true(comparePositions(at('100', 2), at('100', 1)) > 0);
  t.true(comparePositions(at('SHARD_END'), at('99999999999999999999999')) > 0);
  t.deepEqual(laterPosition(undefined, at('5')), at('5'));
  t.deepEqual(laterPosition(at('7'), at('LATEST')), at('7'));
  t.is(laterPosition(undefined, undefined), undefined);
});

test('start: the anchor owner reads LATEST once, every later start reads AT_TIMESTAMP from the anchor', (t) => {
  t.deepEqual(startFrom(at('LATEST'), 1_000, true), { sequenceNumber: 'LATEST', subSequenceNumber: 0, timestamp: 1_000 });
  t.deepEqual(startFrom(at('LATEST'), 1_000, false), { sequenceNumber: 'AT_TIMESTAMP', subSequenceNumber: 0, timestamp: 1_000 });
  t.deepEqual(startFrom(at('AT_TIMESTAMP'), 1_000, true), { sequenceNumber: 'AT_TIMESTAMP', subSequenceNumber: 0, timestamp: 1_000 });
  t.deepEqual(startFrom(at('123', 4), 1_000, true), at('123', 4), 'a concrete position as it is');
  t.deepEqual(startFrom(at('TRIM_HORIZON'), 1_000, true), at('TRIM_HORIZON'));
  t.deepEqual(startFrom(at('LATEST'), undefined, false), at('LATEST'), 'no anchor: the sentinel stands');
});

test('anchor: LATEST is our clock less the skew margin; AT_TIMESTAMP the configured timestamp', (t) => {
  t.is(anchorFor('LATEST', undefined, 100_000), 100_000 - ANCHOR_SKEW_MS);
  t.is(anchorFor('AT_TIMESTAMP', 42, 100_000), 42);
  t.is(anchorFor('TRIM_HORIZON', 42, 100_000), undefined);
  t.is(anchorFor('123', 42, 100_000), undefined);
});

test('beforeDeadline: a call that never answers gives EXPIRED at the deadline; one that answers first gives its value', async (t) => {
  const clock = new ManualClock();
  const hung = beforeDeadline(new Promise<never>(() => undefined), 1_000, clock);
  clock.advance(999);
  const early = await Promise.race([hung, new Promise((r) => setImmediate(() => r('pending')))]);
  t.is(early, 'pending', 'not before the deadline');
  clock.advance(1);
  t.is(await hung, EXPIRED);
  t.is(await beforeDeadline(Promise.resolve(7), 1_000, clock), 7);
  t.is(clock.pendingTimers, 0, 'the timer is cleared once the call answers');
  t.is(await beforeDeadline(Promise.resolve('no deadline'), Number.NEGATIVE_INFINITY, clock), 'no deadline');
});
