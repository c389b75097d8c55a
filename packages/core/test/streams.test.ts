/**
 * Several streams in one application (`streams`, docs/java-kcl.md): lease keys in the Java KCL's
 * multi-stream format, one coordinator per stream with balancing over every stream's leases, two
 * worker processes over two streams, streams added and removed while running, a table a Java
 * multi-stream application wrote resumed as it is (and left readable by it), a stream deleted and
 * recreated under its name never resuming the old one's checkpoints, and bad input refused.
 */
import test from 'ava';
import { DeleteStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { createSystem, type SystemOptions } from '@kinesis-client/core';
import { KinesisClientError } from '@kinesis-client/worker';
import { CountingProducer, createStream, putRecords, splitShard, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { resolveOptions } from '../src/options.js';
import { JavaKclWorker, createJavaTable } from './helpers/java-kcl.js';
import { eventually, fixture, isAscending, jsonRecords, startRecordingSystem } from './helpers/recording.js';
import { Cluster } from './helpers/workers.js';

const aws = withLocalAws(test);
const FAILOVER_MS = 3_000;
const LEASE = { failoverMs: FAILOVER_MS, takeIntervalMs: 1_000 };
const SHARDS = ['shardId-000000000000', 'shardId-000000000001'];

type Item = Record<string, AttributeValue>;

const rowOf = async (app: string, leaseKey: string) =>
  (await aws.dynamodb.send(new GetItemCommand({ TableName: app, Key: { leaseKey: { S: leaseKey } }, ConsistentRead: true }))).Item;

/** The Java KCL's stream identifier of a stream: account from its ARN, creation time in seconds. */
async function identifierOf(streamName: string): Promise<string> {
  const { StreamDescriptionSummary: s } = await aws.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
  return `${s!.StreamARN!.split(':')[4]}:${streamName}:${Math.floor(s!.StreamCreationTimestamp!.getTime() / 1000)}`;
}

const base = (): Omit<SystemOptions, 'consumer'> => ({ appName: uniqueName('app'), ...aws.clientOptions });

test('bad input: streamName with streams, an empty list, the same stream twice, a spec naming none or two -> INVALID_OPTION', (t) => {
  const o = { appName: 'app', consumer: 'file:///c.mjs' };
  const cases: [Record<string, unknown>, string][] = [
    [{ streamName: 'a', streams: [{ streamName: 'b' }] }, 'streams'],
    [{ streams: [] }, 'streams'],
    [{ streams: [{ streamName: 'a' }, { streamName: 'a' }] }, 'streams.1'],
    [{ streams: [{ streamName: 'a' }, { streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/a' }] }, 'streams.1'],
    [{ streams: [{}] }, 'streams.0'],
    [{ streams: [{ streamName: 'a', streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/a' }] }, 'streams.0'],
    [{ streams: [{ streamArn: 'not-an-arn' }] }, 'streams.0.streamArn'],
    [{}, 'streamName'],
  ];
  for (const [given, option] of cases) {
    const error = t.throws(() => resolveOptions({ ...o, ...given }), { instanceOf: KinesisClientError }, JSON.stringify(given));
    t.is(error?.code, 'INVALID_OPTION', JSON.stringify(given));
    t.is((error?.details as { option?: string })?.option, option, JSON.stringify(given));
  }
  const resolved = resolveOptions({ ...o, streams: [{ streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/b', initialPosition: 'LATEST' }, { streamName: 'a' }] });
  t.true(resolved.multiStream);
  t.deepEqual(resolved.streams, [
    { streamName: 'b', streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/b', initialPosition: 'LATEST' },
    { streamName: 'a', initialPosition: 'TRIM_HORIZON' },
  ]);
  const single = resolveOptions({ ...o, streamName: 'a' });
  t.false(single.multiStream);
  t.deepEqual(single.streams, [{ streamName: 'a', initialPosition: 'TRIM_HORIZON' }]);
});

test.serial('bad input at start and at run time: an unknown stream -> STREAM_NOT_FOUND, no table; addStream/removeStream misuse -> INVALID_ARGUMENT', async (t) => {
  const known = uniqueName('known');
  await createStream(aws.kinesis, known, 1);
  const options = base();
  const error = await t.throwsAsync(createSystem({ ...options, consumer: fixture('recording-consumer.mjs'), streams: [{ streamName: known }, { streamName: uniqueName('missing') }] }));
  t.is((error as KinesisClientError).code, 'STREAM_NOT_FOUND');
  t.is(await rowOf(options.appName, 'x').catch((e: { name?: string }) => e.name), 'ResourceNotFoundException', 'no lease table made');

  const multi = await startRecordingSystem(t, aws, { stream: known, app: uniqueName('app') }, { streams: [{ streamName: known }], lease: LEASE });
  const again = await t.throwsAsync(multi.system.addStream({ streamName: known }));
  t.is((again as KinesisClientError).code, 'INVALID_ARGUMENT', 'a stream consumed already');
  t.is(((await t.throwsAsync(multi.system.addStream({ streamName: uniqueName('missing') }))) as KinesisClientError).code, 'STREAM_NOT_FOUND');
  t.is(((await t.throwsAsync(multi.system.addStream({ nope: 1 } as never))) as KinesisClientError).code, 'INVALID_ARGUMENT');
  t.is(((await t.throwsAsync(multi.system.removeStream('not-here'))) as KinesisClientError).code, 'INVALID_ARGUMENT');
  const single = await startRecordingSystem(t, aws, { stream: known, app: uniqueName('app') }, { lease: LEASE });
  t.is(((await t.throwsAsync(single.system.addStream({ streamName: known }))) as KinesisClientError).code, 'INVALID_ARGUMENT', 'single-stream mode');
});

test.serial('two streams x 4 shards, two worker processes: every record of both, in order per shard, 4 leases each, Java multi-stream rows', async (t) => {
  const streams = [uniqueName('ms-a'), uniqueName('ms-b')];
  for (const s of streams) await createStream(aws.kinesis, s, 4);
  const appName = uniqueName('app');
  const cluster = new Cluster(t, { streams, appName, clientOptions: aws.clientOptions, lease: { failoverMs: FAILOVER_MS }, retrieval: { idleMs: 250 } }, aws.leaseTable(appName));
  const producers = streams.map((s) => new CountingProducer(aws.kinesis, s, { keys: 64, perTick: 8, tickMs: 50 }));
  for (const p of producers) p.start();
  t.teardown(() => Promise.all(producers.map((p) => p.stop())).then(() => undefined));
  await cluster.start(['w1', 'w2']);
  const ms = await cluster.waitForBalance(['w1', 'w2'], 4, 90_000);
  t.log(`4/4 over 8 leases of 2 streams ${ms} ms after both were up`);

  const produced = await Promise.all(producers.map(async (p, i) => (await p.stop()).map((r) => ({ ...r, streamName: streams[i]! }))));
  const all = produced.flat();
  const handled = () => new Set(cluster.deliveries.flatMap((d) => d.sequenceNumbers.map((s) => `${d.streamName}/${d.shardId}/${s}`)));
  await eventually(async () => (all.every((r) => handled().has(`${r.streamName}/${r.shardId}/${r.sequenceNumber}`)) ? true : undefined), 60_000, 'every record of both streams');
  t.true(all.length > 0 && streams.every((s) => all.some((r) => r.streamName === s)), 'records in both streams');

  // per shard of each stream: every batch in order, and the first delivery of each record in order across batches and workers
  const byShard = new Map<string, string[]>();
  for (const d of [...cluster.deliveries].sort((a, b) => a.startedAt - b.startedAt)) {
    t.true(isAscending(d.sequenceNumbers), `a batch of ${d.streamName}/${d.shardId} in order`);
    const key = `${d.streamName}/${d.shardId}`;
    const seen = byShard.get(key) ?? [];
    for (const s of d.sequenceNumbers) if (!seen.includes(s)) seen.push(s);
    byShard.set(key, seen);
  }
  t.is(byShard.size, 8, 'all 8 shards delivered');
  for (const [key, seqs] of byShard) t.true(isAscending(seqs), `${key} in order`);

  const rows = await aws.leaseTable(appName).scan();
  const ids = await Promise.all(streams.map(identifierOf));
  t.deepEqual(rows.map((r) => r.leaseKey).sort(), ids.flatMap((id) => [0, 1, 2, 3].map((n) => `${id}:shardId-00000000000${n}`)).sort(), 'account:stream:epoch:shardId keys');
  const row = await rowOf(appName, `${ids[0]}:shardId-000000000002`);
  t.is(row?.streamName?.S, ids[0], 'the identifier in streamName, as DynamoDBMultiStreamLeaseSerializer writes it');
  t.is(row?.shardId?.S, 'shardId-000000000002');
  await cluster.stopAll();
});

test.serial('a stream added and one removed while running: the new one consumed, the removed one drained, checkpointed and released, rows kept unless asked', async (t) => {
  const [a, b] = [uniqueName('add-a'), uniqueName('add-b')];
  for (const s of [a, b]) await createStream(aws.kinesis, s, 2);
  const app = uniqueName('app');
  const run = await startRecordingSystem(t, aws, { stream: a, app }, { streams: [{ streamName: a }], lease: LEASE, retrieval: { idleMs: 100 } });
  const seen: string[] = [];
  run.system.events.on('stream:added', (e) => seen.push(`added ${e.streamName}`));
  run.system.events.on('stream:removed', (e) => seen.push(`removed ${e.streamName} ${e.leasesDeleted}`));
  const shardEvents = new Set<string>();
  run.system.events.on('lease:acquired', (e) => shardEvents.add(e.streamName));
  const withoutStream: string[] = [];
  run.system.events.on('*', (type, e) => {
    if (e && typeof e === 'object' && 'shardId' in e && !(e as { streamName?: string }).streamName) withoutStream.push(type);
  });
  const inA = await putRecords(aws.kinesis, a, jsonRecords(60));
  const has = (s: string, w: { shardId: string; sequenceNumber: string }) => run.deliveries.byStreamShard().get(`${s}/${w.shardId}`)?.includes(w.sequenceNumber);
  await run.deliveries.waitFor(() => inA.every((w) => has(a, w)), 30_000, 'every record of a');

  await run.system.addStream({ streamName: b });
  const inB = await putRecords(aws.kinesis, b, jsonRecords(60, { tag: 'b' }));
  await run.deliveries.waitFor(() => inB.every((w) => has(b, w)), 30_000, 'every record of b, added while running');
  t.deepEqual([...shardEvents].sort(), [a, b].sort(), 'lease events carry their stream');
  t.deepEqual((await run.system.status()).map((s) => s.streamName).sort(), [a, a, b, b].sort(), 'status entries carry their stream');

  await run.system.removeStream(a);
  const idA = await identifierOf(a);
  const rowsA = (await aws.leaseTable(app).scan()).filter((l) => l.leaseKey.startsWith(`${idA}:`));
  t.is(rowsA.length, 2, "the removed stream's rows stay");
  for (const shardId of SHARDS) {
    const last = inA.filter((w) => w.shardId === shardId).at(-1)!;
    const row = rowsA.find((l) => l.leaseKey === `${idA}:${shardId}`)!;
    t.is(row.leaseOwner, undefined, `${shardId} of the removed stream released`);
    t.is(row.checkpoint, last.sequenceNumber, `${shardId} of the removed stream checkpointed at its last record`);
  }
  t.deepEqual((await run.system.status()).map((s) => s.streamName), [b, b], 'only the remaining stream runs');

  await run.system.removeStream(b, { deleteLeases: true });
  const idB = await identifierOf(b);
  t.deepEqual((await aws.leaseTable(app).scan()).filter((l) => l.leaseKey.startsWith(`${idB}:`)), [], 'deleteLeases: its rows are gone');
  t.deepEqual(seen, [`added ${b}`, `removed ${a} false`, `removed ${b} true`]);
  t.deepEqual(withoutStream, [], 'every event of a shard carries its stream');
  t.deepEqual(run.errors, []);
});

test.serial('a table a Java multi-stream application wrote is resumed as it is, and left as that application reads it', async (t) => {
  const stream = uniqueName('java-ms');
  await createStream(aws.kinesis, stream, 2);
  const app = uniqueName('app');
  await createJavaTable(aws, app);
  const written = await putRecords(aws.kinesis, stream, jsonRecords(80));
  const id = await identifierOf(stream);
  const java = new JavaKclWorker(aws.dynamodb, app, 'java-ms');
  /** What the Java worker handled and checkpointed of each shard: the first half. */
  const javaHandled = new Map(SHARDS.map((s) => [s, written.filter((w) => w.shardId === s).slice(0, 20)] as const));
  for (const shardId of SHARDS) {
    // DynamoDBMultiStreamLeaseSerializer.toDynamoRecord: the lease's attributes, then streamName and shardId
    const item: Item = {
      leaseKey: { S: `${id}:${shardId}` },
      leaseCounter: { N: '7' },
      leaseOwner: { S: 'java-ms' },
      ownerSwitchesSinceCheckpoint: { N: '0' },
      checkpoint: { S: javaHandled.get(shardId)!.at(-1)!.sequenceNumber },
      checkpointSubSequenceNumber: { N: '0' },
      entityType: { S: 'LEASE' },
      streamName: { S: id },
      shardId: { S: shardId },
    };
    await java.put(item);
  }
  // the Java worker is gone: its leases expire after failoverMs and are taken
  const run = await startRecordingSystem(t, aws, { stream, app }, { streams: [{ streamName: stream }], lease: LEASE, retrieval: { idleMs: 100 } });
  const after = written.filter((w) => !javaHandled.get(w.shardId)!.includes(w));
  await run.deliveries.waitFor(() => after.every((w) => run.deliveries.byStreamShard().get(`${stream}/${w.shardId}`)?.includes(w.sequenceNumber)), 30_000, 'the records after the checkpoints');
  const delivered = new Set(run.deliveries.batches.flatMap((b) => b.sequenceNumbers));
  t.deepEqual([...javaHandled.values()].flat().filter((w) => delivered.has(w.sequenceNumber)), [], 'nothing the Java worker checkpointed is read again');
  await run.stop();

  const rows = await aws.leaseTable(app).scan();
  t.deepEqual(rows.map((r) => r.leaseKey).sort(), SHARDS.map((s) => `${id}:${s}`), 'the same rows, no others');
  for (const shardId of SHARDS) {
    const row = (await rowOf(app, `${id}:${shardId}`))!;
    t.is(row.streamName?.S, id);
    t.is(row.shardId?.S, shardId);
    t.is(row.checkpoint?.S, written.filter((w) => w.shardId === shardId).at(-1)!.sequenceNumber, 'checkpointed at the last record');
    t.is(row.leaseOwner, undefined, 'released');
    // the other way round: the Java worker takes it back with its own conditional write
    t.true(await java.take3x(`${id}:${shardId}`, Number(row.leaseCounter!.N)), 'a Java worker takes the lease back');
  }
});

test.serial('a stream deleted and recreated under its name is a new stream: the old rows are never taken or resumed', async (t) => {
  const stream = uniqueName('recreated');
  await createStream(aws.kinesis, stream, 1);
  const app = uniqueName('app');
  const options = { streams: [{ streamName: stream }], lease: LEASE, retrieval: { idleMs: 100 } };
  const first = await startRecordingSystem(t, aws, { stream, app }, options);
  const before = await putRecords(aws.kinesis, stream, jsonRecords(20));
  await first.deliveries.waitFor(() => before.every((w) => first.deliveries.byStreamShard().get(`${stream}/${w.shardId}`)?.includes(w.sequenceNumber)), 30_000, 'the first stream');
  await first.stop();
  const oldId = await identifierOf(stream);
  const oldRow = await rowOf(app, `${oldId}:${SHARDS[0]}`);
  t.is(oldRow?.checkpoint?.S, before.at(-1)!.sequenceNumber);

  await aws.kinesis.send(new DeleteStreamCommand({ StreamName: stream }));
  const gone = (error: unknown) => (error as Error)?.name === 'ResourceNotFoundException' || undefined;
  await eventually(async () => (await aws.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream })).then(() => undefined, gone)), 30_000, 'the stream gone');
  // the epoch is in seconds, and kinesalite dates a stream's creation 2 s back: the new stream must
  // be created at least a second after the old one's epoch plus those 2 s
  const oldEpoch = Number(oldId.split(':')[2]);
  while (Math.floor(Date.now() / 1000) <= oldEpoch + 3) await new Promise((r) => setTimeout(r, 100));
  await createStream(aws.kinesis, stream, 1);
  const newId = await identifierOf(stream);
  t.not(newId, oldId, 'another epoch');

  const second = await startRecordingSystem(t, aws, { stream, app }, options);
  const after = await putRecords(aws.kinesis, stream, jsonRecords(20, { tag: 'new' }));
  await second.deliveries.waitFor(() => after.every((w) => second.deliveries.byStreamShard().get(`${stream}/${w.shardId}`)?.includes(w.sequenceNumber)), 30_000, 'the new stream, from its start');
  await second.stop();
  t.deepEqual(await rowOf(app, `${oldId}:${SHARDS[0]}`), oldRow, 'the old row untouched: never taken, never resumed, never deleted');
  t.is((await rowOf(app, `${newId}:${SHARDS[0]}`))?.checkpoint?.S, after.at(-1)!.sequenceNumber, 'the new stream has its own row');
});

test.serial("resharding is per stream: a split of one stream's shard, its children read after it, the other stream untouched", async (t) => {
  const [a, b] = [uniqueName('split-a'), uniqueName('split-b')];
  for (const s of [a, b]) await createStream(aws.kinesis, s, 1);
  const app = uniqueName('app');
  const run = await startRecordingSystem(t, aws, { stream: a, app }, { streams: [{ streamName: a }, { streamName: b }], lease: LEASE, retrieval: { idleMs: 100 } });
  const before = await putRecords(aws.kinesis, a, jsonRecords(40));
  const inB = await putRecords(aws.kinesis, b, jsonRecords(40, { tag: 'b' }));
  await splitShard(aws.kinesis, a, SHARDS[0]!);
  const after = await putRecords(aws.kinesis, a, jsonRecords(40, { offset: 40 }));
  const has = (s: string, w: { shardId: string; sequenceNumber: string }) => run.deliveries.byStreamShard().get(`${s}/${w.shardId}`)?.includes(w.sequenceNumber);
  await run.deliveries.waitFor(() => [...before, ...after].every((w) => has(a, w)) && inB.every((w) => has(b, w)), 60_000, 'both streams, the split one through its children');
  const idA = await identifierOf(a);
  const idB = await identifierOf(b);
  const rows = await aws.leaseTable(app).scan();
  const children = rows.filter((l) => l.leaseKey.startsWith(`${idA}:`) && l.parentShardIds.includes(SHARDS[0]!));
  t.is(children.length, 2, "the split stream's children have leases naming their parent by shard id");
  t.is(rows.find((l) => l.leaseKey === `${idA}:${SHARDS[0]}`)?.checkpoint, 'SHARD_END');
  t.deepEqual(rows.filter((l) => l.leaseKey.startsWith(`${idB}:`)).map((l) => l.leaseKey), [`${idB}:${SHARDS[0]}`], 'the other stream: its one shard');
  // order across the split: every parent record handled before any child record
  const firstChild = Math.min(...run.deliveries.batches.filter((x) => x.streamName === a && x.shardId !== SHARDS[0]).map((x) => x.startedAt));
  const lastParent = Math.max(...run.deliveries.batches.filter((x) => x.streamName === a && x.shardId === SHARDS[0]).map((x) => x.endedAt));
  t.true(lastParent <= firstChild, 'no child record before the parent is done');
});
