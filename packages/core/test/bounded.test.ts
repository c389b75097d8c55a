import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SystemEvents } from '@kinesis-client/core';
import { createStream, putRecords, startSystem, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { Deliveries, checkpointedAtLast, fixture, isAscending, jsonRecords, sortedSeqs } from './helpers/recording.js';

const aws = withLocalAws(test);

interface Hanging {
  shardId: string;
  first: string;
  last: string;
  attempt: number;
}

/** Batches the hanging consumer reported as hanging, from its channel. */
function watchHanging(channelName: string): { list: Hanging[]; close(): void } {
  const list: Hanging[] = [];
  const channel = new BroadcastChannel(channelName);
  channel.onmessage = (event: MessageEvent) => {
    if ((event.data as { type: string }).type === 'hanging') list.push(event.data as Hanging);
  };
  return { list, close: () => channel.close() };
}

/** Rejects when `promise` has not settled within `ms`: on the old code these calls never return. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const SHARD0 = 'shardId-000000000000';

test.serial('a batch that never settles is abandoned after batchers.timeoutMs, counted as a failed attempt and retried; the shard keeps going', async (t) => {
  const stream = uniqueName('timeout');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 2);
  const put = await putRecords(aws.kinesis, stream, jsonRecords(600));
  const deliveries = new Deliveries();
  const hanging = watchHanging(deliveries.channelName);
  const consumer = fixture('hanging-consumer.mjs', { channel: deliveries.channelName, hangMarker: join(tmpdir(), uniqueName('hang')) });
  const options = { processors: { concurrency: 2 }, batchers: { batchSize: 100, timeoutMs: 5_000, backoff: { baseMs: 5, maxMs: 20 } } };
  const { system } = await startSystem({ aws, stream, app, consumer, options }, t);
  const failed: SystemEvents['batch:failed'][] = [];
  let crashed = 0;
  system.events.on('batch:failed', (e) => failed.push(e));
  system.events.on('actor:crashed', () => crashed++);
  try {
    await deliveries.waitFor(() => new Set([...deliveries.byShard().values()].flat()).size >= 600, 60_000, 'every record, the hung batch included');
    await checkpointedAtLast(aws, app, put);
  } finally {
    await system.stop();
    deliveries.close();
    hanging.close();
  }
  t.is(hanging.list.length, 1, 'one batch hung');
  const hung = hanging.list[0]!;
  const timedOut = failed.filter((f) => (f.error as { code?: string }).code === 'BATCH_TIMEOUT');
  const hungTimeout = timedOut.find((f) => f.shardId === hung.shardId && f.attempt === hung.attempt);
  t.truthy(hungTimeout, 'batch:failed carries BATCH_TIMEOUT for the hung batch');
  t.false(hungTimeout?.poolDied);
  t.true(
    deliveries.batches.some((b) => b.shardId === hung.shardId && b.sequenceNumbers[0] === hung.first && b.attempt > hung.attempt),
    'the hung batch succeeded on a later attempt, on a replaced pool thread',
  );
  const all = [...deliveries.byShard().values()].flat();
  t.deepEqual(sortedSeqs(new Set(all)), sortedSeqs(put.map((p) => p.sequenceNumber)), 'nothing lost');
  // (a batch that was only slow, on a machine loaded enough to pass the timeout, may have reported just before it was abandoned)
  if (timedOut.length === 1) t.is(all.length, 600, 'nothing handled twice: the abandoned attempt never reported success');
  for (const [shardId, seqs] of deliveries.byShard()) t.true(isAscending(seqs), `${shardId} in order`);
  t.is(crashed, 0, 'a timed-out attempt is a failed attempt, not a crash');
});

/**
 * Shard 0 hangs in the consumer (as `query` says) while shard 1 drains; then stop({ timeoutMs: 2000 })
 * must end by its deadline plus a grace, list the hung batch as abandoned, release every lease and
 * leave shard 0's checkpoint before the abandoned batch.
 */
async function stopWhileHanging(t: ExecutionContext, query: Record<string, string | number>, batchers: object, checkArgument = false) {
  const stream = uniqueName('stophang');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 2);
  const put = await putRecords(aws.kinesis, stream, jsonRecords(400));
  const deliveries = new Deliveries();
  const hanging = watchHanging(deliveries.channelName);
  const consumer = fixture('hanging-consumer.mjs', { channel: deliveries.channelName, ...query });
  const { system } = await startSystem({ aws, stream, app, consumer, options: { processors: { concurrency: 2 }, batchers: { batchSize: 100, ...batchers } } }, t);
  let crashed = 0;
  system.events.on('actor:crashed', () => crashed++);
  const others = put.filter((p) => p.shardId !== SHARD0);
  try {
    await deliveries.waitFor(() => hanging.list.length > 0 && deliveries.count >= others.length, 60_000, 'the other shard drained and shard 0 hanging');
    if (checkArgument) {
      const invalid = await within(t.throwsAsync(system.stop({ timeoutMs: -1 })), 10_000, 'stop({ timeoutMs: -1 })');
      t.is((invalid as { code?: string } | undefined)?.code, 'INVALID_ARGUMENT');
    }
    const started = Date.now();
    const stopping = system.stop({ timeoutMs: 2_000 });
    t.is(system.stop(), stopping, 'a second call returns the same promise');
    const result = await within(stopping, 30_000, 'stop({ timeoutMs: 2000 })');
    const took = Date.now() - started;
    t.true(took >= 1_900, `stop waited for the deadline (${took} ms)`);
    t.true(took < 2_000 + 15_000, `stop ended by its deadline plus a grace (${took} ms)`);
    const hung = hanging.list[0]!;
    t.deepEqual(result.abandoned, [{ shardId: SHARD0, firstSequenceNumber: hung.first, lastSequenceNumber: hung.last }]);
    const leases = await aws.leaseTable(app).scan();
    t.true(leases.every((l) => l.leaseOwner === undefined), 'every lease released');
    const shard0 = leases.find((l) => l.leaseKey === SHARD0)!;
    t.true(!/^\d+$/.test(shard0.checkpoint) || BigInt(shard0.checkpoint) < BigInt(hung.first), `checkpoint ${shard0.checkpoint} is before the abandoned batch`);
    const other = leases.find((l) => l.leaseKey !== SHARD0)!;
    t.is(other.checkpoint, others[others.length - 1]!.sequenceNumber, 'the shard that was not hanging checkpointed its last record');
    t.is(crashed, 0, 'abandoning a batch at stop crashes nothing');
  } finally {
    await within(system.stop(), 30_000, 'stop()').catch(() => undefined);
    deliveries.close();
    hanging.close();
  }
}

test.serial('stop({ timeoutMs }) with a handleBatch that never settles: resolves after the deadline with it abandoned, every lease released, no checkpoint past it', async (t) => {
  await stopWhileHanging(t, { hangShard: SHARD0 }, {}, true);
});

test.serial('stop({ timeoutMs }) with a handleFailed that never settles: the same', async (t) => {
  await stopWhileHanging(t, { alwaysFail: 1, withFailed: 1, hangFailedShard: SHARD0 }, { maxAttempts: 1 });
});

test.serial('after stop({ timeoutMs }) with a hung batch, the process exits by itself', async (t) => {
  const stream = uniqueName('exit');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 1);
  await putRecords(aws.kinesis, stream, jsonRecords(50));
  const script = fileURLToPath(new URL('./fixtures/stop-hung-process.mjs', import.meta.url));
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, KC_STOP_SPEC: JSON.stringify({ streamName: stream, appName: app, clientOptions: aws.clientOptions, hangShard: SHARD0, stopTimeoutMs: 1_000 }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const code = await within(exited, 120_000, 'the child process exit');
    t.is(code, 0);
    const { hung, result } = JSON.parse(out.trim()) as { hung: Hanging; result: { abandoned: unknown[] } };
    t.deepEqual(result.abandoned, [{ shardId: SHARD0, firstSequenceNumber: hung.first, lastSequenceNumber: hung.last }]);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
