import test from 'ava';
import { ActorRuntime, type ExitReason } from '../src/actor/runtime.js';
import { Supervisor, decide, restartSet, type RestartType } from '../src/actor/supervisor.js';
import { ManualClock } from '../src/clock.js';

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
  // a loaded machine may take longer than the handlers' own waits: poll for the last event
  for (const deadline = Date.now() + 5_000; events.length < 4 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 5));
  t.deepEqual(events, ['begin 1', 'end 1', 'begin 2', 'end 2']);
});

test('injectCrash throws inside the actor after the messages already queued, and the supervisor restarts it', async (t) => {
  const clock = new ManualClock();
  const runtime = new ActorRuntime(clock);
  const seen: string[] = [];
  const exits: string[] = [];
  const sup = new Supervisor(
    [
      {
        id: 'x',
        restart: 'transient',
        start: (exited) => {
          const ref = runtime.spawn<string>('x', () => ({ receive(m) { seen.push(m); } }), (_r, reason) => {
            exits.push(reason.kind);
            exited(reason);
          });
          return { stop: (reason) => runtime.stop(ref, reason) };
        },
      },
    ],
    { strategy: 'one_for_one', intensity: { maxRestarts: 3, withinMs: 1_000 }, backoff: { baseMs: 0, maxMs: 0 }, clock, onEscalate: () => undefined },
  );
  await sup.start();
  const first = runtime.current<string>('x')!;
  runtime.send(first, 'queued before');
  t.true(runtime.injectCrash('x'));
  runtime.send(first, 'queued after');
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  t.deepEqual(seen, ['queued before'], 'the message behind the crash died with that incarnation');
  t.deepEqual(exits, ['crash']);
  const [state] = sup.describe();
  t.is(state!.incarnation, 2);
  t.is(state!.restarts, 1);
  t.is(state!.state, 'running');
  t.is((state!.lastError as Error).name, 'ActorCrashInjected');
  t.is(runtime.current('x')!.incarnation, first.incarnation + 1);
  t.false(runtime.injectCrash('nobody'));
});

test('restart types: a temporary child is never restarted, a transient one only after a crash', async (t) => {
  const clock = new ManualClock();
  const runtime = new ActorRuntime(clock);
  const starts: string[] = [];
  const spec = (id: string, restart: RestartType) => ({
    id,
    restart,
    start: (exited: (r: ExitReason) => void) => {
      starts.push(id);
      const ref = runtime.spawn<'crash' | 'quit'>(id, (ctx) => ({
        receive(m) {
          if (m === 'crash') throw new Error(`${id} crashed`);
          ctx.exit({ kind: 'normal' });
        },
      }), (_r, reason) => exited(reason));
      return { stop: (reason: ExitReason) => runtime.stop(ref, reason) };
    },
  });
  const sup = new Supervisor([spec('temp', 'temporary'), spec('trans', 'transient')], {
    strategy: 'one_for_one',
    intensity: { maxRestarts: 5, withinMs: 1_000 },
    backoff: { baseMs: 0, maxMs: 0 },
    clock,
    onEscalate: () => undefined,
  });
  await sup.start();
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  starts.length = 0;
  runtime.send(runtime.current('temp')!, 'crash');
  await settle();
  runtime.send(runtime.current('trans')!, 'crash');
  await settle();
  t.deepEqual(starts, ['trans'], 'the crashed transient child restarts; the temporary one does not');
  runtime.send(runtime.current('trans')!, 'quit');
  await settle();
  t.deepEqual(starts, ['trans'], 'a normal exit of a transient child is final');
  t.deepEqual(sup.describe().map((c) => c.state), ['stopped', 'stopped'], 'both are gone for good');
});

test('escalation goes to the parent: a child supervisor past its limit is restarted by its own supervisor', async (t) => {
  const clock = new ManualClock();
  const runtime = new ActorRuntime(clock);
  const rootEscalations: string[] = [];
  const innerStarts: number[] = [];
  let inner: Supervisor | undefined;
  const innerSpec = {
    id: 'inner',
    restart: 'permanent' as const,
    start: async (exited: (r: ExitReason) => void) => {
      innerStarts.push(innerStarts.length + 1);
      inner = new Supervisor(
        [
          {
            id: 'worker',
            restart: 'permanent',
            start: (workerExited) => {
              const ref = runtime.spawn<'crash'>('worker', () => ({ receive() { throw new Error('worker crashed'); } }), (_r, reason) => workerExited(reason));
              return { stop: (reason) => runtime.stop(ref, reason) };
            },
          },
        ],
        { strategy: 'one_for_one', intensity: { maxRestarts: 1, withinMs: 1_000 }, backoff: { baseMs: 0, maxMs: 0 }, clock, onEscalate: (_c, reason) => exited(reason) },
      );
      await inner.start();
      return { stop: () => inner!.stop() };
    },
  };
  const root = new Supervisor([innerSpec], {
    strategy: 'one_for_one',
    intensity: { maxRestarts: 1, withinMs: 1_000 },
    backoff: { baseMs: 0, maxMs: 0 },
    clock,
    onEscalate: (child) => rootEscalations.push(child),
  });
  await root.start();
  const crashWorker = async () => {
    runtime.send(runtime.current('worker')!, 'crash');
    for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r));
  };
  await crashWorker();
  t.deepEqual(innerStarts, [1], 'one crash is within the inner limit');
  await crashWorker();
  t.deepEqual(innerStarts, [1, 2], 'the second passes it: the inner supervisor escalates and the root restarts it');
  t.deepEqual(rootEscalations, []);
  await crashWorker();
  await crashWorker();
  t.deepEqual(rootEscalations, ['inner'], 'the root passes its own limit in turn and escalates past the top');
  t.false(root.running);
});

test('restart backoff: a crash loop waits longer each time; a child that lived past the ceiling restarts after the base delay', async (t) => {
  const clock = new ManualClock();
  const runtime = new ActorRuntime(clock);
  let starts = 0;
  const sup = new Supervisor(
    [
      {
        id: 'x',
        restart: 'permanent',
        start: (exited) => {
          starts++;
          const ref = runtime.spawn<'crash'>('x', () => ({ receive() { throw new Error('x crashed'); } }), (_r, reason) => exited(reason));
          return { stop: (reason) => runtime.stop(ref, reason) };
        },
      },
    ],
    { strategy: 'one_for_one', intensity: { maxRestarts: 100, withinMs: 60_000 }, backoff: { baseMs: 100, maxMs: 1_000 }, clock, onEscalate: () => undefined },
  );
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  const crash = async () => {
    runtime.send(runtime.current('x')!, 'crash');
    await settle();
  };
  const advance = async (ms: number) => {
    clock.advance(ms);
    await settle();
  };
  await sup.start();
  await crash();
  await advance(100);
  t.is(starts, 2, 'first restart within the base delay (full jitter: 50..100 ms)');
  await crash();
  await advance(99);
  t.is(starts, 2, 'an immediate second crash waits at least 100 ms');
  await advance(101);
  t.is(starts, 3, '...and at most 200 ms');
  await advance(1_000);
  await crash();
  await advance(100);
  t.is(starts, 4, 'after a life longer than the 1 000 ms ceiling, back to the base delay');
});
