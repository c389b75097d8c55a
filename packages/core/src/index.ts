export { createSystem } from './create-system.js';
export type { System } from './create-system.js';
export type { SystemEvents } from './events.js';
export type { SystemOptions } from './options.js';
export { ErrorCodes, KinesisClientError, isKinesisClientError } from '@kinesis-client/worker';
export type { ErrorCode, ShardStatus } from '@kinesis-client/worker';
