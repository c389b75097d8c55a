/**
 * Child process that serves kinesis-mock (npm `kinesis-local`, the engine LocalStack uses): plain
 * HTTP/1.1 for the control plane and HTTP/2 over TLS for SubscribeToShard, each on a free loopback
 * port chosen here. It reports both ports over IPC once both answer, and exits when its parent goes
 * away, so a killed test run never leaves a server behind. kinesis-mock is a Scala.js bundle that
 * reads its configuration from environment variables and its certificate from the working
 * directory, so this process sets both and then loads it in-process.
 */
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { connect } from 'node:tls';

const require = createRequire(import.meta.url);

/** Free on every interface, since kinesis-mock binds them all. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Any HTTP answer will do (an unsigned request gets a 400): the server is up. */
function plainAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.ListStreams' } },
      (res) => {
        res.resume();
        resolve(true);
      },
    );
    req.on('error', () => resolve(false));
    req.end('{}');
  });
}

function tlsAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ALPNProtocols: ['h2'], rejectUnauthorized: false }, () => {
      const h2 = socket.alpnProtocol === 'h2';
      socket.destroy();
      resolve(h2);
    });
    socket.on('error', () => resolve(false));
  });
}

const [plainPort, tlsPort] = await Promise.all([freePort(), freePort()]);
const packageDir = dirname(require.resolve('kinesis-local/package.json'));
Object.assign(process.env, {
  KINESIS_MOCK_PLAIN_PORT: String(plainPort),
  KINESIS_MOCK_TLS_PORT: String(tlsPort),
  KINESIS_MOCK_CERT_PATH: `${packageDir}/server.json`,
  LOG_LEVEL: process.env.KINESIS_MOCK_LOG_LEVEL ?? 'ERROR',
  ROOT_LOG_LEVEL: 'ERROR',
  SHOULD_PERSIST_DATA: 'false',
  LOAD_DATA_IF_EXISTS: 'false',
  CREATE_STREAM_DURATION: '50ms',
  DELETE_STREAM_DURATION: '50ms',
  REGISTER_STREAM_CONSUMER_DURATION: '200ms',
  DEREGISTER_STREAM_CONSUMER_DURATION: '50ms',
  SPLIT_SHARD_DURATION: '50ms',
  MERGE_SHARDS_DURATION: '50ms',
  UPDATE_SHARD_COUNT_DURATION: '50ms',
});
process.chdir(packageDir);
// kinesis-mock's runtime replaces process.exit with a graceful shutdown of its own that can
// outlive the parent: this process ends through the original
const exit = process.exit.bind(process) as (code?: number) => never;
// a port taken between choosing and binding fails kinesis-mock's start: exit 75, and the parent starts another
process.on('uncaughtException', (error) => {
  console.error(error);
  exit(/EADDRINUSE/.test(String(error)) ? 75 : 1);
});
require('kinesis-local/main.js');

const deadline = Date.now() + 30_000;
for (;;) {
  const [plain, tls] = await Promise.all([plainAnswers(plainPort), tlsAnswers(tlsPort)]);
  if (plain && tls) break;
  if (Date.now() > deadline) exit(75);
  await new Promise((r) => setTimeout(r, 100));
}

// kinesis-mock's runtime answers SIGINT and SIGTERM with that shutdown too, which stops serving at
// once; this process decides when it ends instead
process.removeAllListeners('SIGINT');
process.removeAllListeners('SIGTERM');
if (process.send) {
  process.send({ plainPort, tlsPort });
  process.on('disconnect', () => exit(0));
} else {
  console.log(`kinesis-mock http://127.0.0.1:${plainPort} https://127.0.0.1:${tlsPort}`);
}
process.on('SIGTERM', () => exit(0));
// a Ctrl-C reaches the whole process group: under a parent, it stops us (SIGTERM or disconnect)
// once it has stopped its workers, which may still need Kinesis to finish their batches
process.on('SIGINT', () => (process.send ? undefined : exit(0)));
