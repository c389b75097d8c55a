/**
 * system.health(): the pure decision (assessHealth, time passed in) and, against the local
 * services, the flip to not live and not ready when the root supervisor gives up.
 */
import test from 'ava';
import { putRecords, withLocalAws } from '@kinesis-client/examples/testing';
import { assessHealth, type HealthInput } from '../src/health.js';
import { eventually, jsonRecords, startRecordingSystem } from './helpers/recording.js';

const base: HealthInput = {
  started: true,
  stopped: false,
  gaveUp: false,
  hostsUp: 2,
  hosts: 2,
  store: { lastOkAt: 1_000, lastFailedAt: undefined, lastError: undefined },
  shards: [],
  stallMs: 60_000,
};
const codes = (input: Partial<HealthInput>, now = 10_000) => assessHealth({ ...base, ...input }, now).reasons.map((r) => r.code);

test('healthy: live and ready, no reasons', (t) => {
  t.deepEqual(assessHealth(base, 10_000), { live: true, ready: true, reasons: [] });
});

test('starting, stopped and given up: each its own code; stopped and given up are not live', (t) => {
  t.deepEqual(codes({ started: false }), ['STARTING']);
  t.true(assessHealth({ ...base, started: false }, 0).live, 'starting is live, only not ready');
  const gaveUp = assessHealth({ ...base, gaveUp: true, stopped: true }, 0);
  t.deepEqual(gaveUp.reasons.map((r) => r.code), ['SUPERVISOR_GAVE_UP', 'STOPPED']);
  t.false(gaveUp.live);
  t.false(gaveUp.ready);
  t.false(assessHealth({ ...base, stopped: true }, 0).live);
});

test('no shard-host thread up: not ready, still live', (t) => {
  const h = assessHealth({ ...base, hostsUp: 0 }, 0);
  t.deepEqual(h.reasons.map((r) => r.code), ['NO_SHARD_HOST']);
  t.true(h.live);
  t.deepEqual(codes({ hostsUp: 1 }), []);
});

test('the lease store: not ready while its latest call failed, ready again after a success', (t) => {
  t.deepEqual(codes({ store: { lastOkAt: 1_000, lastFailedAt: 2_000, lastError: 'Requested resource not found' } }), ['LEASE_STORE_UNREACHABLE']);
  t.deepEqual(codes({ store: { lastOkAt: undefined, lastFailedAt: 2_000, lastError: undefined } }), ['LEASE_STORE_UNREACHABLE']);
  t.deepEqual(codes({ store: { lastOkAt: 3_000, lastFailedAt: 2_000, lastError: 'x' } }), []);
});

test('no progress: only held shards with records waiting, past stallMs since taken or last handled', (t) => {
  const shard = { streamName: 'st', shardId: 's-1', heldSince: 0, lastHandledAt: 50_000, waiting: true };
  t.deepEqual(codes({ shards: [shard] }, 109_999), [], 'just under stallMs since the last batch');
  const h = assessHealth({ ...base, shards: [shard, { ...shard, shardId: 's-0' }, { ...shard, shardId: 's-2', waiting: false }] }, 110_000);
  t.deepEqual(h.reasons.map((r) => r.code), ['NO_PROGRESS']);
  t.deepEqual(h.reasons[0]!.shardIds, ['s-0', 's-1']);
  t.true(h.live);
  t.deepEqual(codes({ shards: [{ streamName: 'st', shardId: 's', heldSince: 100_000, lastHandledAt: undefined, waiting: true }] }, 159_999), [], 'timed from the take when nothing was handled yet');
  t.deepEqual(codes({ shards: [{ streamName: 'st', shardId: 's', heldSince: 100_000, lastHandledAt: undefined, waiting: true }] }, 160_000), ['NO_PROGRESS']);
  // the same shard id in two streams of one system: both named, each with its stream
  const two = assessHealth({ ...base, shards: [{ ...shard, streamName: 'payments' }, { ...shard, streamName: 'orders' }] }, 110_000);
  t.deepEqual(two.reasons[0]!.shards, [
    { streamName: 'orders', shardId: 's-1' },
    { streamName: 'payments', shardId: 's-1' },
  ]);
});

const aws = withLocalAws(test);

test.serial('health flips to not live and not ready when the root supervisor gives up', async (t) => {
  const run = await startRecordingSystem(t, aws, 2, {
    shardHosts: { threads: 1 },
    supervision: { shardHosts: { maxRestarts: 0 }, root: { maxRestarts: 0 } },
  });
  let stopped = false;
  run.system.events.on('stopped', () => (stopped = true));
  await putRecords(aws.kinesis, run.stream, jsonRecords(50));
  await run.deliveries.waitFor(() => run.deliveries.count >= 50);
  t.deepEqual(run.system.health(), { live: true, ready: true, reasons: [] });
  const shardId = (await run.system.inspect()).shards[0]!.shardId;
  t.true(await run.system.faults.killThread(shardId));
  const health = await eventually(async () => {
    const h = run.system.health();
    return h.reasons.some((r) => r.code === 'SUPERVISOR_GAVE_UP') ? h : undefined;
  }, 15_000, 'health to report the root giving up');
  t.false(health.live);
  t.false(health.ready);
  await eventually(async () => (stopped ? true : undefined), 15_000, 'the system to stop itself');
  t.deepEqual(run.system.health().reasons.map((r) => r.code), ['SUPERVISOR_GAVE_UP', 'STOPPED']);
});
