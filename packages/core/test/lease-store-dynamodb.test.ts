/**
 * The lease-store contract (helpers/lease-store-contract.ts) against the DynamoDB adapter on
 * dynalite, plus what only DynamoDB can hold: rows written by something else that are no lease.
 */
import test from 'ava';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { LeaseTable, STORE_COMMANDS } from '@kinesis-client/worker/lease';
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
  client.destroy();
  t.deepEqual(seen, { ...STORE_COMMANDS });
});
