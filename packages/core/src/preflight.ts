import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { KinesisClientError, isKinesisClientError } from '@kinesis-client/worker';
import type { LeaseStore } from '@kinesis-client/worker/lease';
import type { ConsumerCapabilities } from '@kinesis-client/worker/internal';
import type { ConsumerPool } from './consumer-pool.js';
import type { ResolvedOptions } from './options.js';
import { ensureStreamConsumer } from './stream-consumer.js';

/** Resolves to the stream's ARN. */
async function checkStream(kinesis: KinesisClient, streamName: string): Promise<string> {
  try {
    const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    return out.StreamDescriptionSummary!.StreamARN!;
  } catch (error) {
    if ((error as { name?: string })?.name === 'ResourceNotFoundException') {
      throw new KinesisClientError('STREAM_NOT_FOUND', `stream "${streamName}" does not exist`, { cause: error, details: { streamName } });
    }
    throw new KinesisClientError('AWS_CALL_FAILED', `DescribeStreamSummary for "${streamName}" failed: ${(error as Error)?.message}`, { cause: error });
  }
}

export interface Preflight {
  capabilities: ConsumerCapabilities;
  /** With `retrieval.mode: 'fanout'`: the registered stream consumer. */
  consumerArn: string | undefined;
}

/**
 * Everything that must be right before a thread starts, so a bad start rejects createSystem with
 * its own code: the stream exists, the consumer module loads (checked in parallel), the fan-out
 * consumer is registered, and the lease table exists, created last so a bad start leaves none behind.
 */
export async function preflight(options: ResolvedOptions, kinesis: KinesisClient, pool: ConsumerPool, leases: LeaseStore): Promise<Preflight> {
  const [stream, consumer] = await Promise.allSettled([checkStream(kinesis, options.streamName), pool.describe()]);
  if (stream.status === 'rejected') throw stream.reason;
  if (consumer.status === 'rejected') throw consumer.reason;
  const { retrieval } = options;
  const consumerArn = retrieval.mode === 'fanout' ? await ensureStreamConsumer(kinesis, stream.value, retrieval.consumerName) : undefined;
  await leases.ensure().catch((error: unknown) => {
    // a store's own start-up codes (unreachable, wrong credentials, wrong shape) say what to fix
    if (isKinesisClientError(error)) throw error;
    throw new KinesisClientError('LEASE_TABLE_FAILED', `lease table "${options.tableName}": ${(error as Error)?.message}`, { cause: error });
  });
  return { capabilities: consumer.value, consumerArn };
}
