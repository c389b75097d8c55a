import { createSystem } from '@kinesis-client/core';

/** The benchmarks' system: a no-op consumer on the local services, defaults unless `extra` says otherwise. */
export const benchSystem = (aws, streamName, extra = {}) =>
  createSystem({
    streamName,
    appName: `${streamName}-app`,
    consumer: new URL('./noop-consumer.mjs', import.meta.url),
    ...aws.clientOptions,
    ...extra,
  });
