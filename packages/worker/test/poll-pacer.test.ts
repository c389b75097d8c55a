import test from 'ava';
import { KINESIS_SHARD_LIMITS, PollPacer } from '../src/reader/poll-pacer.js';

const limits = { ...KINESIS_SHARD_LIMITS, idleMs: 1_000, throttleBackoff: { baseMs: 100, maxMs: 800 } };
const MB = 1024 * 1024;
const maxJitter = () => 0.999999;

test('behind: the next call goes as soon as the 5-calls-per-second budget allows', (t) => {
  const p = new PollPacer(limits);
  t.is(p.delay(0), 0, 'the first call goes at once');
  p.called(1_000);
  p.received({ records: 10_000, bytes: 100_000, behind: true });
  t.is(p.delay(1_010), 190);
  t.is(p.delay(1_200), 0);
});

test('never more than 2 MB per second: a large page holds the next call back in proportion', (t) => {
  const p = new PollPacer(limits);
  p.called(0);
  p.received({ records: 5_000, bytes: 2 * MB, behind: true });
  t.is(p.delay(0), 1_000, 'a 2 MB page uses a whole second');
  p.called(1_000);
  p.received({ records: 2_000, bytes: MB, behind: true });
  t.is(p.delay(1_000), 500);
});

test('caught up: records but not behind polls at the call budget; empty pages back off to idleMs', (t) => {
  const p = new PollPacer(limits);
  let now = 0;
  const step = (records: number) => {
    p.called(now);
    p.received({ records, bytes: records * 100, behind: false });
    const d = p.delay(now);
    now += d;
    return d;
  };
  t.is(step(3), 200);
  t.deepEqual([step(0), step(0), step(0), step(0), step(0)], [200, 400, 800, 1_000, 1_000]);
  t.is(step(1), 200, 'a record resets the backoff');
});

test('throttling backs off exponentially, capped, and is forgotten after the next success', (t) => {
  const p = new PollPacer(limits);
  const delays: number[] = [];
  for (let i = 0; i < 6; i++) {
    p.called(0);
    delays.push(p.throttled(0, maxJitter));
  }
  t.deepEqual(delays, [100, 200, 400, 800, 800, 800]);
  t.is(p.consecutiveThrottles, 6);
  t.is(p.delay(0), 800, 'the next call waits out the backoff');
  p.called(800);
  p.received({ records: 10, bytes: 1_000, behind: true });
  t.is(p.consecutiveThrottles, 0);
  t.is(p.delay(800), 200, 'back to the normal budget');
});

test('each shard has its own pacer: throttling one leaves another at full speed', (t) => {
  const throttled = new PollPacer(limits);
  const other = new PollPacer(limits);
  for (let i = 0; i < 5; i++) throttled.throttled(0, maxJitter);
  other.called(0);
  other.received({ records: 10_000, bytes: 1_000, behind: true });
  t.is(throttled.delay(0), 800);
  t.is(other.delay(200), 0);
});
