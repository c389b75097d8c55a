/**
 * The lease stores a test can run a system on, by name: DynamoDB (dynalite, from the file's
 * LocalAws), PostgreSQL and Redis (private servers, started only if the file asks for them) and
 * memory. A test written once over `StoreKind` runs on each: `options(app)` is what createSystem
 * needs to use the store, `leases(app)` the store as the test reads it.
 */
import type { TestFn } from 'ava';
import { openLeaseStore, type LeaseStore } from '@kinesis-client/worker/lease';
import type { SystemOptions } from '@kinesis-client/core';
import { withPostgres, withRedis, type LocalAws } from '@kinesis-client/examples/testing';

export type StoreKind = 'dynamodb' | 'postgres' | 'redis' | 'memory';

export interface Stores {
  /** createSystem options for `app` on `kind`; `via`: reach the store through this loopback port (a proxy). */
  options(kind: StoreKind, app: string, via?: number): Partial<SystemOptions>;
  /** The store's address, for a loopback proxy in front of it. */
  target(kind: Exclude<StoreKind, 'memory'>): { host: string; port: number };
  /** The leases of `app` on `kind`, as the system under test writes them. */
  leases(kind: StoreKind, app: string): Promise<LeaseStore>;
  /** The password in the store's URL. */
  password(kind: 'postgres' | 'redis'): string;
  /** Runs SQL on the PostgreSQL server (psql) or a command on the Redis server (redis-cli); resolves to its output. */
  exec(kind: 'postgres' | 'redis', ...command: string[]): Promise<string>;
  /** The server ends every client connection (as a restart or a failover would); resolves to how many. */
  dropConnections(kind: 'postgres' | 'redis'): Promise<number>;
}

/** Registers the servers `kinds` need (before/after.always of this test file). */
export function withStores(test: TestFn, aws: LocalAws, kinds: readonly StoreKind[]): Stores {
  const postgres = kinds.includes('postgres') ? withPostgres(test) : undefined;
  const redis = kinds.includes('redis') ? withRedis(test) : undefined;
  const closers: (() => Promise<void>)[] = [];
  test.after.always(async () => {
    await Promise.all(closers.map((close) => close()));
  });
  const swapPort = (url: string, via: number | undefined) => (via ? url.replace(/:(\d+)(\/|$)/, `:${via}$2`) : url);
  return {
    options(kind, app, via) {
      switch (kind) {
        case 'dynamodb': {
          const { dynamodb } = aws.clientOptions;
          return via ? { dynamodb: { ...dynamodb, endpoint: `http://127.0.0.1:${via}` } } : {};
        }
        case 'postgres':
          return { store: { type: 'postgres', connectionString: swapPort(postgres!.url(), via) } };
        case 'redis':
          return { store: { type: 'redis', url: swapPort(redis!.url(), via) } };
        case 'memory':
          return { store: { type: 'memory' } };
      }
    },
    target(kind) {
      if (kind === 'postgres') return { host: '127.0.0.1', port: postgres!.port };
      if (kind === 'redis') return { host: '127.0.0.1', port: redis!.port };
      const url = new URL(aws.dynamodbEndpoint);
      return { host: url.hostname, port: Number(url.port) };
    },
    exec: (kind, ...command) => (kind === 'postgres' ? postgres!.sql(command.join(' ')) : redis!.command(...command)),
    password: (kind) => (kind === 'postgres' ? postgres!.password : redis!.password),
    async dropConnections(kind) {
      const dropped =
        kind === 'postgres'
          ? await postgres!.sql(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'kinesis-client'`)
          : await redis!.command('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      return Number(dropped.trim());
    },
    async leases(kind, app) {
      if (kind === 'dynamodb') return aws.leaseTable(app);
      const config =
        kind === 'postgres'
          ? { type: kind, connectionString: postgres!.url(), schema: 'public', table: app }
          : kind === 'redis'
            ? { type: kind, url: redis!.url(), prefix: `kcl:${app}:` }
            : { type: kind, name: app };
      const opened = await openLeaseStore(config, { dynamodb: {}, timeoutMs: 10_000, side: 'main' });
      closers.push(opened.close);
      return opened.store;
    },
  };
}
