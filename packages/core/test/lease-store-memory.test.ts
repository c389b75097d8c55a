/**
 * The lease-store contract (helpers/lease-store-contract.ts) against the in-memory adapter, and
 * against the same store reached the way a shard-host thread reaches it (over a
 * BroadcastChannel to the main thread's store): the conditions must hold across threads too.
 */
import test from 'ava';
import { MemoryLeaseStore, openLeaseStore } from '@kinesis-client/worker/lease';
import { uniqueName } from '@kinesis-client/examples/testing';
import { leaseStoreContract } from './helpers/lease-store-contract.js';

leaseStoreContract(test, 'memory', () => new MemoryLeaseStore());

leaseStoreContract(test, 'memory (from a thread)', async () => {
  const name = uniqueName('memory');
  await openLeaseStore({ type: 'memory', name }, { dynamodb: {}, timeoutMs: 5_000, side: 'main' });
  return (await openLeaseStore({ type: 'memory', name }, { dynamodb: {}, timeoutMs: 5_000, side: 'thread' })).store;
});
