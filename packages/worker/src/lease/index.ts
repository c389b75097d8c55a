/**
 * `@kinesis-client/worker/lease`: the lease store boundary. The coordinator and the shard actors
 * speak LeaseStore in domain terms; DynamoDB (the Java KCL's table layout) and memory are its
 * adapters. No stability promise yet: a later issue adds adapters against this interface.
 */
export { SHARD_END, START_SENTINELS, STORE_COMMANDS, handingTo, holderOf, leaseAddress } from './lease.js';
export type { LeaseSnapshot, LeaseStore, NewLease, UnreadableRow } from './lease.js';
export { LeaseTable } from './lease-table.js';
export { LEASE_OWNER_INDEX, leaseRowProblem, notALease } from './lease-item.js';
export { MemoryLeaseStore } from './memory-lease-store.js';
// the PostgreSQL and Redis adapters load only through openLeaseStore, so their clients stay unloaded unless used
export { openLeaseStore } from './open-lease-store.js';
export type { OpenStoreOptions, OpenedStore } from './open-lease-store.js';
export { memoryLeaseStore } from './shared-memory-store.js';
export { redactUrls, redactor, safeUrl, storeTarget } from './store-config.js';
export type { StoreConfig, StoreType } from './store-config.js';
