// The least a reader in a new thread must do before its first GetRecords (the drain benchmark's
// "fresh-thread floor"): this thread starts, loads the Kinesis client alone, the way the shard
// hosts load it (require from the worker package: no lease store, no runtime), asks one shard for
// an iterator, and tells the main thread when it has it, on the clock every thread of the process
// shares.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.resolve('@kinesis-client/worker/internal'));
const { GetShardIteratorCommand, KinesisClient } = require('@aws-sdk/client-kinesis');
const { NodeHttpHandler } = require('@smithy/node-http-handler');

const { clientConfig, streamName, shardId } = workerData;
// HTTP/1.1, as the shard hosts' polling client: the Kinesis client's default is HTTP/2
const kinesis = new KinesisClient({ ...clientConfig, requestHandler: new NodeHttpHandler() });
await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }));
parentPort.postMessage({ at: performance.timeOrigin + performance.now() });
kinesis.destroy();
