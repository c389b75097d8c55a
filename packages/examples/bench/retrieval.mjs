/**
 * Retrieval benchmark (issue 6), two parts:
 * 1. GetRecords calls per shard per second, counted by the reader itself (system.inspect()), while
 *    the shard is idle and while it is behind (a preloaded backlog read in small pages), printed
 *    against the Kinesis limit of 5 per second.
 * 2. KPL de-aggregation throughput of the consumer pool, in user records per second, with 1 and 2
 *    pool threads: batches of aggregates (100 user records of 100 bytes each) through the real
 *    pool entry with a no-op consumer, against the same user records sent as plain records in the
 *    same run (the baseline: the pool's cost without de-aggregation).
 *
 *   pnpm bench:retrieval  [--seconds 8] [--batches 200]
 */
import { parseArgs } from 'node:util';
import { Piscina } from 'piscina';
import { createSystem, aggregate } from '@kinesis-client/core';
import { packRecords, poolEntryUrl, transferablesOf } from '@kinesis-client/worker/internal';
import { createStream, putRecords, startLocalAws } from '@kinesis-client/examples/testing';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' }, batches: { type: 'string', default: '200' } } });
const seconds = Number(values.seconds);
const batches = Number(values.batches);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const consumer = new URL('./noop-consumer.mjs', import.meta.url);

console.log('retrieval benchmark, kinesalite + dynalite on loopback');

// --- 1. GetRecords calls per shard per second
const aws = await startLocalAws();
const kinesis = aws.kinesisClient();
async function callRate(label, streamName, extra) {
  const system = await createSystem({ streamName, appName: `${streamName}-app`, consumer, ...aws.clientOptions, ...extra });
  const calls = async () => (await system.inspect()).shards.reduce((n, s) => n + (s.getRecordsCalls ?? 0), 0);
  await sleep(1_500);
  const before = await calls();
  const started = performance.now();
  await sleep(seconds * 1_000);
  const rate = ((await calls()) - before) / ((performance.now() - started) / 1_000);
  await system.stop();
  console.log(`  ${label}: ${rate.toFixed(2)} GetRecords calls per shard per second (limit 5, ratio ${(rate / 5).toFixed(2)})`);
  return rate;
}
await createStream(kinesis, 'bench-idle', 1);
const idle = await callRate('idle shard, defaults (polling.idleMs 1000)', 'bench-idle', {});
await createStream(kinesis, 'bench-behind', 1);
const backlog = Array.from({ length: 60_000 }, (_, i) => ({ PartitionKey: `k${i}`, Data: new TextEncoder().encode(`{"i":${i}}`) }));
await putRecords(kinesis, 'bench-behind', backlog);
// small pages keep the shard behind for the whole window, so the call budget is what limits it
const behind = await callRate('shard behind (60 000 records backlog, polling.getRecordsLimit 100)', 'bench-behind', { retrieval: { getRecordsLimit: 100 } });
kinesis.destroy();
await aws.stop();

// --- 2. de-aggregation throughput of the pool
const encoder = new TextEncoder();
const payload = 'x'.repeat(90);
const USERS = 100;
const AGGREGATES_PER_BATCH = 50;
function task(aggregated, b) {
  const records = [];
  for (let a = 0; a < AGGREGATES_PER_BATCH; a++) {
    const users = Array.from({ length: USERS }, (_, i) => ({ partitionKey: `pk-${i}`, explicitHashKey: undefined, data: encoder.encode(`${b}-${a}-${i}${payload}`) }));
    const seq = String(b * 1_000_000 + a * 1_000);
    if (aggregated) records.push({ Data: aggregate(users).Data, PartitionKey: 'agg', SequenceNumber: seq, ApproximateArrivalTimestamp: new Date() });
    else users.forEach((u, i) => records.push({ Data: u.data, PartitionKey: u.partitionKey, SequenceNumber: `${seq}${i}`, ApproximateArrivalTimestamp: new Date() }));
  }
  return records;
}
async function poolRate(threads, aggregated) {
  const pool = new Piscina({ filename: poolEntryUrl.href, minThreads: threads, maxThreads: threads, idleTimeout: Infinity, workerData: { consumerUrl: consumer.href } });
  await pool.run({ kind: 'describe' });
  const prepared = Array.from({ length: batches }, (_, b) => packRecords(task(aggregated, b)));
  const started = performance.now();
  let inFlight = [];
  for (const records of prepared) {
    const info = { shardId: 'shardId-000000000000', streamName: 'bench', firstSequenceNumber: '0', lastSequenceNumber: '0', attempt: 1, millisBehindLatest: 0 };
    inFlight.push(pool.run({ kind: 'batch', records, info, deaggregation: { hashKeyRange: undefined, resumeAfter: undefined } }, { transferList: transferablesOf(records) }));
    if (inFlight.length >= threads * 2) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  const outcomes = await Promise.all(inFlight);
  if (outcomes.some((o) => !o.ok)) throw new Error('a batch failed');
  const rate = (batches * AGGREGATES_PER_BATCH * USERS) / ((performance.now() - started) / 1_000);
  await pool.close();
  return rate;
}
console.log(`  pool: ${batches} batches of ${AGGREGATES_PER_BATCH} aggregates x ${USERS} user records of ~100 bytes`);
const rows = [];
for (const threads of [1, 2]) {
  const plain = await poolRate(threads, false);
  const agg = await poolRate(threads, true);
  rows.push([threads, agg, plain]);
}

console.log('');
console.log(`GetRecords calls per shard per second: idle ${idle.toFixed(2)}, behind ${behind.toFixed(2)} (Kinesis allows 5)`);
for (const [threads, agg, plain] of rows) {
  console.log(`de-aggregation in the pool, ${threads} thread(s): ${fmt(agg)} user records/s; the same records unaggregated ${fmt(plain)}/s; ratio ${(agg / plain).toFixed(2)}`);
}
