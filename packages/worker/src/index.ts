/**
 * `@kinesis-client/worker`: what an application's own code imports from this package. A consumer
 * module's API (as `@kinesis-client/worker/consumer`, and as light: no AWS SDK, no actor runtime)
 * and the KPL aggregation helpers. Everything else in the package serves `@kinesis-client/core`
 * through subpaths that carry no stability promise:
 *
 * - `/lease`    the LeaseStore boundary in domain terms, its DynamoDB and in-memory adapters
 * - `/actor`    the mailbox runtime, supervisors and clocks
 * - `/internal` the cross-thread protocol, the thread entries, SDK clients, call faults, positions
 */
export { ErrorCodes, KinesisClientError, defineConsumer, isKinesisClientError } from './consumer.js';
export type { BatchInfo, Consumer, ConsumerContext, ErrorCode, Message } from './consumer.js';
export { aggregate, deaggregate } from './kpl/aggregation.js';
export type { UserRecord } from './kpl/aggregation.js';
