/**
 * The lease-store contract (helpers/lease-store-contract.ts) against the DynamoDB adapter on
 * dynalite, plus what only DynamoDB can hold: rows written by something else that are no lease,
 * rows of the Java KCL 3.x that are not leases, and its GSI on leaseOwner.
 */
import test from 'ava';
import { DescribeTableCommand, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { LeaseTable, SHARD_END, STORE_COMMANDS } from '@kinesis-client/worker/lease';
import { createDynamoDBClient } from '@kinesis-client/worker/internal';
import { leaseStoreContract } from './helpers/lease-store-contract.js';

const aws = withLocalAws(test);

leaseStoreContract(test, 'dynamodb', () => aws.leaseTable(uniqueName('contract')));

test('dynamodb lease store: an unreadable row is reported by scanRows, left out of scan, and never taken', async (t) => {
  const name = uniqueName('contract');
  const store = aws.leaseTable(name);
  await store.ensure();
  await store.create({ leaseKey: 'good', checkpoint: 'TRIM_HORIZON', parentShardIds: [] });
  await aws.dynamodb.send(new PutItemCommand({ TableName: name, Item: { leaseKey: { S: 'bad' }, leaseCounter: { S: 'x' }, checkpoint: { S: 'TRIM_HORIZON' } } }));
  const { leases, unreadable } = await store.scanRows();
  t.deepEqual(leases.map((l) => l.leaseKey), ['good']);
  t.like(unreadable, [{ leaseKey: 'bad', reason: 'leaseCounter is not a number' }]);
  t.deepEqual((await store.scan()).map((l) => l.leaseKey), ['good']);
  const seen = { ...leases[0]!, leaseKey: 'bad' };
  t.false(await store.take(seen, 'worker-a'), 'a take on the counter can never hold');
});

test('dynamodb lease store: each operation first sends the command STORE_COMMANDS names, which failCalls matches on every store', async (t) => {
  const client = createDynamoDBClient({ ...aws.clientOptions.dynamodb, region: aws.clientOptions.region });
  const sent: string[] = [];
  client.middlewareStack.add((next, context) => (args) => (sent.push(String(context.commandName).replace(/Command$/, '')), next(args)), { step: 'initialize' });
  const store = new LeaseTable(client, uniqueName('commands'));
  const first = async (run: () => Promise<unknown>) => {
    sent.length = 0;
    await run();
    return sent[0];
  };
  const lease = { leaseKey: 's', checkpoint: 'TRIM_HORIZON', parentShardIds: [] };
  const seen: Record<string, string | undefined> = {};
  seen.ensure = await first(() => store.ensure());
  seen.create = await first(() => store.create(lease));
  seen.get = await first(() => store.get('s'));
  seen.scan = await first(() => store.scan());
  seen.scanRows = await first(() => store.scanRows());
  const snapshot = (await store.get('s'))!;
  seen.take = await first(() => store.take(snapshot, 'a'));
  seen.renew = await first(() => store.renew('s', 1, 'a'));
  seen.checkpoint = await first(() => store.checkpoint('s', 2, 'a', '1', 0));
  seen.addChildShardIds = await first(() => store.addChildShardIds('s', ['c']));
  seen.initiateHandoff = await first(() => store.initiateHandoff('s', 'a', 'b'));
  seen.cancelHandoff = await first(() => store.cancelHandoff('s', 'a', 'b'));
  seen.completeHandoff = await first(() => store.completeHandoff('s', 'a', 'b'));
  seen.release = await first(() => store.release('s', 'a'));
  seen.deleteFinished = await first(() => store.deleteFinished('s'));
  seen.deleteReleased = await first(() => store.deleteReleased('s'));
  client.destroy();
  t.deepEqual(seen, { ...STORE_COMMANDS });
});

test('dynamodb lease store: rows that are not leases (another entityType) are skipped by scans and never written, whatever key a call names', async (t) => {
  const name = uniqueName('contract');
  const store = aws.leaseTable(name);
  await store.ensure();
  await store.create({ leaseKey: 's', checkpoint: 'TRIM_HORIZON', parentShardIds: [] });
  // shapes of the Java KCL 3.5's own rows (java3.test.ts has them all); even one carrying lease attributes is not a lease
  const rows = [
    { leaseKey: { S: 'Leader' }, entityType: { S: 'LEADER' }, ownerName: { S: 'w' }, leaseDuration: { S: '10000' }, recordVersionNumber: { S: 'v1' } },
    { leaseKey: { S: 'w' }, entityType: { S: 'WORKER_METRIC_STATS' }, lut: { N: '1' }, leaseOwner: { S: 'a' }, leaseCounter: { N: '1' }, checkpoint: { S: SHARD_END } },
  ];
  for (const Item of rows) await aws.dynamodb.send(new PutItemCommand({ TableName: name, Item }));
  const read = () => Promise.all(rows.map(async (r) => (await aws.dynamodb.send(new GetItemCommand({ TableName: name, Key: { leaseKey: r.leaseKey }, ConsistentRead: true }))).Item));
  const before = JSON.stringify(await read());
  const { leases, unreadable } = await store.scanRows();
  t.deepEqual([leases.map((l) => l.leaseKey), unreadable], [['s'], []]);
  for (const key of ['Leader', 'w']) {
    t.is(await store.get(key), undefined);
    const seen = { ...leases[0]!, leaseKey: key, leaseOwner: 'a', leaseCounter: 1 };
    const writes = [
      store.take(seen, 'b'),
      store.renew(key, 1, 'a'),
      store.checkpoint(key, 1, 'a', '1', 0),
      store.addChildShardIds(key, ['c']),
      store.release(key, 'a'),
      store.initiateHandoff(key, 'a', 'b'),
      store.completeHandoff(key, 'a', 'b'),
      store.cancelHandoff(key, 'a', 'b'),
      store.deleteFinished(key),
    ];
    t.deepEqual(await Promise.all(writes), writes.map(() => false), key);
  }
  t.is(JSON.stringify(await read()), before, 'byte for byte as written');
});

test('dynamodb lease store: a table it creates has the Java KCL 3.x GSI on leaseOwner (keys only), and it answers queries', async (t) => {
  const name = uniqueName('contract');
  const store = aws.leaseTable(name);
  await store.ensure();
  const { Table } = await aws.dynamodb.send(new DescribeTableCommand({ TableName: name }));
  t.like(Table?.GlobalSecondaryIndexes?.[0], {
    IndexName: 'LeaseOwnerToLeaseKeyIndex',
    KeySchema: [
      { AttributeName: 'leaseOwner', KeyType: 'HASH' },
      { AttributeName: 'leaseKey', KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'KEYS_ONLY' },
  });
  for (const key of ['s1', 's2', 's3']) await store.create({ leaseKey: key, checkpoint: 'TRIM_HORIZON', parentShardIds: [] });
  for (const key of ['s1', 's3']) t.true(await store.take((await store.get(key))!, 'a'));
  const { Items } = await aws.dynamodb.send(
    new QueryCommand({ TableName: name, IndexName: 'LeaseOwnerToLeaseKeyIndex', KeyConditionExpression: 'leaseOwner = :o', ExpressionAttributeValues: { ':o': { S: 'a' } } }),
  );
  t.deepEqual(Items?.map((i) => i.leaseKey?.S).sort(), ['s1', 's3'], 'the leases of worker a, as the Java KCL 3.x lists them');
});
