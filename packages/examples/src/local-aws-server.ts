/**
 * Child process that serves kinesalite (Kinesis) and dynalite (DynamoDB) on ephemeral loopback
 * ports. It reports the ports over IPC and exits when its parent goes away, so a killed test
 * run never leaves servers behind.
 */
import { createRequire } from 'node:module';
import type { AddressInfo, Server } from 'node:net';

const require = createRequire(import.meta.url);
const kinesalite = require('kinesalite') as (options: Record<string, unknown>) => Server;
const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;

const shardLimit = Number(process.env.LOCAL_AWS_SHARD_LIMIT ?? 200);

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

const kinesis = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit });
const dynamodb = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
const [kinesisPort, dynamodbPort] = await Promise.all([listen(kinesis), listen(dynamodb)]);

if (process.send) {
  process.send({ kinesisPort, dynamodbPort });
  process.on('disconnect', () => process.exit(0));
} else {
  console.log(`kinesis  http://127.0.0.1:${kinesisPort}\ndynamodb http://127.0.0.1:${dynamodbPort}`);
}
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
