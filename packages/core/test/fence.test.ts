import test from 'ava';
import { putRecords, withLocalAws } from '@kinesis-client/examples/testing';
import { eventually, jsonRecords, startRecordingSystem, type SystemRun } from './helpers/recording.js';

const aws = withLocalAws(test);

const FAILOVER_MS = 4_000;
// renewals far apart, so the time a worker notices on its own that renewals fail is far from the fence
const lease = { failoverMs: FAILOVER_MS, renewIntervalMs: 2_000, takeIntervalMs: 200, maxStealPerCycle: 0 };

test.serial('a worker whose lease writes fail stops starting batches before another worker can take its shards; nothing lost', async (t) => {
  const shards = 2;
  // slowish batches, so worker A is always about to start another one
  const query = { delayMs: 150 };
  const options = { lease, retrieval: { idleMs: 100 }, batchers: { batchSize: 10 }, processors: { concurrency: 2 }, shardHosts: { threads: 1 } };
  const a: SystemRun = await startRecordingSystem(t, aws, shards, { ...options, workerId: 'A' }, query);
  let b: SystemRun | undefined;
  const produced: string[] = [];
  let producing = true;
  const producer = (async () => {
    for (let i = 0; producing; i++) {
      produced.push(...(await putRecords(aws.kinesis, a.stream, jsonRecords(10, { offset: i * 10 }))).map((p) => p.sequenceNumber));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const expired: unknown[] = [];
  a.system.events.on('error', (e) => (e.error as { code?: string }).code === 'LEASE_EXPIRED' && expired.push(e));
  try {
    await a.deliveries.waitFor(() => a.deliveries.byShard().size === shards, 20_000, 'A handling both shards');
    b = await startRecordingSystem(t, aws, { stream: a.stream, app: a.app }, { ...options, workerId: 'B' }, query);
    // A can no longer renew or checkpoint: DynamoDB answers every UpdateItem with an error
    await a.system.faults.failCalls({ command: 'UpdateItem', error: 'InternalServerError', times: 1_000_000 });
    const bRun = b;
    await bRun.deliveries.waitFor(() => bRun.deliveries.byShard().size === shards, 30_000, 'B handling both shards');
    // B goes on a while: an A still starting batches would show now
    const bStart = bRun.deliveries.batches.length;
    await bRun.deliveries.waitFor(() => bRun.deliveries.batches.length >= bStart + 10, 20_000, 'more batches of B');
    producing = false;
    await producer;
    const handled = () => new Set([...a.deliveries.batches, ...bRun.deliveries.batches].flatMap((x) => x.sequenceNumbers));
    // generous: B replays what A handled without a checkpoint, at the slow consumer's pace, on a loaded machine
    await eventually(async () => (produced.every((s) => handled().has(s)) ? true : undefined), 90_000, 'every record handled').catch(() => undefined);

    const all = handled();
    t.deepEqual(produced.filter((s) => !all.has(s)), [], 'nothing lost');
    for (const [shardId] of bRun.deliveries.byShard()) {
      const bFirst = Math.min(...bRun.deliveries.batches.filter((x) => x.shardId === shardId).map((x) => x.startedAt));
      const late = a.deliveries.batches.filter((x) => x.shardId === shardId && x.startedAt >= bFirst);
      t.deepEqual(
        late.map((x) => `A started a batch ${x.startedAt - bFirst} ms after B's first on ${shardId}`),
        [],
        'no batch of A starts on a shard once B has started on it',
      );
    }
    t.true(expired.length > 0, 'A reported LEASE_EXPIRED');
  } finally {
    producing = false;
    await producer;
    await Promise.all([a.stop(), b?.stop()]);
  }
});
