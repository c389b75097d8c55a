/**
 * `demo --store dynamodb|postgres|redis|memory`: where the demo keeps its leases. DynamoDB is
 * the local dynalite the demo starts anyway (npm only); PostgreSQL and Redis are private servers
 * started here the way the tests start them (from the Debian packages `postgresql` and
 * `redis-server`); memory needs nothing and serves one process only.
 */
import { openLeaseStore, type LeaseStore } from '@kinesis-client/worker/lease';
import type { SystemOptions } from '@kinesis-client/core';
import { startLocalPostgres, startLocalRedis, type LocalAws } from './testing/index.js';

export const DEMO_STORES = ['dynamodb', 'postgres', 'redis', 'memory'] as const;
export type DemoStoreKind = (typeof DEMO_STORES)[number];

export interface DemoStore {
  /** createSystem's `store` option (plain data: it crosses to worker processes too). */
  option: SystemOptions['store'];
  /** How the banner names it. */
  describe: string;
  /** The application's leases, as the demo reads them for its progress line. */
  leases(): Promise<LeaseStore>;
  stop(): Promise<void>;
}

export async function startDemoStore(kind: DemoStoreKind, appName: string, aws: LocalAws): Promise<DemoStore> {
  const closers: (() => Promise<void>)[] = [];
  const open = async (store: Parameters<typeof openLeaseStore>[0]) => {
    const opened = await openLeaseStore(store, { dynamodb: { region: aws.clientOptions.region, ...aws.clientOptions.dynamodb }, timeoutMs: 10_000, side: 'main' });
    closers.push(opened.close);
    return opened.store;
  };
  const closeAll = async () => void (await Promise.all(closers.map((close) => close())));
  switch (kind) {
    case 'dynamodb':
      return { option: undefined, describe: 'DynamoDB (dynalite)', leases: () => open({ type: 'dynamodb', tableName: appName }), stop: closeAll };
    case 'memory':
      return { option: { type: 'memory' }, describe: 'memory (this process only)', leases: () => open({ type: 'memory', name: appName }), stop: closeAll };
    case 'postgres': {
      console.log('starting a private PostgreSQL (initdb + pg_ctl) on loopback...');
      const server = await startLocalPostgres();
      const connectionString = server.url();
      return {
        option: { type: 'postgres', connectionString },
        describe: `PostgreSQL on 127.0.0.1:${server.port} (table public."${appName}")`,
        leases: () => open({ type: 'postgres', connectionString, schema: 'public', table: appName }),
        stop: async () => {
          await closeAll();
          await server.stop();
        },
      };
    }
    case 'redis': {
      console.log('starting a private Redis (redis-server) on loopback...');
      const server = await startLocalRedis();
      const url = server.url();
      return {
        option: { type: 'redis', url },
        describe: `Redis on 127.0.0.1:${server.port} (keys kcl:${appName}:*)`,
        leases: () => open({ type: 'redis', url, prefix: `kcl:${appName}:` }),
        stop: async () => {
          await closeAll();
          await server.stop();
        },
      };
    }
  }
}
