/**
 * `withPostgres(test)`: a private PostgreSQL server for one test file, started before its tests
 * and always stopped after them (the starter, shared with the demo, is the examples package's
 * local-postgres). The binaries come from the Debian package `postgresql`, which
 * scripts/test-services.mjs installs where it can; missing, the tests fail with a message naming
 * the package: they are never skipped.
 */
import type { TestFn } from 'ava';
import { startLocalPostgres, type LocalPostgres } from '../../../examples/dist/local-postgres.js';

export { freePort } from '../../../examples/dist/free-port.js';
export type PostgresServer = LocalPostgres;

export function withPostgres(test: TestFn): () => PostgresServer {
  let server: PostgresServer | undefined;
  test.before(async () => {
    server = await startLocalPostgres();
  });
  test.after.always(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('withPostgres: the server is started in test.before');
    return server;
  };
}
