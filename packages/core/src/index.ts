export { createSystem } from './create-system.js';
export type { System } from './create-system.js';
export type { SystemEvents } from './events.js';
export type { SystemOptions } from './options.js';
export type { CallFault, Faults } from './faults.js';
export type { Inspection, ShardView } from './inspect.js';
export { ErrorCodes, KinesisClientError, isKinesisClientError } from '@kinesis-client/worker';
export type { CallFaultRule, ErrorCode, ShardActorRole, ShardStatus, SupervisionNode, ThreadDeath } from '@kinesis-client/worker';
