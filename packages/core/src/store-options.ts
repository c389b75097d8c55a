import { z } from 'zod';
import type { StoreConfig } from '@kinesis-client/worker/lease';
import { invalid } from './option-errors.js';

/** PostgreSQL identifiers are at most 63 bytes. */
const pgIdentifier = z.string().min(1).refine((v) => Buffer.byteLength(v) <= 63 && !v.includes('\0'), 'expected a PostgreSQL name of 1 to 63 bytes');

/** Where leases and checkpoints live; each thread builds its own client from this plain data. */
export const storeSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('dynamodb'), tableName: z.string().min(3).max(255).optional() }),
    z.strictObject({
      type: z.literal('postgres'),
      connectionString: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'expected a postgres:// or postgresql:// URL'),
      table: pgIdentifier.optional(),
      schema: pgIdentifier.optional(),
    }),
    z.strictObject({
      type: z.literal('redis'),
      url: z.string().regex(/^rediss?:\/\/\S+$/, 'expected a redis:// or rediss:// URL'),
      prefix: z.string().min(1).max(512).optional(),
    }),
    z.strictObject({ type: z.literal('memory') }),
  ],
  { error: "expected { type: 'dynamodb' | 'postgres' | 'redis' | 'memory', ... }" },
);

export type StoreOption = z.output<typeof storeSchema>;

/** The store with its defaults: PostgreSQL's table and the memory store's name are the table name; Redis keys start `kcl:<table name>:`. */
export function storeConfig(given: StoreOption, tableName: string): StoreConfig {
  switch (given.type) {
    case 'dynamodb':
      return { type: 'dynamodb', tableName };
    case 'postgres':
      if (given.table === undefined && Buffer.byteLength(tableName) > 63) {
        throw invalid('store.table', `must be given: the default, the table name "${tableName}", is longer than PostgreSQL's 63 bytes`, given.table);
      }
      return { type: 'postgres', connectionString: given.connectionString, schema: given.schema ?? 'public', table: given.table ?? tableName };
    case 'redis':
      return { type: 'redis', url: given.url, prefix: given.prefix ?? `kcl:${tableName}:` };
    case 'memory':
      return { type: 'memory', name: tableName };
  }
}
