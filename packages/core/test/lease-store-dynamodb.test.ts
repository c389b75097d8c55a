/**
 * The lease-store contract (helpers/lease-store-contract.ts) against the DynamoDB adapter on
 * dynalite, plus what only DynamoDB can hold: rows written by something else that are no lease.
 */
import test from 'ava';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
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
