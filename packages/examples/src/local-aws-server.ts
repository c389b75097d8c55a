/**
 * Child process that serves kinesalite (Kinesis) or dynalite (DynamoDB), as argv[2] says, on an
 * ephemeral loopback port. One service per process: both are single-threaded, and DynamoDB
 * checkpoint writes must not queue behind Kinesis reads. It reports the port over IPC and exits
 * when its parent goes away, so a killed test run never leaves servers behind.
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

const service = process.argv[2];
const server =
  service === 'kinesis'
    ? kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit })
    : service === 'dynamodb'
      ? dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
      : undefined;
if (!server) throw new Error(`usage: local-aws-server kinesis|dynamodb (got ${service})`);
const port = await listen(server);

if (process.send) {
  process.send({ port });
  process.on('disconnect', () => process.exit(0));
} else {
  console.log(`${service} http://127.0.0.1:${port}`);
}
process.on('SIGTERM', () => process.exit(0));
// a Ctrl-C reaches the whole process group: under a parent, it stops us (SIGTERM or disconnect)
// once it has stopped its workers, which still need us to checkpoint and release their leases
process.on('SIGINT', () => (process.send ? undefined : process.exit(0)));
