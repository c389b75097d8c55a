/** The lease-store contract (helpers/lease-store-contract.ts) against the in-memory adapter: no service needed. */
import test from 'ava';
import { MemoryLeaseStore } from '@kinesis-client/worker/lease';
import { leaseStoreContract } from './helpers/lease-store-contract.js';

leaseStoreContract(test, 'memory', () => new MemoryLeaseStore());
