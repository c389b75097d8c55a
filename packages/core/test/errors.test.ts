import { readdirSync } from 'node:fs';
import test from 'ava';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ErrorCodes, KinesisClientError, createSystem, type SystemOptions } from '@kinesis-client/core';
import { createStream, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { fixture } from './helpers/recording.js';

const aws = withLocalAws(test);

const valid = (): SystemOptions => ({
  streamName: 'never-contacted',
  appName: 'errors-app',
  consumer: fixture('recording-consumer.mjs'),
  // nothing listens here: an option error must reject before any call is made
  kinesis: { endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 },
  dynamodb: { endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 },
  region: 'us-east-1',
});

const badOptions: [string, (o: Record<string, unknown>) => void, string][] = [
  ['streamName missing', (o) => delete o.streamName, 'streamName'],
  ['streamName empty', (o) => (o.streamName = ''), 'streamName'],
  ['appName missing', (o) => delete o.appName, 'appName'],
  ['appName empty', (o) => (o.appName = ''), 'appName'],
  ['appName not usable as a table name', (o) => (o.appName = 'my app'), 'appName'],
  ['tableName too short', (o) => (o.tableName = 'ab'), 'tableName'],
  ['consumer missing', (o) => delete o.consumer, 'consumer'],
  ['consumer empty', (o) => (o.consumer = ''), 'consumer'],
  ['failoverMs negative', (o) => (o.lease = { failoverMs: -5 }), 'lease.failoverMs'],
  ['failoverMs not a number', (o) => (o.lease = { failoverMs: '10s' }), 'lease.failoverMs'],
  ['failoverMs NaN', (o) => (o.lease = { failoverMs: Number.NaN }), 'lease.failoverMs'],
  ['safety margin leaving no time for a renewal', (o) => (o.lease = { failoverMs: 3_000, renewIntervalMs: 1_000, safetyMarginMs: 2_000 }), 'lease.safetyMarginMs'],
  ['renewals too rare for the default safety margin', (o) => (o.lease = { failoverMs: 3_000, renewIntervalMs: 2_500 }), 'lease.renewIntervalMs'],
  ['maxBufferedBytes zero', (o) => (o.retrieval = { maxBufferedBytes: 0 }), 'retrieval.maxBufferedBytes'],
  ['idleMs negative', (o) => (o.retrieval = { idleMs: -1 }), 'retrieval.idleMs'],
  ['batchSize zero', (o) => (o.batchers = { batchSize: 0 }), 'batchers.batchSize'],
  ['batchSize over the GetRecords limit', (o) => (o.batchers = { batchSize: 20_000 }), 'batchers.batchSize'],
  ['batch timeout negative', (o) => (o.batchers = { timeoutMs: -1 }), 'batchers.timeoutMs'],
  ['batch timeout past a timer', (o) => (o.batchers = { timeoutMs: 2 ** 31 }), 'batchers.timeoutMs'],
  ['concurrency fractional', (o) => (o.processors = { concurrency: 1.5 }), 'processors.concurrency'],
  ['unknown initialPosition', (o) => (o.initialPosition = 'EARLIEST'), 'initialPosition'],
  ['timestamp not a Date', (o) => (o.initialPosition = { timestamp: 'yesterday' }), 'initialPosition'],
  ['unknown option', (o) => (o.streamname = 'typo'), 'streamname'],
  ['unknown nested option', (o) => (o.lease = { failover: 5 }), 'lease.failover'],
  ['function in client config', (o) => (o.kinesis = { credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }) }), 'kinesis'],
  ['fan-out without consumerName', (o) => (o.retrieval = { mode: 'fanout' }), 'retrieval.consumerName'],
  ['unknown retrieval mode', (o) => (o.retrieval = { mode: 'push' }), 'retrieval.mode'],
  ['fan-out consumerName with a space', (o) => (o.retrieval = { mode: 'fanout', consumerName: 'my consumer' }), 'retrieval.consumerName'],
  // polling options belong to the polling mode: none can sit unread beside fan-out
  ['polling options beside fan-out', (o) => (o.retrieval = { mode: 'fanout', consumerName: 'c', idleMs: 200 }), 'retrieval.idleMs'],
  ['the old top-level polling option', (o) => (o.polling = { idleMs: 200 }), 'polling'],
  ['fan-out renewal faster than Kinesis allows', (o) => (o.retrieval = { mode: 'fanout', consumerName: 'c', subscriptionMs: 1_000 }), 'retrieval.subscriptionMs'],
  ['http without a port', (o) => (o.http = { host: '127.0.0.1' }), 'http.port'],
  ['http port out of range', (o) => (o.http = { port: 70_000 }), 'http.port'],
  ['http host empty', (o) => (o.http = { port: 0, host: '' }), 'http.host'],
  ['health.stallMs zero', (o) => (o.health = { stallMs: 0 }), 'health.stallMs'],
  // contradictory options: each valid alone
  ['renewIntervalMs not below failoverMs', (o) => (o.lease = { failoverMs: 3_000, renewIntervalMs: 3_000 }), 'lease.renewIntervalMs'],
  ['failoverMs too short for any renewal', (o) => (o.lease = { failoverMs: 1 }), 'lease.failoverMs'],
  ['handoffTimeoutMs not above renewIntervalMs', (o) => (o.lease = { failoverMs: 3_000, handoffTimeoutMs: 500 }), 'lease.handoffTimeoutMs'],
  ['backoff base above its maximum', (o) => (o.retrieval = { throttleBackoff: { baseMs: 20_000, maxMs: 10_000 } }), 'retrieval.throttleBackoff.baseMs'],
];

for (const [title, mutate, option] of badOptions) {
  test(`bad option: ${title} -> INVALID_OPTION naming ${option}`, async (t) => {
    const options = valid() as unknown as Record<string, unknown>;
    mutate(options);
    const error = await t.throwsAsync(createSystem(options as unknown as SystemOptions), { instanceOf: KinesisClientError });
    t.is(error!.code, 'INVALID_OPTION');
    t.true(error!.message.includes(`"${option}"`), `message names the option: ${error!.message}`);
    t.is((error!.details as { option: string }).option, option);
  });
}

test('createSystem without options -> INVALID_OPTION', async (t) => {
  const error = await t.throwsAsync(createSystem(undefined as unknown as SystemOptions), { instanceOf: KinesisClientError });
  t.is(error!.code, 'INVALID_OPTION');
});

const live = (overrides: Partial<SystemOptions>): SystemOptions => ({
  streamName: 'x',
  appName: uniqueName('app'),
  consumer: fixture('recording-consumer.mjs'),
  ...aws.clientOptions,
  processors: { concurrency: 1 },
  shardHosts: { threads: 1 },
  ...overrides,
});

async function tableNames(): Promise<string[]> {
  return (await aws.dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
}

test.serial('a stream that does not exist -> STREAM_NOT_FOUND at start, no lease table made', async (t) => {
  const options = live({ streamName: uniqueName('missing') });
  const error = await t.throwsAsync(createSystem(options), { instanceOf: KinesisClientError });
  t.is(error!.code, 'STREAM_NOT_FOUND');
  t.true(error!.message.includes(options.streamName));
  t.false((await tableNames()).includes(options.appName));
});

test.serial('a failed start leaves no thread running: the shard-host threads it started during its checks end with it', async (t) => {
  const threads = () => readdirSync('/proc/self/task').length;
  const fail = () => t.throwsAsync(createSystem(live({ streamName: uniqueName('missing') })), { instanceOf: KinesisClientError });
  // once first: whatever the process starts lazily on a first call (libuv's pool, say) is running from then on
  await fail();
  const before = threads();
  const error = await fail();
  t.is(error!.code, 'STREAM_NOT_FOUND');
  t.is(threads(), before);
});

test.serial('fan-out where Kinesis has no stream consumers (kinesalite) -> STREAM_CONSUMER_FAILED at start, no lease table made', async (t) => {
  const stream = uniqueName('no-efo');
  await createStream(aws.kinesis, stream, 1);
  const options = live({ streamName: stream, retrieval: { mode: 'fanout', consumerName: 'efo' } });
  const error = await t.throwsAsync(createSystem(options), { instanceOf: KinesisClientError });
  t.is(error!.code, 'STREAM_CONSUMER_FAILED');
  t.is(error!.details.consumerName, 'efo');
  t.false((await tableNames()).includes(options.appName));
});

test.serial('start-up failures of the consumer module have their own codes', async (t) => {
  const stream = uniqueName('consumer');
  await createStream(aws.kinesis, stream, 1);
  const cases: [string | URL, keyof typeof ErrorCodes][] = [
    [fixture('does-not-exist.mjs'), 'CONSUMER_LOAD_FAILED'],
    ['./no/such/consumer.js', 'CONSUMER_LOAD_FAILED'],
    [fixture('syntax-error.mjs'), 'CONSUMER_LOAD_FAILED'],
    [fixture('no-handle-batch.mjs'), 'CONSUMER_INVALID'],
  ];
  for (const [consumer, code] of cases) {
    const options = live({ streamName: stream, consumer });
    const error = await t.throwsAsync(createSystem(options), { instanceOf: KinesisClientError }, String(consumer));
    t.is(error!.code, code, String(consumer));
    t.false((await tableNames()).includes(options.appName), 'nothing started');
  }
});
