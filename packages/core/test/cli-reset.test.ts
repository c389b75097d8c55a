/**
 * `kinesis-client reset` (docs/cli.md) as a child process against a running application of two
 * worker processes: a reset to TRIM_HORIZON, a sequence number and a time, then a restart, replays
 * exactly from the new positions; a reset of a lease a live worker holds is refused without
 * --force, and with it the owner stops and the shard replays.
 */
import test from 'ava';
import { createStream, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { Cluster } from './helpers/workers.js';
import { awsEnv, produce, runCli, sleep, until } from './helpers/cli.js';

const FAILOVER_MS = 3_000;
const aws = withLocalAws(test);

async function setUp(t: import('ava').ExecutionContext, shards: number) {
  const streamName = uniqueName('cli-reset');
  await createStream(aws.kinesis, streamName, shards);
  const appName = `${streamName}-app`;
  const table = aws.leaseTable(appName);
  const cluster = new Cluster(t, { streamName, appName, clientOptions: aws.clientOptions, lease: { failoverMs: FAILOVER_MS, checkpointIntervalMs: 0 }, retrieval: { idleMs: 200 } }, table);
  const cli = (...args: string[]) => runCli([...args, '--app', appName, '--stream', streamName, '--failover-ms', String(FAILOVER_MS)], awsEnv(aws));
  /** Sequence numbers handled per shard from delivery `from` on. */
  const handledSince = (from: number) => {
    const out = new Map<string, string[]>();
    for (const d of cluster.deliveries.slice(from)) out.set(d.shardId, [...(out.get(d.shardId) ?? []), ...d.sequenceNumbers]);
    return out;
  };
  const handledCount = (from = 0) => [...handledSince(from).values()].reduce((n, s) => n + s.length, 0);
  return { streamName, appName, table, cluster, cli, handledSince, handledCount };
}

const sorted = (list: Iterable<string>) => [...new Set(list)].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));

test('reset to TRIM_HORIZON, to a sequence number and to a time, then a restart: each shard replays exactly from its new position', async (t) => {
  const { cluster, cli, table, handledSince, handledCount, streamName } = await setUp(t, 3);
  await cluster.start(['w1', 'w2']);
  const early = await produce(aws, streamName, 30, 'early');
  await sleep(1_500);
  const time = new Date();
  await sleep(1_500);
  const late = await produce(aws, streamName, 30, 'late');
  const all = [...early, ...late];
  await until(() => handledCount() >= all.length, 60_000, 'every record handled');
  await cluster.stopAll();
  const shardIds = [...new Set(all.map((p) => p.shardId))].sort();
  t.is(shardIds.length, 3, 'records on every shard');
  const [s0, s1, s2] = shardIds as [string, string, string];
  const of = (shardId: string, list = all) => sorted(list.filter((p) => p.shardId === shardId).map((p) => p.sequenceNumber));
  const middle = of(s2)[Math.floor(of(s2).length / 2)]!;

  const before = await table.get(s0);
  const r0 = await cli('reset', '--shard', s0, '--to', 'TRIM_HORIZON');
  t.is(r0.code, 0, r0.stderr);
  t.log(r0.stdout);
  t.regex(r0.stdout, new RegExp(`before: ${before!.checkpoint}, owner -, counter ${before!.leaseCounter}\\n\\s+after:  TRIM_HORIZON, owner -, counter ${before!.leaseCounter + 3}`));
  const r1 = await cli('reset', '--shard', s1, '--to', time.toISOString(), '--json');
  t.is(r1.code, 0, r1.stderr);
  t.like(JSON.parse(r1.stdout), { shardId: s1, after: { checkpoint: 'AT_TIMESTAMP', timestamp: time.toISOString(), owner: undefined }, forcedFrom: undefined });
  const r2 = await cli('reset', '--shard', s2, '--to', middle);
  t.is(r2.code, 0, r2.stderr);
  t.like(await table.get(s2), { checkpoint: middle, checkpointSubSequenceNumber: 0, leaseOwner: undefined });

  const restart = cluster.deliveries.length;
  await cluster.start(['w1', 'w2']);
  const expected = new Map([
    [s0, of(s0)],
    [s1, of(s1, late)],
    [s2, of(s2).filter((s) => BigInt(s) > BigInt(middle))],
  ]);
  const want = [...expected.values()].reduce((n, s) => n + s.length, 0);
  await until(() => handledCount(restart) >= want, 60_000, `${want} records replayed`);
  await sleep(1_000);
  const replayed = handledSince(restart);
  t.deepEqual(sorted(replayed.get(s0) ?? []), expected.get(s0), 'TRIM_HORIZON: the whole shard again');
  t.deepEqual(sorted(replayed.get(s1) ?? []), expected.get(s1), 'a time: the records that arrived after it, none before');
  t.deepEqual(sorted(replayed.get(s2) ?? []), expected.get(s2), 'a sequence number: the records after it (it counts as handled, as a checkpoint does)');
});

test('reset refuses while a live worker holds the lease (LEASE_HELD, exit 5, nothing written); --force takes it, the owner stops, and the shard replays', async (t) => {
  const { cluster, cli, table, handledCount, handledSince, streamName } = await setUp(t, 2);
  await cluster.start(['w1', 'w2']);
  await cluster.waitForBalance(['w1', 'w2'], 1, 60_000);
  const records = await produce(aws, streamName, 30, 'r');
  await until(() => handledCount() >= records.length, 60_000, 'every record handled');
  const shardId = records[0]!.shardId;
  const last = sorted(records.filter((p) => p.shardId === shardId).map((p) => p.sequenceNumber));
  await until(async () => (await table.get(shardId))!.checkpoint === last.at(-1), 30_000, 'the last record checkpointed');
  const held = (await table.get(shardId))!;

  const refused = await cli('reset', '--shard', shardId, '--to', 'TRIM_HORIZON');
  t.is(refused.code, 5, refused.stderr);
  t.regex(refused.stderr, new RegExp(`LEASE_HELD: worker "${held.leaseOwner}" holds ${shardId} and renewed it within the failover time`));
  t.like(await table.get(shardId), { checkpoint: held.checkpoint, leaseOwner: held.leaseOwner }, 'nothing written');

  const from = cluster.deliveries.length;
  const forced = await cli('reset', '--shard', shardId, '--to', 'TRIM_HORIZON', '--force');
  t.is(forced.code, 0, forced.stderr);
  t.log(forced.stdout);
  t.regex(forced.stdout, new RegExp(`reset ${shardId} \\(--force: lease taken from worker ${held.leaseOwner}\\)`));
  t.regex(forced.stdout, /after: {2}TRIM_HORIZON, owner -/);
  await until(() => (handledSince(from).get(shardId)?.length ?? 0) >= last.length, 60_000, 'the shard replayed from its start');
  t.deepEqual(sorted(handledSince(from).get(shardId)!), last, 'every record of the shard handled again');
  t.teardown(() => t.log(cluster.events.filter((e) => e.shardId === shardId).map((e) => `${e.worker} ${e.type} ${e.message ?? ''}`)));
  await until(
    () => cluster.events.some((e) => e.worker === held.leaseOwner && e.type === 'lease:lost' && e.shardId === shardId),
    10_000,
    'the owner losing the lease the CLI took',
  );
  t.pass();
});
