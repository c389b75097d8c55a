import type { ConsumerCapabilities, HostConfig } from '@kinesis-client/worker/internal';
import type { ResolvedOptions } from './options.js';

/** What a shard-host thread is told at start: the options it needs, under the names the user gave them. */
export function hostConfig(options: ResolvedOptions, index: number, consumer: ConsumerCapabilities, consumerArn: string | undefined): HostConfig {
  const { initialPosition: p, retrieval: r, batchers } = options;
  return {
    hostIndex: index,
    workerId: options.workerId,
    streamName: options.streamName,
    tableName: options.tableName,
    store: options.store,
    kinesis: options.kinesis,
    dynamodb: options.dynamodb,
    initialTimestamp: typeof p === 'object' ? p.timestamp.getTime() : undefined,
    lease: {
      failoverMs: options.lease.failoverMs,
      renewIntervalMs: options.lease.renewIntervalMs,
      checkpointIntervalMs: options.lease.checkpointIntervalMs,
      safetyMarginMs: options.lease.safetyMarginMs,
    },
    callTimeouts: options.callTimeouts,
    // timeoutMs is the pool's, on the main thread
    batchers: { batchSize: batchers.batchSize, maxAttempts: batchers.maxAttempts, backoff: batchers.backoff },
    supervision: { shard: options.supervision.shard },
    consumer,
    retrieval:
      r.mode === 'polling'
        ? r
        : {
            mode: 'fanout',
            consumerArn: consumerArn!,
            endpoint: r.endpoint,
            tls: r.tls,
            watchdogMs: r.watchdogMs,
            subscriptionMs: r.subscriptionMs,
            maxBufferedRecords: r.maxBufferedRecords,
            maxBufferedBytes: r.maxBufferedBytes,
          },
  };
}
