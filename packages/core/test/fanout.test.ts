import test, { type ExecutionContext } from 'ava';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { aggregate, type SystemOptions } from '@kinesis-client/core';
import { SHARD_END } from '@kinesis-client/worker/lease';
import { createStream, putRecords, splitShard, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { FANOUT_QUICK as quick, streamConsumers } from './helpers/fanout.js';
import { isAscending, jsonRecords, sortedSeqs, eventually, startRecordingSystem, writeCheckpoint } from './helpers/recording.js';

// kinesis-mock (enhanced fan-out) for Kinesis, dynalite for DynamoDB; kinesis-mock is about 20x
// slower than kinesalite, so these tests use few records
const aws = withLocalAws(test, { kinesis: 'kinesis-mock' });

function start(t: ExecutionContext, stream: string, app: string, consumerName: string, options: Partial<SystemOptions> = {}, query: Record<string, string | number> = {}) {
  const { retrieval, ...rest } = options;
  const fanout = { mode: 'fanout', consumerName, ...aws.fanout, ...(retrieval as object) } as const;
  return startRecordingSystem(t, aws, { stream, app }, { ...quick, ...rest, retrieval: fanout }, query);
}

const consumers = (stream: string) => streamConsumers(aws, stream);

const byShard = (put: { shardId: string; sequenceNumber: string }[]) => {
  const out = new Map<string, string[]>();
  for (const r of put) out.set(r.shardId, [...(out.get(r.shardId) ?? []), r.sequenceNumber]);
  for (const [k, v] of out) out.set(k, sortedSeqs(v));
  return out;
};

test.serial('registers the stream consumer once, ACTIVE, and every later createSystem reuses it', async (t) => {
  const stream = uniqueName('fanout-reg');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 1);
  t.deepEqual(await consumers(stream), [], 'no consumer before the first createSystem');

  // two workers of one application starting together: one registers, the other finds it
  const [a, b] = await Promise.all([start(t, stream, app, 'billing'), start(t, stream, app, 'billing')]);
  const firstArn = a.system.consumerArn;
  try {
    t.truthy(firstArn);
    t.is(b.system.consumerArn, firstArn, 'the concurrent worker got the same consumer');
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
  const again = await start(t, stream, app, 'billing');
  await again.stop();
  t.is(again.system.consumerArn, firstArn, 'a later createSystem reuses the consumer');

  const listed = await consumers(stream);
  t.is(listed.length, 1, 'exactly one consumer on the stream');
  t.is(listed[0]!.ConsumerName, 'billing');
  t.is(listed[0]!.ConsumerStatus, 'ACTIVE');
  t.is(listed[0]!.ConsumerARN, firstArn);
});

test.serial('delivers every record in shard order through SubscribeToShard, never polling', async (t) => {
  const stream = uniqueName('fanout-order');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 2);
  const put = await putRecords(aws.kinesis, stream, jsonRecords(60, { keys: 16 }));
  const expected = byShard(put);
  t.is(expected.size, 2, 'the records span both shards');

  const run = await start(t, stream, app, 'ordered');
  // any GetRecords from this system would fail and be counted: fan-out must not make one
  const polls = await run.system.faults.failCalls({ command: 'GetRecords', error: 'InternalFailureException', times: 1_000 });
  try {
    await run.deliveries.waitFor(() => run.deliveries.count >= 60);
    const status = await run.system.status();
    t.is(status.length, 2);
    for (const s of status) t.true((s.subscriptions ?? 0) >= 1, `${s.shardId} was read through a subscription`);
  } finally {
    await run.stop();
  }
  t.is(polls.remaining, 1_000, 'no GetRecords call was made');
  const delivered = run.deliveries.byShard();
  for (const [shardId, seqs] of expected) {
    t.true(isAscending(delivered.get(shardId) ?? []), `${shardId} in sequence order`);
    t.deepEqual(delivered.get(shardId), seqs, `${shardId}: exactly what was put, once`);
  }
  t.deepEqual(run.errors, []);
  const leases = await aws.leaseTable(app).scan();
  for (const lease of leases) t.is(lease.checkpoint, expected.get(lease.leaseKey)!.at(-1), `${lease.leaseKey} checkpointed at its last record`);
});

test.serial('resubscriptions in the middle (renewals, and failed SubscribeToShard calls) lose and repeat nothing', async (t) => {
  const stream = uniqueName('fanout-resub');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 1);
  // a subscription renewed every 5 s (the least Kinesis allows between two) instead of the service's 5 minutes
  const run = await start(t, stream, app, 'renewing', { retrieval: { mode: 'fanout', consumerName: 'renewing', subscriptionMs: 5_000 } });
  const put: { shardId: string; sequenceNumber: string }[] = [];
  try {
    put.push(...(await putRecords(aws.kinesis, stream, jsonRecords(10, { tag: 'before' }))));
    await run.deliveries.waitFor(() => run.deliveries.count >= 10);
    const fault = await run.system.faults.failCalls({ command: 'SubscribeToShard', error: 'InternalFailureException', times: 2 });
    // keep producing across several renewals and the two failed ones
    for (let round = 0; round < 5; round++) {
      put.push(...(await putRecords(aws.kinesis, stream, jsonRecords(6, { offset: 10 + round * 6, tag: 'during' }))));
      await new Promise((r) => setTimeout(r, 1_000));
    }
    await run.deliveries.waitFor(() => run.deliveries.count >= 40);
    t.is(fault.remaining, 0, 'both injected SubscribeToShard failures were met by resubscriptions');
    const [status] = await run.system.status();
    t.true((status?.subscriptions ?? 0) >= 4, `subscribed again and again (${status?.subscriptions} subscriptions)`);
  } finally {
    await run.stop();
  }
  const delivered = run.deliveries.byShard().get(put[0]!.shardId) ?? [];
  t.true(isAscending(delivered), 'in sequence order, so no record came twice');
  t.deepEqual(delivered, sortedSeqs(put.map((p) => p.sequenceNumber)), 'every record, once');
  t.true(
    run.errors.some((e) => e.name === 'InternalFailureException'),
    'the injected failures were reported as error events',
  );
});

/**
 * A slow consumer behind a one-shard subscription: four rounds of `perRound` records (payload
 * `data` when given); the subscription must be dropped at the bound and resumed losing nothing.
 */
async function pausedAndResumed(t: ExecutionContext, name: string, retrieval: Record<string, number>, perRound: number, data?: Uint8Array) {
  const stream = uniqueName(`fanout-${name}`);
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 1);
  const run = await start(t, stream, app, name, { batchers: { batchSize: 2 }, retrieval: { mode: 'fanout', consumerName: name, ...retrieval } }, { delayMs: 150 });
  const put: { shardId: string; sequenceNumber: string }[] = [];
  try {
    for (let round = 0; round < 4; round++) {
      const records = jsonRecords(perRound, { offset: round * perRound }).map((r) => (data ? { ...r, Data: data } : r));
      put.push(...(await putRecords(aws.kinesis, stream, records)));
      await new Promise((r) => setTimeout(r, 700));
    }
    await run.deliveries.waitFor(() => run.deliveries.count >= 4 * perRound);
    const [status] = await run.system.status();
    // no renewal is due (5 minutes) and nothing failed, so every further subscription is a resume
    t.deepEqual(run.errors, []);
    t.true((status?.subscriptions ?? 0) >= 2, `the subscription was dropped and taken up again (${status?.subscriptions} subscriptions)`);
  } finally {
    await run.stop();
  }
  const delivered = run.deliveries.byShard().get(put[0]!.shardId) ?? [];
  t.true(isAscending(delivered), 'in sequence order, no repeats');
  t.deepEqual(delivered, sortedSeqs(put.map((p) => p.sequenceNumber)), 'every record, once');
}

test.serial('a slow consumer drops the subscription at maxBufferedRecords and resumes after the last buffered record', (t) =>
  pausedAndResumed(t, 'slow', { maxBufferedRecords: 4 }, 8));

// the record bound (10 000 by default) is never reached: only the byte bound can drop the subscription
test.serial('large records: the subscription is dropped at maxBufferedBytes too, and resumed after the last buffered record', (t) =>
  pausedAndResumed(t, 'bytes', { maxBufferedBytes: 3 * 20 * 1024 }, 6, new TextEncoder().encode('x'.repeat(20 * 1024))));

test.serial('a split: the parent is read to its end, checkpointed at SHARD_END, and only then are its children read', async (t) => {
  const stream = uniqueName('fanout-split');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 1);
  // kinesis-mock never ends a closed shard's subscription, so its end is found at a renewal: renew often
  const run = await start(t, stream, app, 'splitting', {
    lease: { failoverMs: 6_000, takeIntervalMs: 500 },
    retrieval: { mode: 'fanout', consumerName: 'splitting', subscriptionMs: 5_000 },
  });
  const checkpoints: [string, string][] = [];
  run.system.events.on('checkpoint', (e) => checkpoints.push([e.shardId, e.sequenceNumber]));
  const put: { shardId: string; sequenceNumber: string }[] = [];
  let children: string[] = [];
  try {
    put.push(...(await putRecords(aws.kinesis, stream, jsonRecords(12, { tag: 'parent' }))));
    await run.deliveries.waitFor(() => run.deliveries.count >= 12);
    children = (await splitShard(aws.kinesis, stream, 'shardId-000000000000')).map((s) => s.ShardId!);
    put.push(...(await putRecords(aws.kinesis, stream, jsonRecords(12, { offset: 12, tag: 'child' }))));
    await run.deliveries.waitFor(() => run.deliveries.count >= 24, 90_000);
  } finally {
    await run.stop();
  }
  const expected = byShard(put);
  const delivered = run.deliveries.byShard();
  t.deepEqual([...delivered.keys()].sort(), [...expected.keys()].sort(), 'the parent and both children were read');
  for (const [shardId, seqs] of expected) t.deepEqual(delivered.get(shardId), seqs, `${shardId}: every record once, in order`);
  // parent-before-child: no child batch before the parent's last one
  const order = run.deliveries.batches.map((b) => b.shardId);
  const lastParent = order.lastIndexOf('shardId-000000000000');
  for (const child of children) t.true(order.indexOf(child) > lastParent, `${child} after the parent's last batch`);
  const parentCheckpoints = checkpoints.filter(([s]) => s === 'shardId-000000000000').map(([, seq]) => seq);
  t.deepEqual(parentCheckpoints.slice(-2), [expected.get('shardId-000000000000')!.at(-1), SHARD_END], 'the parent: its last record, then SHARD_END');
  const lease = (await aws.leaseTable(app).scan()).find((l) => l.leaseKey === 'shardId-000000000000');
  t.is(lease?.checkpoint, SHARD_END);
  t.deepEqual([...(lease?.childShardIds ?? [])].sort(), [...children].sort(), 'the parent lease names its children');
});

test.serial('KPL aggregates through fan-out: user records with sub-sequence numbers, and a checkpoint inside an aggregate resumes at the next one', async (t) => {
  const stream = uniqueName('fanout-kpl');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 1);
  const enc = new TextEncoder();
  const users = (a: number) => Array.from({ length: 8 }, (_, i) => ({ partitionKey: `pk-${a}-${i}`, data: enc.encode(`a${a}-u${i}`) }));
  const put = await putRecords(aws.kinesis, stream, [aggregate(users(0)), { PartitionKey: 'plain', Data: enc.encode('plain') }, aggregate(users(1))]);
  const first = await start(t, stream, app, 'kpl');
  try {
    await first.deliveries.waitFor(() => first.deliveries.bodies().length >= 17);
    t.deepEqual(first.deliveries.bodies(), [...users(0).map((_, i) => `a0-u${i}`), 'plain', ...users(1).map((_, i) => `a1-u${i}`)]);
    t.deepEqual(first.deliveries.batches.flatMap((b) => b.subSequenceNumbers), [0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 1, 2, 3, 4, 5, 6, 7]);
    const leases = aws.leaseTable(app);
    await eventually(async () => ((await leases.scan())[0]?.checkpointSubSequenceNumber === 7 ? true : undefined), 20_000, 'checkpoint at the last aggregate\'s last user record');
  } finally {
    await first.stop();
  }
  // as a worker that stopped after user record 3 of the first aggregate would have left it
  await writeCheckpoint(aws, app, 'shardId-000000000000', put[0]!.sequenceNumber, 3);
  const second = await start(t, stream, app, 'kpl');
  try {
    await second.deliveries.waitFor(() => second.deliveries.bodies().length >= 13);
    t.deepEqual(second.deliveries.bodies(), [...[4, 5, 6, 7].map((i) => `a0-u${i}`), 'plain', ...users(1).map((_, i) => `a1-u${i}`)], 'from user record 4 on, nothing before it');
  } finally {
    await second.stop();
  }
});

/**
 * A TCP relay in front of kinesis-mock's TLS port (TLS stays end to end). `silence()` stops
 * passing the server's bytes to the client on the connections open now, as a dead network path
 * would, while the client's bytes (its RST_STREAM, so the server drops the subscription) still
 * go through; new connections are unaffected.
 */
async function relay(target: string) {
  const { hostname, port } = new URL(target);
  const open = new Set<{ client: Socket; server: Socket; silent: boolean }>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    const pair = { client, server: upstream, silent: false };
    open.add(pair);
    client.pipe(upstream);
    upstream.on('data', (chunk) => {
      if (!pair.silent) client.write(chunk);
    });
    const close = () => {
      open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    silence: () => {
      for (const pair of open) pair.silent = true;
      return open.size;
    },
    close: () => {
      for (const pair of open) pair.client.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test.serial('a subscription that goes silent is dropped by the watchdog and renewed, losing nothing', async (t) => {
  const stream = uniqueName('fanout-silent');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 1);
  const proxy = await relay(aws.fanout!.endpoint);
  const run = await start(t, stream, app, 'watched', { retrieval: { mode: 'fanout', consumerName: 'watched', endpoint: proxy.endpoint, watchdogMs: 4_000 } });
  const put: { shardId: string; sequenceNumber: string }[] = [];
  try {
    put.push(...(await putRecords(aws.kinesis, stream, jsonRecords(8, { tag: 'before' }))));
    await run.deliveries.waitFor(() => run.deliveries.count >= 8);
    t.true(proxy.silence() >= 1, 'the subscription\'s connection went silent');
    put.push(...(await putRecords(aws.kinesis, stream, jsonRecords(8, { offset: 8, tag: 'after' }))));
    await run.deliveries.waitFor(() => run.deliveries.count >= 16, 60_000);
    const [status] = await run.system.status();
    t.true((status?.subscriptions ?? 0) >= 2, `subscribed again (${status?.subscriptions} subscriptions)`);
  } finally {
    await run.stop();
    await proxy.close();
  }
  t.true(run.errors.some((e) => /no SubscribeToShard event for \d+ ms/.test(e.message)), `the watchdog said so (${run.errors.map((e) => `${e.name}: ${e.message}`).join('; ')})`);
  t.deepEqual(run.deliveries.byShard().get(put[0]!.shardId), sortedSeqs(put.map((p) => p.sequenceNumber)), 'every record, once, in order');
});
