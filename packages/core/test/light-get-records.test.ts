import test from 'ava';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { createKinesisClient, readGetRecordsLightly, recordPage, scanGetRecords, unpackRecords, warmUpScan } from '@kinesis-client/worker/internal';
import { createStream, putRecords, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';

const aws = withLocalAws(test);

const clientOf = (light: boolean) => {
  const client = createKinesisClient({ region: aws.clientOptions.region, ...aws.clientOptions.kinesis });
  return light ? readGetRecordsLightly(client) : client;
};

async function firstPage(client: KinesisClient, stream: string, limit = 10_000) {
  const { Shards } = await client.send(new ListShardsCommand({ StreamName: stream }));
  const { ShardIterator } = await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: Shards![0]!.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
  return client.send(new GetRecordsCommand({ ShardIterator, Limit: limit }));
}

test.serial("GetRecords read lightly gives what the SDK's own reading gives, field for field and byte for byte", async (t) => {
  const stream = uniqueName('light');
  await createStream(aws.kinesis, stream, 1);
  const payloads = [new Uint8Array([0]), new Uint8Array([0xff, 0xfe, 0x00, 0x80]), new TextEncoder().encode('{"ü":"ß ✓"}'), new Uint8Array(1_000).fill(7)];
  for (let i = 0; i < 50; i++) payloads.push(new Uint8Array(Array.from({ length: i + 1 }, (_, j) => (i * 31 + j) % 256)));
  await putRecords(aws.kinesis, stream, payloads.map((Data, i) => ({ Data, PartitionKey: i % 2 ? `ключ-${i} "quoted" \\ ✓` : `k${i}` })));
  const sdk = clientOf(false);
  const light = clientOf(true);
  try {
    const [a, b] = [await firstPage(sdk, stream), await firstPage(light, stream)];
    t.is(b.Records!.length, payloads.length);
    // every field the SDK's reading has, as it has it (its own iterator string aside, which differs per call)
    const plain = (o: typeof a) => ({
      ...Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'Records' && k !== '$metadata' && k !== 'NextShardIterator')),
      NextShardIterator: typeof o.NextShardIterator,
      $metadata: { httpStatusCode: o.$metadata.httpStatusCode },
      Records: o.Records!.map((r) => ({ ...r, Data: [...r.Data!] })),
    });
    t.deepEqual(plain(b), plain(a));
    t.true(b.Records!.every((r) => r.ApproximateArrivalTimestamp instanceof Date));
    t.deepEqual(b.Records!.map((r) => [...r.Data!]), payloads.map((p) => [...p]));
    const messages = unpackRecords(structuredClone(recordPage(b)), 'shard', stream);
    t.deepEqual(
      messages.map((m) => [[...m.data], m.partitionKey, m.sequenceNumber, m.approximateArrivalTimestamp.getTime()]),
      a.Records!.map((r) => [[...r.Data!], r.PartitionKey, r.SequenceNumber, r.ApproximateArrivalTimestamp!.getTime()]),
      'the page the readers take holds the same records',
    );
  } finally {
    sdk.destroy();
    light.destroy();
  }
});

test.serial("errors and what is not a GetRecords answer stay the SDK's: names and $metadata", async (t) => {
  const light = clientOf(true);
  try {
    const expired = await light.send(new GetRecordsCommand({ ShardIterator: 'AAAAAAAAAAE' + 'x'.repeat(200), Limit: 10 })).catch((e: unknown) => e as Error & { $metadata?: unknown });
    t.is((expired as Error).name, 'InvalidArgumentException');
    t.truthy((expired as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode);
  } finally {
    light.destroy();
  }
  const scan = (json: string) => scanGetRecords(Buffer.from(json));
  t.is(scan('not json'), undefined);
  t.is(scan('{"Records":[{"Data":"%%%","PartitionKey":"k","SequenceNumber":"1"}]}'), undefined, 'a payload that is not base64');
  t.is(scan('{"Records":[{"Data":"QUJD\\/","PartitionKey":"k","SequenceNumber":"1"}]}'), undefined, 'an escape inside a payload');
  t.is(scan('{"Records":[{"Data":"QUJD","SequenceNumber":"1"}]}'), undefined, 'a record without a partition key');
  t.is(scan('{"Records":[{"Data":"QUJD","PartitionKey":"k","SequenceNumber":"1x"}]}'), undefined, 'a sequence number that is not digits');
  t.is(scan('{"Records":{}}'), undefined);
  t.is(scan('{"NextShardIterator":"x"}'), undefined, 'no Records at all');
  t.is(scan('{"Records":[{"Data":"QUJD","PartitionKey":"k","SequenceNumber":"1"}'), undefined, 'cut short');
  const empty = scan('{"Records":[],"NextShardIterator":null,"MillisBehindLatest":0}')!;
  t.is(empty.page.count, 0);
  t.deepEqual(empty.fields, { NextShardIterator: null, MillisBehindLatest: 0 });
  // any key order, whitespace, escapes in partition keys, unknown fields, nested values
  const odd = scan(
    ' { "MillisBehindLatest" : 5 , "Records" : [ { "SequenceNumber" : "42", "EncryptionType":"NONE", "Extra": {"a":[1,"]}"]}, ' +
      '"ApproximateArrivalTimestamp" : 1700000000.1234 , "PartitionKey" : "a\\"b\\u00fc\\\\" , "Data" : "QUJD" } , ' +
      '{"Data":"","PartitionKey":"","SequenceNumber":"43"} ] , "ChildShards" : [ {"ShardId":"s-1","ParentShards":["s-0"]} ] }',
  )!;
  t.truthy(odd, 'scanned');
  const [first, second] = unpackRecords(odd.page, 'shard', 'stream');
  t.deepEqual([new TextDecoder().decode(first!.data), first!.partitionKey, first!.sequenceNumber, first!.approximateArrivalTimestamp.getTime()], [
    'ABC',
    'a"bü\\',
    '42',
    Math.round(1700000000.1234 * 1000),
  ]);
  t.deepEqual([second!.data.byteLength, second!.partitionKey, second!.sequenceNumber], [0, '', '43']);
  // timestamps as Kinesis writes them, read to the same millisecond as Number() then Math.round
  for (const written of ['1.59877426762E9', '1733486400.5555', '1.7e9', '17334864001234e-4', '1733486400', '0.0001e13']) {
    const scanned = scan(`{"Records":[{"Data":"","PartitionKey":"k","SequenceNumber":"1","ApproximateArrivalTimestamp":${written}}]}`)!;
    t.is(scanned.page.arrivals[0], Math.round(Number(written) * 1000), written);
  }
  t.deepEqual(odd.fields, { MillisBehindLatest: 5, ChildShards: [{ ShardId: 's-1', ParentShards: ['s-0'] }] });
});

test("a shard-host thread's warm-up answer is one the scan reads, so it warms the scan rather than the SDK's reading", async (t) => {
  t.is(await warmUpScan(3, 20), 60);
});
