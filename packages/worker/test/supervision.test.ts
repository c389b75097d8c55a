import test from 'ava';
import { ActorRuntime, ManualClock, Supervisor, decide, restartSet, type ExitReason, type RestartType } from '@kinesis-client/worker';

const crash: ExitReason = { kind: 'crash', error: new Error('boom') };
const normal: ExitReason = { kind: 'normal' };
const shutdown: ExitReason = { kind: 'shutdown' };
const limit = { maxRestarts: 3, withinMs: 1_000 };

const table: [RestartType, ExitReason, number, string][] = [
  ['permanent', crash, 0, 'restart'],
  ['permanent', normal, 0, 'restart'],
  ['permanent', shutdown, 0, 'restart'],
  ['transient', crash, 0, 'restart'],
  ['transient', normal, 0, 'stop'],
  ['transient', shutdown, 0, 'stop'],
  ['temporary', crash, 0, 'stop'],
  ['temporary', normal, 0, 'stop'],
  ['permanent', crash, 2, 'restart'],
  ['permanent', crash, 3, 'escalate'],
  ['transient', crash, 3, 'escalate'],
  ['transient', normal, 3, 'stop'],
];
for (const [restart, reason, inWindow, expected] of table) {
  test(`decide: ${restart} child, ${reason.kind} exit, ${inWindow} restarts in window -> ${expected}`, (t) => {
    t.is(decide(restart, reason, inWindow, limit), expected);
  });
}

test('restartSet: which siblings each strategy restarts', (t) => {
  const order = ['a', 'b', 'c'];
  t.deepEqual(restartSet('one_for_one', order, 'b'), ['b']);
  t.deepEqual(restartSet('one_for_all', order, 'b'), ['a', 'b', 'c']);
  t.deepEqual(restartSet('rest_for_one', order, 'a'), ['a', 'b', 'c']);
  t.deepEqual(restartSet('rest_for_one', order, 'b'), ['b', 'c']);
  t.deepEqual(restartSet('rest_for_one', order, 'c'), ['c']);
});

/** A supervisor over actors a, b, c in one runtime; records the order of starts and stops. */
function harness(strategy: 'one_for_one' | 'one_for_all' | 'rest_for_one') {
  const clock = new ManualClock();
  const runtime = new ActorRuntime(clock);
  const log: string[] = [];
  const escalations: string[] = [];
  const specs = ['a', 'b', 'c'].map((id) => ({
    id,
    restart: 'permanent' as const,
    start: (exited: (r: ExitReason) => void) => {
      log.push(`start ${id}`);
      const ref = runtime.spawn<'crash'>(id, () => ({ receive() { throw new Error(`${id} crashed`); } }), (_r, reason) => exited(reason));
      return { stop: async (reason: ExitReason) => { log.push(`stop ${id}`); await runtime.stop(ref, reason); } };
    },
  }));
  const sup = new Supervisor(specs, {
    strategy,
    intensity: { maxRestarts: 2, withinMs: 1_000 },
    backoff: { baseMs: 0, maxMs: 0 },
    clock,
    onEscalate: (child) => escalations.push(child),
  });
  const crashActor = async (id: string) => {
    runtime.send(runtime.current(id)!, 'crash');
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  return { sup, runtime, log, escalations, crashActor, clock };
}

test('one_for_one restarts the crashed child only', async (t) => {
  const h = harness('one_for_one');
  await h.sup.start();
  h.log.length = 0;
  const before = h.runtime.current('b')!.incarnation;
  await h.crashActor('b');
  t.deepEqual(h.log, ['start b']);
  t.is(h.runtime.current('b')!.incarnation, before + 1, 'same id, new incarnation');
});

test('rest_for_one restarts the crashed child and those started after it, in order', async (t) => {
  const h = harness('rest_for_one');
  await h.sup.start();
  h.log.length = 0;
  await h.crashActor('b');
  t.deepEqual(h.log, ['stop c', 'start b', 'start c']);
});

test('one_for_all restarts every child', async (t) => {
  const h = harness('one_for_all');
  await h.sup.start();
  h.log.length = 0;
  await h.crashActor('b');
  t.deepEqual(h.log, ['stop c', 'stop a', 'start a', 'start b', 'start c']);
});

test('the intensity limit escalates exactly when passed, and window expiry forgives old restarts', async (t) => {
  const h = harness('one_for_one');
  await h.sup.start();
  await h.crashActor('a');
  await h.crashActor('a');
  t.deepEqual(h.escalations, [], 'two restarts are within maxRestarts 2');
  h.clock.advance(1_001);
  await h.crashActor('a');
  await h.crashActor('a');
  t.deepEqual(h.escalations, [], 'the earlier restarts left the window');
  await h.crashActor('a');
  t.deepEqual(h.escalations, ['a'], 'the third restart inside the window escalates');
  t.false(h.sup.running);
  t.is(h.runtime.liveActors().length, 0, 'an escalating supervisor stops all its children');
});

test('a message for an ended incarnation is dropped, never delivered to the new one', async (t) => {
  const runtime = new ActorRuntime(new ManualClock());
  const seen: string[] = [];
  const behavior = () => ({ receive(m: string) { seen.push(m); } });
  const old = runtime.spawn<string>('x', behavior, () => undefined);
  await runtime.stop(old);
  const fresh = runtime.spawn<string>('x', behavior, () => undefined);
  t.false(runtime.send(old, 'for the old one'));
  t.true(runtime.send(fresh, 'for the new one'));
  await new Promise((r) => setImmediate(r));
  t.deepEqual(seen, ['for the new one']);
  t.is(fresh.incarnation, old.incarnation + 1);
});

test('an actor handles one message at a time, in order', async (t) => {
  const runtime = new ActorRuntime(new ManualClock());
  const events: string[] = [];
  const ref = runtime.spawn<number>('slow', () => ({
    async receive(n) {
      events.push(`begin ${n}`);
      await new Promise((r) => setTimeout(r, 5));
      events.push(`end ${n}`);
    },
  }), () => undefined);
  runtime.send(ref, 1);
  runtime.send(ref, 2);
  await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(events, ['begin 1', 'end 1', 'begin 2', 'end 2']);
});
