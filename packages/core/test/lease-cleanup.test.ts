/**
 * Finished lease rows are deleted once every child has started (lease.cleanupAfterMs later), and
 * never re-created while the stream still lists the parent: scans stay proportional to the open
 * shards.
 */
import test from 'ava';
import { listAllShards } from '@kinesis-client/core/internal';
import { SHARD_END, type LeaseSnapshot } from '@kinesis-client/worker/lease';
import { createStream, putRecords, splitShard, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { eventually, jsonRecords, startRecordingSystem } from './helpers/recording.js';

const aws = withLocalAws(test);

const TAKE_INTERVAL_MS = 300;
const CLEANUP_AFTER_MS = 1_000;
const UNSTARTED = new Set(['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP']);

test.serial('split: the parent row is deleted once both children have checkpointed, not before, and is not re-created', async (t) => {
  const stream = uniqueName('cleanup');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 1);
  const parent = 'shardId-000000000000';
  const run = await startRecordingSystem(
    t,
    aws,
    { stream, app },
    { lease: { failoverMs: 3_000, takeIntervalMs: TAKE_INTERVAL_MS, cleanupAfterMs: CLEANUP_AFTER_MS }, retrieval: { idleMs: 100 } },
  );
  const table = aws.leaseTable(app);
  // watch the table throughout: whenever the parent row is missing, every child must have started
  const violations: string[] = [];
  let children: string[] = [];
  let last: Map<string, LeaseSnapshot> = new Map();
  let parentGoneAt: number | undefined;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      last = new Map((await table.scan()).map((l) => [l.leaseKey, l]));
      if (children.length > 0 && !last.has(parent)) {
        parentGoneAt ??= Date.now();
        for (const child of children) {
          const c = last.get(child);
          if (!c || UNSTARTED.has(c.checkpoint)) violations.push(`parent gone while ${child} is at ${c?.checkpoint ?? 'no lease'}`);
        }
      } else if (parentGoneAt !== undefined && last.has(parent)) {
        violations.push('the parent row was re-created');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    const handled = (written: { shardId: string; sequenceNumber: string }[]) => () =>
      written.every((w) => run.deliveries.byShard().get(w.shardId)?.includes(w.sequenceNumber));
    const before = await putRecords(aws.kinesis, stream, jsonRecords(100));
    await run.deliveries.waitFor(handled(before), 30_000, 'the parent’s records');
    children = (await splitShard(aws.kinesis, stream, parent)).map((s) => s.ShardId!);
    await eventually(async () => (last.get(parent)?.checkpoint === SHARD_END && children.every((c) => last.has(c)) ? true : undefined), 30_000, 'parent at SHARD_END');

    // the children hold no records yet, so they have not started: the parent row stays
    await new Promise((r) => setTimeout(r, CLEANUP_AFTER_MS + 10 * TAKE_INTERVAL_MS));
    t.true(last.has(parent), 'kept while its children are at TRIM_HORIZON');

    const after = await putRecords(aws.kinesis, stream, jsonRecords(200, { offset: 100 }));
    t.true(children.every((c) => after.some((w) => w.shardId === c)), 'records on both children');
    await run.deliveries.waitFor(handled(after), 30_000, 'the children’s records');
    await eventually(async () => (parentGoneAt !== undefined ? true : undefined), 30_000, 'the parent row deleted');
    t.log(`parent row deleted; table now: ${[...last.keys()].join(', ')}`);

    // several cycles later, with the stream still listing the parent, it is not brought back
    await new Promise((r) => setTimeout(r, 10 * TAKE_INTERVAL_MS));
    t.true((await listAllShards(aws.kinesis, stream)).some((s) => s.ShardId === parent), 'the stream still lists the parent');
    t.false(last.has(parent), 'not re-created');
    t.deepEqual([...last.keys()].sort(), [...children].sort(), 'only the open shards have rows');
    t.deepEqual(run.errors.map((e) => e.message), []);
  } finally {
    watching = false;
    await watcher;
    await run.stop();
  }
  t.deepEqual(violations, [], 'the parent row was never missing while a child had not started');
});
