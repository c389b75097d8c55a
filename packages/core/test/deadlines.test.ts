import test, { type ExecutionContext } from 'ava';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { KinesisClientError, createSystem, startLoopbackProxy, type SystemOptions } from '@kinesis-client/core';
import { createDynamoDBClient } from '@kinesis-client/worker/internal';
import { putRecords, withLocalAws } from '@kinesis-client/examples/testing';
import { eventually, fixture, isAscending, jsonRecords, sortedSeqs, startRecordingSystem, type SystemRun } from './helpers/recording.js';
import { withStores, type StoreKind } from './helpers/stores.js';

/**
 * Deadlines on AWS calls, and the fault hooks that express hung and slow calls: failCalls modes
 * 'hang' and 'slow', and the loopback proxy's half-open connection.
 */
const aws = withLocalAws(test);
const stores = withStores(test, aws, ['postgres', 'redis']);

const fast = {
  batchers: { batchSize: 100, backoff: { baseMs: 5, maxMs: 20 } },
  supervision: { shard: { maxRestarts: 100, backoff: { baseMs: 5, maxMs: 20 } } },
  retrieval: { idleMs: 100 },
} satisfies Partial<SystemOptions>;

const start = (t: ExecutionContext, shards: number, options: Partial<SystemOptions> = {}) => startRecordingSystem(t, aws, shards, { ...fast, ...options });

/** A renewal's CALL_TIMEOUT names the command: UpdateItem on DynamoDB, the store operation on PostgreSQL and Redis. */
const renewal = (kind: StoreKind) => (kind === 'dynamodb' ? 'UpdateItem' : 'renew');

const timeouts = (run: SystemRun, command: string) =>
  run.errors.filter((e) => e instanceof KinesisClientError && e.code === 'CALL_TIMEOUT' && e.details.command === command);

/** Every put record handled, first deliveries of each shard in sequence order. */
function checkComplete(t: { true: Function; deepEqual: Function }, run: SystemRun, put: { sequenceNumber: string }[]) {
  const byShard = run.deliveries.byShard();
  for (const [shardId, seqs] of byShard) t.true(isAscending(seqs.filter((s, i) => seqs.indexOf(s) === i)), `${shardId}: first deliveries in order`);
  t.deepEqual(sortedSeqs(new Set([...byShard.values()].flat())), sortedSeqs(put.map((p) => p.sequenceNumber)), 'every record handled');
}

test.serial('a GetRecords that hangs is cut at its deadline with CALL_TIMEOUT and read again: the shard delivers everything', async (t) => {
  const run = await start(t, 2, { callTimeouts: { kinesisMs: 1_000 } });
  const lost: string[] = [];
  run.system.events.on('lease:lost', (e) => lost.push(e.shardId));
  try {
    const rule = await run.system.faults.failCalls({ command: 'GetRecords', mode: 'hang', times: 4 });
    t.like(rule, { command: 'GetRecords', mode: 'hang' });
    const put = await putRecords(aws.kinesis, run.stream, jsonRecords(600));
    await run.deliveries.waitFor(() => new Set([...run.deliveries.byShard().values()].flat()).size >= 600, 60_000, 'every record despite hung reads');
    t.is(rule.remaining, 0, 'every hang was injected');
    const cut = timeouts(run, 'GetRecords');
    t.true(cut.length >= 4, `each hung read ended in CALL_TIMEOUT (${cut.length})`);
    t.is(cut[0]!.name, 'KinesisClientError', 'events carry the library error');
    t.like(cut[0], { details: { command: 'GetRecords', timeoutMs: 1_000 } });
    t.deepEqual(lost, [], 'a hung read costs no lease');
    checkComplete(t, run, put);
  } finally {
    await run.stop();
  }
});

test.serial("slow calls ('slow') on UpdateItem and GetRecords: answered late, or cut when later than the deadline; everything delivered", async (t) => {
  const run = await start(t, 2, { callTimeouts: { kinesisMs: 3_000 }, lease: { checkpointIntervalMs: 0 } });
  const lost: string[] = [];
  run.system.events.on('lease:lost', (e) => lost.push(e.shardId));
  try {
    const writes = await run.system.faults.failCalls({ command: 'UpdateItem', mode: 'slow', delayMs: 300, times: 8 });
    const reads = await run.system.faults.failCalls({ command: 'GetRecords', mode: 'slow', delayMs: 200, times: 6 });
    // the checkpoints' answers come late but within the deadline
    t.like(writes, { command: 'UpdateItem', mode: 'slow', delayMs: 300 });
    const first = await putRecords(aws.kinesis, run.stream, jsonRecords(400));
    await run.deliveries.waitFor(() => new Set([...run.deliveries.byShard().values()].flat()).size >= 400);
    await eventually(async () => (writes.remaining === 0 && reads.remaining === 0 ? true : undefined), 20_000, 'every slow call made');
    t.deepEqual(timeouts(run, 'GetRecords'), [], 'a read slower than usual but within its deadline is simply answered');

    // slower than the deadline: cut like a hang, and read again
    const late = await run.system.faults.failCalls({ command: 'GetRecords', mode: 'slow', delayMs: 10_000, times: 2 });
    const second = await putRecords(aws.kinesis, run.stream, jsonRecords(400, { offset: 400 }));
    await run.deliveries.waitFor(() => new Set([...run.deliveries.byShard().values()].flat()).size >= 800);
    t.is(late.remaining, 0);
    t.true(timeouts(run, 'GetRecords').length >= 2, 'a slow answer past the deadline is CALL_TIMEOUT');
    t.deepEqual(lost, [], 'slow writes cost no lease');
    checkComplete(t, run, [...first, ...second]);
  } finally {
    await run.stop();
  }
});

const hungRenewal = test.macro(async (t, kind: StoreKind) => {
  // renewals every 2 s, and dynamodbMs defaults to one interval: the hung renewal is cut at 4 s, retried at once
  const run = await start(t, 1, { lease: { failoverMs: 6_000 }, ...stores.options(kind, '') });
  const lost: string[] = [];
  run.system.events.on('lease:lost', (e) => lost.push(e.shardId));
  try {
    const table = await stores.leases(kind, run.app);
    const [before] = await table.scan();
    const rule = await run.system.faults.failCalls({ command: 'UpdateItem', mode: 'hang', times: 1 });
    await eventually(async () => (timeouts(run, renewal(kind)).length >= 1 ? true : undefined), 30_000, 'the renewal cut at its deadline');
    t.is(rule.remaining, 0);
    t.like(timeouts(run, renewal(kind))[0], { details: { command: renewal(kind), timeoutMs: 2_000 } });
    const after = await eventually(async () => {
      const [lease] = await table.scan();
      return lease!.leaseCounter >= before!.leaseCounter + 2 ? lease : undefined;
    }, 30_000, 'renewals after the hung one');
    t.is(after!.leaseOwner, run.system.workerId, 'still ours');
    t.deepEqual(lost, [], 'the lease was never lost');
    const put = await putRecords(aws.kinesis, run.stream, jsonRecords(100));
    await run.deliveries.waitFor(() => run.deliveries.count >= 100);
    checkComplete(t, run, put);
  } finally {
    await run.stop();
  }
});

const lateRenewal = test.macro(async (t, kind: StoreKind) => {
  // renewals every 2 s, cut at 2 s; the write lands at once and its answer comes 2.5 s late
  const run = await start(t, 1, { lease: { failoverMs: 6_000 }, ...stores.options(kind, '') });
  const lost: string[] = [];
  run.system.events.on('lease:lost', (e) => lost.push(e.shardId));
  try {
    const table = await stores.leases(kind, run.app);
    const [before] = await table.scan();
    const rule = await run.system.faults.failCalls({ command: 'UpdateItem', mode: 'slow', delayMs: 2_500, times: 1 });
    await eventually(async () => (timeouts(run, renewal(kind)).length >= 1 ? true : undefined), 30_000, 'the late renewal cut at its deadline');
    t.is(rule.remaining, 0);
    await eventually(async () => {
      const [lease] = await table.scan();
      return lease!.leaseCounter >= before!.leaseCounter + 4 ? lease : undefined;
    }, 30_000, 'renewals after the late one');
    t.deepEqual(lost, [], 'a write that landed unanswered does not cost the lease');
    const [after] = await table.scan();
    t.is(after!.leaseOwner, run.system.workerId);
    const put = await putRecords(aws.kinesis, run.stream, jsonRecords(100));
    await run.deliveries.waitFor(() => run.deliveries.count >= 100);
    checkComplete(t, run, put);
  } finally {
    await run.stop();
  }
});

for (const kind of ['dynamodb', 'postgres', 'redis'] as const) {
  const onStore = (title: string) => (kind === 'dynamodb' ? title : `${title} (${kind} store)`);
  test.serial(onStore('a hung lease renewal is cut at its deadline and renewals resume: the lease is kept'), hungRenewal, kind);
  test.serial(onStore('a renewal that lands but answers after its deadline: the retry finds the row one counter further, still ours, and keeps the lease'), lateRenewal, kind);
}

test.serial('the loopback proxy: blackhole() makes a call through it hit CALL_TIMEOUT without closing the connection; restore() lets later calls through', async (t) => {
  const proxy = await startLoopbackProxy({ target: aws.dynamodbEndpoint });
  const client = createDynamoDBClient({ ...aws.clientOptions.dynamodb, region: aws.clientOptions.region, endpoint: proxy.url }, { timeoutMs: 1_000 });
  // a client without a deadline would wait forever: bound the test itself
  const bounded = <T>(p: Promise<T>) =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the call was never cut')), 20_000))]);
  try {
    t.true(proxy.url.startsWith('http://127.0.0.1:'));
    t.true(Array.isArray((await client.send(new ListTablesCommand({}))).TableNames), 'calls pass through');
    t.true(proxy.connections >= 1, 'a kept-alive connection is open');
    proxy.blackhole();
    t.true(proxy.blackholed);
    const error = await t.throwsAsync(bounded(client.send(new ListTablesCommand({}))));
    t.is((error as KinesisClientError).code, 'CALL_TIMEOUT', error?.message);
    t.is(error!.name, 'TimeoutError', 'named like the SDK timeouts');
    t.like((error as KinesisClientError).details, { command: 'ListTables', timeoutMs: 1_000 });
    // a call made on a fresh connection while silent is held too
    await t.throwsAsync(bounded(client.send(new ListTablesCommand({}))), { message: /did not answer within 1000 ms/ });
    proxy.restore();
    t.false(proxy.blackholed);
    t.true(Array.isArray((await bounded(client.send(new ListTablesCommand({})))).TableNames), 'later calls pass again');
  } finally {
    client.destroy();
    await proxy.close();
  }
});

test.serial('failCalls arguments are checked (INVALID_ARGUMENT); callTimeouts.dynamodbMs must be below failoverMs (INVALID_OPTION)', async (t) => {
  const run = await start(t, 1);
  try {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ command: 'GetRecords', times: 1 }, /error must be an AWS error name/],
      [{ command: 'GetRecords', times: 1, mode: 'stall' }, /mode must be one of throw, hang, slow/],
      [{ command: 'GetRecords', times: 1, mode: 'slow' }, /delayMs must be a positive integer/],
      [{ command: 'GetRecords', times: 1, mode: 'slow', delayMs: 0 }, /delayMs must be a positive integer/],
      [{ command: 'GetRecords', times: 1, mode: 'hang', delayMs: 10 }, /delayMs is for mode 'slow' only/],
      [{ command: 'GetRecords', times: 1, mode: 'hang', error: 'X' }, /error is for mode 'throw' only/],
      [{ command: 'GetRecords', times: 0, mode: 'hang' }, /times must be a positive integer/],
    ];
    for (const [rule, message] of bad) {
      const error = await t.throwsAsync(run.system.faults.failCalls(rule as never), { message });
      t.is((error as KinesisClientError).code, 'INVALID_ARGUMENT');
    }
  } finally {
    await run.stop();
  }
  const error = await t.throwsAsync(
    createSystem({
      streamName: 'never-contacted',
      appName: 'deadline-options',
      consumer: fixture('recording-consumer.mjs'),
      lease: { failoverMs: 3_000 },
      callTimeouts: { dynamodbMs: 3_000 },
    }),
  );
  t.is((error as KinesisClientError).code, 'INVALID_OPTION');
  t.is((error as KinesisClientError).details.option, 'callTimeouts.dynamodbMs');
});
