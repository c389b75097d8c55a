import test from 'ava';
import { Worker } from 'node:worker_threads';
import { packRecords } from '../src/batch-codec.js';
import { KinesisClientError, serializeError } from '../src/errors.js';
import type { BatchTask, FailedTask } from '../src/protocol.js';

/** What a pool thread must never load: the AWS SDK (and the smithy core under it), or the shard-host side. */
const HEAVY = /[\\/]@(?:aws-sdk|smithy)[\\/]|[\\/]worker[\\/](?:dist|src)[\\/](?:internal|host-entry|aws-clients|shard-supervisor|actor[\\/]|lease[\\/](?:index|lease-)|reader[\\/])/;

interface ProbeReport {
  outcomes: unknown[];
  handled: string[];
  loaded: string[];
}

const bodies = ['one', 'two'];
const batch: BatchTask = {
  kind: 'batch',
  records: packRecords(
    bodies.map((body, i) => ({ Data: new TextEncoder().encode(body), PartitionKey: 'pk', SequenceNumber: String(100 + i), ApproximateArrivalTimestamp: new Date() })),
  ),
  info: { shardId: 'shardId-000000000000', streamName: 'light', firstSequenceNumber: '100', lastSequenceNumber: '101', attempt: 1, millisBehindLatest: 0 },
  deaggregation: { hashKeyRange: undefined, resumeAfter: undefined },
};
const failed: FailedTask = { ...batch, kind: 'failed', error: serializeError(new KinesisClientError('BATCH_FAILED', 'every attempt failed')) };

/** Starts a pool thread for the fixture consumer, runs describe, a batch and a failed batch, and reports what it loaded. */
function probe(consumer: string): Promise<ProbeReport> {
  const consumerUrl = new URL(`./fixtures/${consumer}`, import.meta.url).href;
  const worker = new Worker(new URL('./fixtures/pool-thread-probe.mjs', import.meta.url), {
    workerData: { consumerUrl, tasks: [{ kind: 'describe' }, batch, failed] },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (report: ProbeReport) => void worker.terminate().then(() => resolve(report)));
    worker.once('error', reject);
  });
}

test('a pool thread running a consumer on @kinesis-client/worker/consumer loads no AWS SDK and no shard-host code', async (t) => {
  const report = await probe('light-consumer.mjs');
  const done = { ok: true, lastSubSequenceNumber: 0 };
  t.deepEqual(report.outcomes, [{ ok: true, capabilities: { handleMessage: true, handleFailed: true } }, done, done]);
  t.deepEqual(report.handled, [...bodies, 'failed:BATCH_FAILED']);
  // the probe saw the thread's own modules: an empty list would prove nothing
  t.true(report.loaded.some((url) => url.includes('pool-entry')));
  t.true(report.loaded.some((url) => /[\\/]worker[\\/](?:dist|src)[\\/]consumer\./.test(url)));
  t.deepEqual(report.loaded.filter((url) => HEAVY.test(url)), []);
});

test('a consumer on the package index loads no AWS SDK and no shard-host code either', async (t) => {
  const report = await probe('index-consumer.mjs');
  t.deepEqual(report.handled, [...bodies, 'failed:BATCH_FAILED']);
  t.true(report.loaded.some((url) => /[\\/]worker[\\/](?:dist|src)[\\/]index\./.test(url)), 'the index was loaded');
  t.deepEqual(report.loaded.filter((url) => HEAVY.test(url)), []);
});

test('the probe catches the SDK when a consumer imports the internals', async (t) => {
  const report = await probe('internal-consumer.mjs');
  t.deepEqual(report.handled, [...bodies, 'failed:BATCH_FAILED']);
  const heavy = report.loaded.filter((url) => HEAVY.test(url));
  t.true(heavy.some((url) => url.includes('@aws-sdk')), 'the SDK reaches the pool thread through the internals');
  t.true(heavy.some((url) => /[\\/]actor[\\/]/.test(url)), 'so does the actor runtime');
});
