/**
 * @kinesis-client/examples/testing: local services and processes for the tests, the demo and the
 * benchmarks, one copy of each.
 *
 * It lives in the examples package because that package is private, already depends on the
 * emulators (kinesalite, dynalite, kinesis-local) and on core and worker, and holds the demo and
 * benchmarks that use it; a fourth package would widen what the repository publishes. The core
 * tests reach it as a package (the workspace root declares it as a devDependency, beside ava and
 * tsx, which the tests also resolve from there), through this `exports` subpath and never through
 * `dist/` paths; as a devDependency of core it would make core and examples depend on each other.
 *
 * Services: `start<Service>()` for scripts, `with<Service>(test)` for one test file (see
 * service.ts; a new service is one file beside kinesalite.ts). What one test starts is tied to its
 * `t` instead: `startSystem(spec, t)` is stopped and `new WorkerCluster(options, t)` killed when
 * the test ends, so a test body needs no try/finally for them.
 */
export { ExitedDuringStartup } from './child.js';
export { WorkerCluster, type ClusterOptions, type StopOptions } from './cluster.js';
export { CountingProducer, type CountingProducerOptions, type Produced } from './counting-producer.js';
export { startDynalite, withDynalite } from './dynalite.js';
export type { LocalEndpoint } from './emulator.js';
export { startKinesalite, withKinesalite, type KinesaliteOptions } from './kinesalite.js';
export { startKinesisMock, withKinesisMock, type KinesisMock } from './kinesis-mock.js';
export { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalAws, withLocalAws, type LocalAws, type LocalAwsOptions } from './local-aws.js';
export { formatShardGraph, mergeShards, openShards, shortShardId, splitShard, waitForActive } from './reshard.js';
export { onlyOnce, withService, type Service } from './service.js';
export { freePort } from './free-port.js';
export { postgresBin, startLocalPostgres, withPostgres, type LocalPostgres } from './postgres.js';
export { startLocalRedis, withRedis, type LocalRedis } from './redis.js';
export { createStream, putRecords, uniqueName } from './streams.js';
export { startSystem, type SystemRun, type SystemSpec } from './system.js';
export { listenEvents, type SseClient, type SseFrame } from './sse.js';
