import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { KinesisClientError, isKinesisClientError } from '@kinesis-client/worker';
import type { LeaseStore } from '@kinesis-client/worker/lease';
import type { ConsumerCapabilities } from '@kinesis-client/worker/internal';
import type { ConsumerPool } from './consumer-pool.js';
import type { ResolvedOptions } from './options.js';
import { withStreamConsumer } from './stream-consumer.js';
import { describeStream, type StreamUnit } from './stream-unit.js';

export interface Preflight {
  capabilities: ConsumerCapabilities;
  /** Each stream at start, in the order of the options (with fan-out, each with its consumer). */
  streams: StreamUnit[];
}

/**
 * Everything that must be right before a thread starts, so a bad start rejects createSystem with
 * its own code: every stream exists, the consumer module loads (checked in parallel), the fan-out
 * consumer is registered on every stream, and the lease table exists, created last so a bad start
 * leaves none behind.
 */
export async function preflight(options: ResolvedOptions, kinesis: KinesisClient, pool: ConsumerPool, leases: LeaseStore): Promise<Preflight> {
  const [streams, consumer] = await Promise.allSettled([Promise.all(options.streams.map((s) => describeStream(kinesis, s, options.multiStream))), pool.describe()]);
  if (streams.status === 'rejected') throw streams.reason;
  if (consumer.status === 'rejected') throw consumer.reason;
  const units = await Promise.all(streams.value.map((unit) => withStreamConsumer(kinesis, unit, options.retrieval)));
  await leases.ensure().catch((error: unknown) => {
    // a store's own start-up codes (unreachable, wrong credentials, wrong shape) say what to fix
    if (isKinesisClientError(error)) throw error;
    throw new KinesisClientError('LEASE_TABLE_FAILED', `lease table "${options.tableName}": ${(error as Error)?.message}`, { cause: error });
  });
  return { capabilities: consumer.value, streams: units };
}
