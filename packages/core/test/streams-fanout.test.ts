/**
 * Enhanced fan-out with several streams (`streams` + `retrieval.mode: 'fanout'`), on kinesis-mock:
 * each stream gets its own registered consumer of the one name, at start and by addStream, and
 * each shard subscribes through its own stream's consumer. The streams' shards have the same ids,
 * so a shard subscribed through another stream's consumer would deliver that stream's records
 * under its own name: the per-stream deliveries below would not match.
 */
import test from 'ava';
import { createStream, putRecords, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { FANOUT_QUICK, streamConsumers } from './helpers/fanout.js';
import { isAscending, jsonRecords, sortedSeqs, startRecordingSystem } from './helpers/recording.js';

// kinesis-mock is about 20x slower than kinesalite: few records
const aws = withLocalAws(test, { kinesis: 'kinesis-mock' });

const consumersOf = async (stream: string) =>
  (await streamConsumers(aws, stream)).map((c) => ({ name: c.ConsumerName, status: c.ConsumerStatus, arn: c.ConsumerARN, stream: c.streamArn }));

/** Sequence numbers put, by `stream/shardId`, in order. */
function byStreamShard(stream: string, put: readonly { shardId: string; sequenceNumber: string }[], into = new Map<string, string[]>()) {
  for (const r of put) into.set(`${stream}/${r.shardId}`, [...(into.get(`${stream}/${r.shardId}`) ?? []), r.sequenceNumber]);
  for (const [k, v] of into) into.set(k, sortedSeqs(v));
  return into;
}

test.serial("two streams through fan-out: a consumer registered on each, each shard read through its own stream's, and one added while running", async (t) => {
  const [a, b, c] = [uniqueName('efo-a'), uniqueName('efo-b'), uniqueName('efo-c')];
  for (const s of [a, b, c]) await createStream(aws.kinesis, s, 2);
  const app = uniqueName('app');
  const retrieval = { mode: 'fanout', consumerName: 'billing', ...aws.fanout } as const;
  const run = await startRecordingSystem(t, aws, { stream: a, app }, { ...FANOUT_QUICK, streams: [{ streamName: a }, { streamName: b }], retrieval });
  // any GetRecords would fail and be counted: fan-out must not poll
  const polls = await run.system.faults.failCalls({ command: 'GetRecords', error: 'InternalFailureException', times: 1_000 });

  const registered = [...(await consumersOf(a)), ...(await consumersOf(b))];
  t.deepEqual(
    registered.map(({ name, status }) => ({ name, status })),
    [
      { name: 'billing', status: 'ACTIVE' },
      { name: 'billing', status: 'ACTIVE' },
    ],
    'one consumer of the name on each stream',
  );
  t.true(registered[0]!.arn!.startsWith(`${registered[0]!.stream}/consumer/`) && registered[1]!.arn!.startsWith(`${registered[1]!.stream}/consumer/`), 'each on its own stream');
  t.is(run.system.consumerArn, registered[0]!.arn, "consumerArn is the first stream's");

  const expected = byStreamShard(a, await putRecords(aws.kinesis, a, jsonRecords(40, { tag: 'a' })));
  byStreamShard(b, await putRecords(aws.kinesis, b, jsonRecords(40, { tag: 'b' })), expected);
  t.is(expected.size, 4, 'records in both shards of both streams');
  await run.deliveries.waitFor(() => run.deliveries.count >= 80, 60_000, 'every record of a and b');

  await run.system.addStream({ streamName: c });
  t.deepEqual((await consumersOf(c)).map(({ name, status }) => ({ name, status })), [{ name: 'billing', status: 'ACTIVE' }], 'addStream registers it on the new stream');
  byStreamShard(c, await putRecords(aws.kinesis, c, jsonRecords(40, { tag: 'c' })), expected);
  await run.deliveries.waitFor(() => run.deliveries.count >= 120, 60_000, 'every record of c, added while running');

  const status = await run.system.status();
  t.is(status.length, 6);
  for (const s of status) t.true((s.subscriptions ?? 0) >= 1, `${s.streamName}/${s.shardId} was read through a subscription`);
  await run.stop();
  t.is(polls.remaining, 1_000, 'no GetRecords call was made');

  const tags = { [a]: 'a', [b]: 'b', [c]: 'c' };
  const foreign = run.deliveries.batches.flatMap((batch) => batch.bodies.filter((body) => JSON.parse(body).tag !== tags[batch.streamName]).map((body) => `${batch.streamName}: ${body}`));
  t.deepEqual(foreign, [], "no stream's shard delivered another stream's records");
  const delivered = run.deliveries.byStreamShard();
  for (const [key, seqs] of expected) {
    t.true(isAscending(delivered.get(key) ?? []), `${key} in sequence order`);
    t.deepEqual(delivered.get(key), seqs, `${key}: exactly what was put to that stream, once`);
  }
  t.deepEqual(run.errors, []);
});
