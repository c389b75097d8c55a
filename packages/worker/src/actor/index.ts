/**
 * `@kinesis-client/worker/actor`: the mailbox runtime and the supervisors, for the main thread's
 * own tree (root, shard hosts, coordinator); clocks, so tests can drive time. No stability promise.
 */
export { ActorRuntime } from './runtime.js';
export type { ActorContext, Behavior, ExitReason } from './runtime.js';
export { Supervisor } from './supervisor.js';
export type { ChildSpec, ChildState, SupervisorEvent } from './supervisor.js';
export { ManualClock, systemClock } from '../clock.js';
