/**
 * The system's OpenTelemetry metrics, through `@opentelemetry/api` alone: the application's own
 * meter provider (the `meterProvider` option, else the global one) collects and exports them; with
 * none installed every instrument is the API's no-op. Everything is recorded on the main thread,
 * from `system.events` (counters, the histogram) and from what the shard-host threads report when
 * a reader collects (gauges), so no actor carries a metrics call. docs/metrics.md lists each one
 * with its Java KCL counterpart; test/metrics.test.ts holds the two in step.
 */
import { metrics as otel, type Attributes, type Counter, type Meter, type MeterProvider, type ObservableGauge, type ObservableUpDownCounter } from '@opentelemetry/api';
import type { Emitter } from 'mitt';
import { shardKey, type ShardStatus } from '@kinesis-client/worker/internal';
import type { SystemEvents } from './events.js';
import { streamOf } from './stream-names.js';

export const METER_NAME = '@kinesis-client/core';

/** Every metric, by role: its name, unit and description (docs/metrics.md adds the instrument and attributes). */
export const METRICS = {
  consumed: { name: 'messaging.client.consumed.messages', unit: '{message}', description: 'Records handed to a handleBatch call that succeeded' },
  processDuration: { name: 'messaging.process.duration', unit: 's', description: 'Duration of a successful handleBatch call (handleMessage included)' },
  behindLatest: { name: 'kinesis_client.shard.time_behind_latest', unit: 'ms', description: 'MillisBehindLatest of the shard’s last GetRecords page (or fan-out event)' },
  bufferedRecords: { name: 'kinesis_client.shard.buffered.records', unit: '{record}', description: 'Records read from the shard and not yet handled' },
  bufferedBytes: { name: 'kinesis_client.shard.buffered.bytes', unit: 'By', description: 'Payload bytes of the buffered records' },
  leasesHeld: { name: 'kinesis_client.lease.held', unit: '{lease}', description: 'Leases this worker holds (shards running on its threads)' },
  leasesTaken: { name: 'kinesis_client.lease.taken', unit: '{lease}', description: 'Leases this worker took (free, expired, or handed to it)' },
  leasesLost: { name: 'kinesis_client.lease.lost', unit: '{lease}', description: 'Leases this worker lost without releasing them (a renewal or checkpoint condition failed, or it could not renew for failoverMs)' },
  leasesStolen: { name: 'kinesis_client.lease.stolen', unit: '{lease}', description: 'Leases this worker handed over to another worker that asked for them' },
  checkpoints: { name: 'kinesis_client.checkpoint.writes', unit: '{checkpoint}', description: 'Checkpoints written to the lease store (SHARD_END included)' },
  checkpointFailures: { name: 'kinesis_client.checkpoint.failures', unit: '{checkpoint}', description: 'Checkpoint writes that failed (store error or deadline); retried with backoff' },
  throttles: { name: 'kinesis_client.shard.throttled_calls', unit: '{call}', description: 'GetRecords or GetShardIterator calls throttled by Kinesis' },
  iteratorRenewals: { name: 'kinesis_client.shard.iterator_renewals', unit: '{iterator}', description: 'Shard iterators replaced: expired, or unused past retrieval.iteratorMaxAgeMs' },
  batchAttempts: { name: 'kinesis_client.batch.attempts', unit: '{attempt}', description: 'handleBatch attempts that finished, successful or not' },
  batchFailures: { name: 'kinesis_client.batch.failures', unit: '{attempt}', description: 'handleBatch attempts that failed (threw, timed out, or their pool thread died)' },
  actorRestarts: { name: 'kinesis_client.actor.restarts', unit: '{restart}', description: 'Restarts of actors and shard-host threads after a crash' },
} as const satisfies Record<string, { name: string; unit: string; description: string }>;

export interface MetricsDeps {
  events: Emitter<SystemEvents>;
  meterProvider?: MeterProvider;
  /** A single-stream system's stream, for events that name none; undefined with several streams. */
  defaultStream: string | undefined;
  /** The system's streams now: the held-leases gauge is reported for each, 0 included. */
  streams(): readonly string[];
  appName: string;
  /** What the shard-host threads run now; asked only when a reader collects. */
  status(): Promise<ShardStatus[]>;
}

/** Records the system's metrics until the returned function is called (at stop). */
export function recordMetrics(deps: MetricsDeps): () => void {
  const meter: Meter = (deps.meterProvider ?? otel.getMeterProvider()).getMeter(METER_NAME);
  const system: Attributes = { 'messaging.system': 'aws_kinesis', 'messaging.consumer.group.name': deps.appName };
  // `messaging.destination.name` is the stream of each event, so one system's streams stay apart
  const perStream = new Map<string, Attributes>();
  const base = (streamName: string | undefined): Attributes => {
    if (streamName === undefined) return system;
    let found = perStream.get(streamName);
    if (!found) perStream.set(streamName, (found = { ...system, 'messaging.destination.name': streamName }));
    return found;
  };
  // per shard of a stream, made once: the counters of every batch reuse them
  const perShard = new Map<string, { shard: Attributes; processing: Attributes }>();
  const sets = (e: { shardId: string }) => {
    const streamName = streamOf(e, deps.defaultStream);
    const key = shardKey({ streamName: streamName ?? '', shardId: e.shardId });
    let found = perShard.get(key);
    if (!found) {
      const attributes = { ...base(streamName), 'messaging.destination.partition.id': e.shardId };
      found = { shard: attributes, processing: { ...attributes, 'messaging.operation.name': 'process' } };
      perShard.set(key, found);
    }
    return found;
  };
  const shard = (e: { shardId: string }, extra?: Attributes): Attributes => (extra ? { ...sets(e).shard, ...extra } : sets(e).shard);
  const processing = (e: { shardId: string }) => sets(e).processing;
  const errorType = (error: Error) => {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? code : error.name || 'Error';
  };

  const options = (spec: { unit: string; description: string }) => ({ unit: spec.unit, description: spec.description });
  const counter = (spec: (typeof METRICS)[keyof typeof METRICS]): Counter => meter.createCounter(spec.name, options(spec));
  const m = METRICS;
  const consumed = counter(m.consumed);
  const duration = meter.createHistogram(m.processDuration.name, {
    ...options(m.processDuration),
    // the conventions' buckets for messaging durations, from 5 ms to 10 s
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] },
  });
  const taken = counter(m.leasesTaken);
  const lost = counter(m.leasesLost);
  const stolen = counter(m.leasesStolen);
  const checkpoints = counter(m.checkpoints);
  const checkpointFailures = counter(m.checkpointFailures);
  const throttles = counter(m.throttles);
  const renewals = counter(m.iteratorRenewals);
  const attempts = counter(m.batchAttempts);
  const failures = counter(m.batchFailures);
  const restarts = counter(m.actorRestarts);

  const { events } = deps;
  events.on('batch:handled', (e) => {
    consumed.add(e.count, processing(e));
    duration.record(e.durationMs / 1000, processing(e));
    attempts.add(1, shard(e));
  });
  events.on('batch:failed', (e) => {
    attempts.add(1, shard(e));
    failures.add(1, shard(e, { 'error.type': errorType(e.error) }));
  });
  events.on('lease:acquired', (e) => taken.add(1, shard(e)));
  events.on('lease:lost', (e) => lost.add(1, shard(e)));
  events.on('lease:released', (e) => {
    if (e.to !== undefined) stolen.add(1, shard(e));
  });
  events.on('checkpoint', (e) => checkpoints.add(1, shard(e)));
  events.on('checkpoint:failed', (e) => checkpointFailures.add(1, shard(e, { 'error.type': errorType(e.error) })));
  events.on('shard:throttled', (e) => throttles.add(1, shard(e, { 'error.type': e.error })));
  events.on('iterator:renewed', (e) => renewals.add(1, shard(e, { 'kinesis_client.iterator.reason': e.reason })));
  events.on('actor:restarted', (e) => restarts.add(1, { ...(e.shardId ? shard({ ...e, shardId: e.shardId }) : base(streamOf(e, deps.defaultStream))), 'kinesis_client.actor.role': e.actor }));

  const behind: ObservableGauge = meter.createObservableGauge(m.behindLatest.name, options(m.behindLatest));
  const bufferedRecords: ObservableGauge = meter.createObservableGauge(m.bufferedRecords.name, options(m.bufferedRecords));
  const bufferedBytes: ObservableGauge = meter.createObservableGauge(m.bufferedBytes.name, options(m.bufferedBytes));
  const held: ObservableUpDownCounter = meter.createObservableUpDownCounter(m.leasesHeld.name, options(m.leasesHeld));
  const observables = [behind, bufferedRecords, bufferedBytes, held];
  // one round trip to the threads per collection, for all four
  const observe = async (result: Parameters<Parameters<Meter['addBatchObservableCallback']>[0]>[0]) => {
    const shards = await deps.status().catch((): ShardStatus[] => []);
    const heldPerStream = new Map<string | undefined, number>(deps.defaultStream === undefined ? deps.streams().map((name) => [name, 0]) : [[deps.defaultStream, 0]]);
    for (const s of shards) heldPerStream.set(s.streamName, (heldPerStream.get(s.streamName) ?? 0) + 1);
    for (const [streamName, n] of heldPerStream) result.observe(held, n, base(streamName));
    for (const s of shards) {
      const attributes = shard(s);
      if (s.millisBehindLatest !== undefined) result.observe(behind, s.millisBehindLatest, attributes);
      result.observe(bufferedRecords, s.bufferedRecords, attributes);
      result.observe(bufferedBytes, s.bufferedBytes, attributes);
    }
  };
  meter.addBatchObservableCallback(observe, observables);
  return () => meter.removeBatchObservableCallback(observe, observables);
}
