import test from 'ava';
import { packRecords, type BatchOutcome } from '@kinesis-client/worker/internal';
import { BatchOutcomes } from '../src/batch-outcomes.js';
import type { PoolTask, Settled } from '../src/consumer-pool.js';
import { createEmitter } from '../src/events.js';

/** A pool whose tasks finish when the test says so, in the order they came. */
function heldPool() {
  const held: ((settled: Settled) => void)[] = [];
  return {
    run: (_task: PoolTask) => new Promise<Settled>((resolve) => held.push(resolve)),
    finish: (outcome: BatchOutcome) => held.shift()!({ outcome, durationMs: 1 }),
  };
}

const task = (last: string): PoolTask => ({
  kind: 'batch',
  records: packRecords([{ Data: new Uint8Array(1), PartitionKey: 'k', SequenceNumber: last }]),
  info: { shardId: 'shard-1', streamName: 's', firstSequenceNumber: last, lastSequenceNumber: last, attempt: 1, millisBehindLatest: undefined },
  deaggregation: { hashKeyRange: undefined, resumeAfter: undefined },
});
const settle = () => new Promise((r) => setImmediate(r));
/** The shard the tasks come from (stream 's'), as the coordinator addresses it. */
const shard1 = { streamName: 's', shardId: 'shard-1' };

test("a shard's handled position comes from its outcomes, and is forgotten once its final checkpoint is in, even when the pool reports an outcome after that", async (t) => {
  const pool = heldPool();
  const { events, open } = createEmitter();
  open();
  const handled: string[] = [];
  events.on('batch:handled', (e) => handled.push(e.lastSequenceNumber));
  const outcomes = new BatchOutcomes(pool, events);
  outcomes.submit(task('10'), () => undefined);
  pool.finish({ ok: true, lastSubSequenceNumber: 0 });
  await settle();
  t.deepEqual(outcomes.handledIn(shard1), { sequenceNumber: '10', subSequenceNumber: 0 });
  t.deepEqual(handled, ['10']);

  // the shard's host got the outcome of batch 20 straight from the pool, checkpointed it and stopped the shard
  outcomes.submit(task('20'), () => undefined);
  outcomes.forget(shard1);
  // the shard is placed again before the pool reports batch 20 to the main thread
  outcomes.submit(task('30'), () => undefined);
  pool.finish({ ok: true, lastSubSequenceNumber: 0 });
  await settle();
  t.is(outcomes.handledIn(shard1), undefined, 'an outcome from before the stop does not bring the shard back');
  pool.finish({ ok: true, lastSubSequenceNumber: 0 });
  await settle();
  t.deepEqual(outcomes.handledIn(shard1), { sequenceNumber: '30', subSequenceNumber: 0 }, 'the new placement is remembered');
  t.deepEqual(handled, ['10', '20', '30']);
});

test('failed batches are events, not positions; a pool thread that died is counted; a batch held by the lease fence is neither', async (t) => {
  const pool = heldPool();
  const { events, open } = createEmitter();
  open();
  const failed: boolean[] = [];
  events.on('batch:failed', (e) => failed.push(e.poolDied));
  const outcomes = new BatchOutcomes(pool, events);
  const error = { name: 'Error', message: 'x' };
  for (const outcome of [{ ok: false, error }, { ok: false, error, poolDied: true }, { ok: false, error, fenced: true }] as BatchOutcome[]) {
    outcomes.submit(task('10'), () => undefined);
    pool.finish(outcome);
  }
  await settle();
  t.deepEqual(failed, [false, true]);
  t.is(outcomes.poolDeaths, 1);
  t.is(outcomes.handledIn(shard1), undefined);
});
