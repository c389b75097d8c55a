/**
 * `withRedis(test)`: a private Redis server for one test file, started before its tests and
 * always stopped after them (the starter, shared with the demo, is the examples package's
 * local-redis). The binary comes from the Debian package `redis-server`, which
 * scripts/test-services.mjs installs where it can; missing, the tests fail with a message naming
 * the package: they are never skipped.
 */
import type { TestFn } from 'ava';
import { startLocalRedis, type LocalRedis } from '../../../examples/dist/local-redis.js';

export type RedisServer = LocalRedis;

export function withRedis(test: TestFn): () => RedisServer {
  let server: RedisServer | undefined;
  test.before(async () => {
    server = await startLocalRedis();
  });
  test.after.always(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('withRedis: the server is started in test.before');
    return server;
  };
}
