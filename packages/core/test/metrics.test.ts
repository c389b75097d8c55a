/**
 * The metrics, read with an in-memory OpenTelemetry reader of the SDK: every metric of
 * docs/metrics.md appears during a drain (with batch failures, throttles, a checkpoint failure, an
 * actor crash, aged iterators) and after leases move (one taken from under the owner, one handed
 * to a second worker), with the attributes the page promises; and the page lists exactly the
 * metrics recorded, with their instruments and units.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { metrics as otel } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import type { SystemOptions } from '@kinesis-client/core';
import { putRecords, withLocalAws } from '@kinesis-client/examples/testing';
import { createEmitter } from '../src/events.js';
import { recordMetrics } from '../src/metrics.js';
import { eventually, jsonRecords, startRecordingSystem } from './helpers/recording.js';

const aws = withLocalAws(test);

/** Collected when the test asks, so what it checks is what was recorded up to that moment. */
class ManualReader extends MetricReader {
  constructor(temporality = AggregationTemporality.CUMULATIVE) {
    super({ aggregationTemporalitySelector: () => temporality });
  }

  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

function meter(temporality?: AggregationTemporality) {
  const reader = new ManualReader(temporality);
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    async collect(): Promise<Map<string, MetricData>> {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      return new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
    },
  };
}

/** The sum of a counter's points matching `attributes`. */
function total(metrics: Map<string, MetricData>, name: string, attributes: Record<string, unknown> = {}): number {
  const metric = metrics.get(name);
  if (!metric) return 0;
  return (metric.dataPoints as { attributes: Record<string, unknown>; value: unknown }[])
    .filter((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))
    .reduce((n, p) => n + (typeof p.value === 'number' ? p.value : (p.value as { count: number }).count), 0);
}

interface DocRow {
  name: string;
  instrument: string;
  unit: string;
}

/** The rows of docs/metrics.md's table of metrics. */
function documented(): DocRow[] {
  const page = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');
  const table = page.slice(page.indexOf('## Every metric'));
  return [...table.matchAll(/^\| `([a-z_.]+)` \| ([^|]+) \| `([^`]+)` \|/gm)].map((m) => ({ name: m[1]!, instrument: m[2]!.trim(), unit: m[3]! }));
}

const INSTRUMENT: Record<string, (m: MetricData) => boolean> = {
  Counter: (m) => m.dataPointType === DataPointType.SUM && m.isMonotonic,
  'UpDownCounter (observable)': (m) => m.dataPointType === DataPointType.SUM && !m.isMonotonic,
  Gauge: (m) => m.dataPointType === DataPointType.GAUGE,
  Histogram: (m) => m.dataPointType === DataPointType.HISTOGRAM,
};

const options = (workerId: string, meterProvider: MeterProvider): Partial<SystemOptions> => ({
  workerId,
  meterProvider,
  lease: { failoverMs: 3_000, checkpointIntervalMs: 0 },
  batchers: { batchSize: 50, backoff: { baseMs: 5, maxMs: 20 } },
  // iterators unused for 100 ms are replaced: every idle poll renews one
  retrieval: { idleMs: 200, iteratorMaxAgeMs: 100 },
  supervision: { shard: { backoff: { baseMs: 5, maxMs: 20 } } },
});

test('every documented metric is recorded with its attributes during a drain and after leases move, and docs/metrics.md lists exactly those', async (t) => {
  const a = meter();
  // every third batch (by first sequence number) fails its first attempt
  const first = await startRecordingSystem(t, aws, 2, options('metrics-a', a.provider), { failMod: 3, failAttempts: 1 });
  const { stream, app, system } = first;
  const shards = (await system.status()).map((s) => s.shardId).sort();
  t.is(shards.length, 2);

  await putRecords(aws.kinesis, stream, jsonRecords(400));
  await first.deliveries.waitFor(() => new Set(first.deliveries.bodies()).size >= 400);
  await system.faults.failCalls({ command: 'GetRecords', error: 'ProvisionedThroughputExceededException', times: 2 });
  await system.faults.crashActor(shards[0]!, 'reader');
  // UpdateItem is renewals and takes too: inject until a checkpoint is the call that fails
  await eventually(async () => {
    await system.faults.failCalls({ command: 'UpdateItem', error: 'InternalServerError', times: 1 });
    await putRecords(aws.kinesis, stream, jsonRecords(20));
    await new Promise((r) => setTimeout(r, 500));
    return total(await a.collect(), 'kinesis_client.checkpoint.failures') > 0 ? true : undefined;
  }, 30_000, 'a failed checkpoint');
  await eventually(async () => {
    const m = await a.collect();
    return total(m, 'kinesis_client.shard.throttled_calls') >= 2 && total(m, 'kinesis_client.actor.restarts') >= 1 ? true : undefined;
  }, 15_000, 'throttles and a restart recorded');

  // a lease taken from under its owner: the owner's next renewal or checkpoint finds another counter
  await aws.dynamodb.send(
    new UpdateItemCommand({
      TableName: app,
      Key: { leaseKey: { S: shards[1]! } },
      UpdateExpression: 'SET leaseOwner = :o ADD leaseCounter :one',
      ExpressionAttributeValues: { ':o': { S: 'intruder' }, ':one': { N: '1' } },
    }),
  );
  await eventually(async () => (total(await a.collect(), 'kinesis_client.lease.lost') > 0 ? true : undefined), 15_000, 'the lost lease recorded');
  // nobody renews the intruder's lease: it expires and the first worker takes it back
  await eventually(async () => ((await system.status()).length === 2 ? true : undefined), 30_000, 'the lease taken back');

  // a second worker: it asks for one of the first worker's leases, which hands it over
  const b = meter();
  await startRecordingSystem(t, aws, { stream, app }, options('metrics-b', b.provider));
  await eventually(async () => (total(await a.collect(), 'kinesis_client.lease.stolen') > 0 ? true : undefined), 30_000, 'a lease handed over');
  await eventually(async () => (total(await b.collect(), 'kinesis_client.lease.taken') > 0 ? true : undefined), 15_000, 'the lease taken by the second worker');
  await putRecords(aws.kinesis, stream, jsonRecords(100, { offset: 1_000 }));
  await eventually(async () => (total(await b.collect(), 'messaging.client.consumed.messages') > 0 ? true : undefined), 30_000, 'records consumed by the second worker');

  const recorded = await a.collect();
  const rows = documented();
  t.deepEqual([...recorded.keys()].sort(), rows.map((r) => r.name).sort(), 'docs/metrics.md lists exactly the metrics recorded');
  const base = { 'messaging.system': 'aws_kinesis', 'messaging.destination.name': stream, 'messaging.consumer.group.name': app };
  for (const row of rows) {
    const metric = recorded.get(row.name);
    if (!metric) continue;
    t.true(INSTRUMENT[row.instrument]?.(metric), `${row.name}: a ${row.instrument}`);
    t.is(metric.descriptor.unit, row.unit, `${row.name}: unit`);
    t.true(metric.dataPoints.length > 0, `${row.name}: has points`);
    for (const point of metric.dataPoints) {
      const attributes = point.attributes;
      t.like(attributes, base, `${row.name}: the stream and application`);
      const partition = attributes['messaging.destination.partition.id'];
      if (row.name === 'kinesis_client.lease.held') t.is(partition, undefined, `${row.name}: per worker`);
      else if (row.name !== 'kinesis_client.actor.restarts' || attributes['kinesis_client.actor.role'] === 'reader') {
        t.true(shards.includes(partition as string), `${row.name}: a shard of the stream (${String(partition)})`);
      }
    }
  }
  t.true(total(recorded, 'messaging.client.consumed.messages', { 'messaging.operation.name': 'process' }) >= 400, 'every record of the drain counted');
  t.true(total(recorded, 'messaging.process.duration', { 'messaging.operation.name': 'process' }) > 0);
  t.true(total(recorded, 'kinesis_client.batch.failures', { 'error.type': 'Error' }) > 0, 'a batch failure carries error.type');
  t.true(total(recorded, 'kinesis_client.batch.attempts') > total(recorded, 'kinesis_client.batch.failures'));
  t.is(total(recorded, 'kinesis_client.shard.throttled_calls', { 'error.type': 'ProvisionedThroughputExceededException' }), 2);
  t.true(total(recorded, 'kinesis_client.checkpoint.failures', { 'error.type': 'InternalServerError' }) > 0);
  t.true(total(recorded, 'kinesis_client.shard.iterator_renewals', { 'kinesis_client.iterator.reason': 'aged' }) > 0);
  t.true(total(recorded, 'kinesis_client.actor.restarts', { 'kinesis_client.actor.role': 'reader', 'messaging.destination.partition.id': shards[0] }) >= 1);
  t.true(total(recorded, 'kinesis_client.lease.lost', { 'messaging.destination.partition.id': shards[1] }) >= 1, 'the lease taken from under it');
  t.true(total(recorded, 'kinesis_client.lease.taken') >= 2);
  t.true(total(recorded, 'kinesis_client.checkpoint.writes') > 0);
  t.is(total(recorded, 'kinesis_client.lease.held'), (await system.status()).length, 'leases held: the shards it runs now');
  t.is(total(await b.collect(), 'kinesis_client.lease.held'), 1, 'the second worker holds one lease');
});

test('several streams: each point names the stream of its event (the same shard id in two streams apart), held leases per stream', async (t) => {
  const m = meter();
  const { events, open } = createEmitter();
  open();
  const status = (streamName: string, shardId: string) => ({ streamName, shardId, checkpoint: undefined, millisBehindLatest: 5, bufferedRecords: 2, bufferedBytes: 20, actors: [] });
  const stop = recordMetrics({
    events,
    meterProvider: m.provider,
    defaultStream: undefined,
    streams: () => ['orders', 'payments', 'idle'],
    appName: 'app',
    status: async () => [status('orders', 'shardId-000000000000'), status('payments', 'shardId-000000000000'), status('payments', 'shardId-000000000001')],
  });
  t.teardown(stop);
  // the payloads as the engine emits them: streamName on each
  const handled = (streamName: string, count: number) => ({ shardId: 'shardId-000000000000', count, attempt: 1, durationMs: 3, streamName });
  events.emit('batch:handled', handled('orders', 7) as never);
  events.emit('batch:handled', handled('payments', 11) as never);
  events.emit('actor:restarted', { id: 'coordinator', actor: 'coordinator', restarts: 1, streamName: 'payments' } as never);
  const recorded = await m.collect();
  const of = (streamName: string) => ({ 'messaging.destination.name': streamName, 'messaging.destination.partition.id': 'shardId-000000000000' });
  t.is(total(recorded, 'messaging.client.consumed.messages', of('orders')), 7);
  t.is(total(recorded, 'messaging.client.consumed.messages', of('payments')), 11);
  t.is(total(recorded, 'kinesis_client.actor.restarts', { 'messaging.destination.name': 'payments', 'kinesis_client.actor.role': 'coordinator' }), 1);
  t.is(total(recorded, 'kinesis_client.shard.buffered.records', of('payments')), 2);
  const held = recorded.get('kinesis_client.lease.held')!.dataPoints.map((p) => [p.attributes['messaging.destination.name'], p.value]);
  t.deepEqual(held.sort(), [['idle', 0], ['orders', 1], ['payments', 2]], 'per stream, a stream with none at 0');
  for (const metric of recorded.values()) {
    for (const point of metric.dataPoints) t.like(point.attributes, { 'messaging.system': 'aws_kinesis', 'messaging.consumer.group.name': 'app' });
  }
});

test('without the meterProvider option the metrics go to the global meter provider, and stop removes the gauges', async (t) => {
  // delta: a gauge nobody observes any more has no point in the next collection
  const global = meter(AggregationTemporality.DELTA);
  t.true(otel.setGlobalMeterProvider(global.provider), 'this process had no global provider yet');
  t.teardown(() => otel.disable());
  const run = await startRecordingSystem(t, aws, 1, { retrieval: { idleMs: 200 } });
  await putRecords(aws.kinesis, run.stream, jsonRecords(30));
  await run.deliveries.waitFor(() => run.deliveries.count >= 30);
  let consumed = 0;
  await eventually(async () => ((consumed += total(await global.collect(), 'messaging.client.consumed.messages')) >= 30 ? true : undefined), 10_000, 'records counted');
  t.is(total(await global.collect(), 'kinesis_client.lease.held'), 0, 'held, unchanged since the last collection');
  t.is((await global.collect()).get('kinesis_client.lease.held')?.dataPoints.length, 1, 'observed while running');
  await run.stop();
  t.is((await global.collect()).get('kinesis_client.lease.held')?.dataPoints.length ?? 0, 0, 'a stopped system reports no leases held');
});
