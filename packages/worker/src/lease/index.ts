/**
 * `@kinesis-client/worker/lease`: the lease store boundary. The coordinator and the shard actors
 * speak LeaseStore in domain terms; DynamoDB (the Java KCL's table layout) and memory are its
 * adapters. No stability promise yet: a later issue adds adapters against this interface.
 */
export { SHARD_END, START_SENTINELS, leaseAddress } from './lease.js';
export type { LeaseSnapshot, LeaseStore, NewLease, UnreadableRow } from './lease.js';
export { LeaseTable, leaseRowProblem } from './lease-table.js';
export { MemoryLeaseStore } from './memory-lease-store.js';
