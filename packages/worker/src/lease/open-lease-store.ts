/**
 * Builds a thread's lease store from the plain `StoreConfig`, as each thread builds its own AWS
 * clients: the main thread for the coordinator, every shard-host thread for its lease actors.
 * Only the selected adapter is imported, so a thread that does not use PostgreSQL or Redis never
 * loads their clients. Building connects to nothing: `ensure()` (at start, on the main thread) is
 * the first call.
 */
import type { CallFaults } from '../faults.js';
import type { AwsClientConfig } from '../protocol.js';
import type { LeaseStore } from './lease.js';
import type { StoreConfig } from './store-config.js';

export interface OpenStoreOptions {
  /** Client config of the DynamoDB store. */
  dynamodb: AwsClientConfig;
  /** Each store call's deadline (callTimeouts.dynamodbMs); 0: none. */
  timeoutMs: number;
  /** Makes the store's calls answer to `system.faults.failCalls` (DynamoDB, PostgreSQL, Redis; not memory). */
  faults?: CallFaults;
  /** Connections (DynamoDB sockets, PostgreSQL connections) this thread may open. */
  maxConnections?: number;
  /** The main thread holds a memory store; the other threads reach it. */
  side: 'main' | 'thread';
}

export interface OpenedStore {
  store: LeaseStore;
  /** Closes its connections; the store is not used after. */
  close(): Promise<void>;
}

export async function openLeaseStore(config: StoreConfig, options: OpenStoreOptions): Promise<OpenedStore> {
  const { timeoutMs, maxConnections = 8 } = options;
  const faults = options.faults ? { faults: options.faults } : {};
  switch (config.type) {
    case 'dynamodb': {
      const [{ LeaseTable }, { createDynamoDBClient }] = await Promise.all([import('./lease-table.js'), import('../aws-clients.js')]);
      const client = createDynamoDBClient(options.dynamodb, { maxSockets: maxConnections, timeoutMs, ...faults });
      return { store: new LeaseTable(client, config.tableName), close: async () => client.destroy() };
    }
    case 'postgres': {
      const { PostgresLeaseStore } = await import('./postgres-lease-store.js');
      // a PostgreSQL connection is a server process: a few per thread carry its renewals and checkpoints
      const store = new PostgresLeaseStore(config, { timeoutMs, maxConnections: Math.min(maxConnections, 8), ...faults });
      return { store, close: () => store.close() };
    }
    case 'redis': {
      const { RedisLeaseStore } = await import('./redis-lease-store.js');
      const store = new RedisLeaseStore(config, { timeoutMs, ...faults });
      return { store, close: () => store.close() };
    }
    case 'memory': {
      const { memoryLeaseStore, remoteMemoryStore } = await import('./shared-memory-store.js');
      if (options.side === 'main') return { store: memoryLeaseStore(config.name), close: async () => undefined };
      const store = remoteMemoryStore(config.name, timeoutMs);
      return { store, close: async () => store.close() };
    }
  }
}
