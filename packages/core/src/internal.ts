/** `@kinesis-client/core/internal`: what the examples and the benches use that is not API. No stability promise. */
export { listAllShards } from './shard-graph.js';
