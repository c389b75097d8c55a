/**
 * The PostgreSQL adapter of LeaseStore (lease.ts holds the semantics; the contract suite pins
 * them). Every conditional write is one UPDATE whose WHERE clause is the condition: PostgreSQL
 * re-checks it on the newest row version after waiting on a concurrent writer's row lock, so of
 * N writers on one counter exactly one matches, and `rowCount` 0 is a failed condition (`false`).
 * Loaded only by open-lease-store.ts, when `store.type` is 'postgres'.
 */
import pg from 'pg';
import type { CallFaults } from '../faults.js';
import { SHARD_END, STORE_COMMANDS, holderOf, type HeldWrite, type LeaseSnapshot, type LeaseStore, type NewLease, type StoreOperation, type UnreadableRow } from './lease.js';
import { LATEST_VERSION, LEASE_COLUMNS, MIGRATIONS, TABLE_COMMENT_PREFIX, qualified, quoteIdent, tableProblem, tableVersion, versionOf } from './postgres-schema.js';
import type { StoreConfig } from './store-config.js';
import { callError, shapeError, startError, withDeadline } from './store-errors.js';

type PostgresConfig = Extract<StoreConfig, { type: 'postgres' }>;
type Row = Record<string, unknown>;

export interface PostgresStoreOptions {
  /** Each call's deadline, connecting included (callTimeouts.dynamodbMs); 0: none. */
  timeoutMs: number;
  /** Connections this thread may open. */
  maxConnections: number;
  /** Makes each call answer to `system.faults.failCalls`, by its STORE_COMMANDS name. */
  faults?: CallFaults;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const int = (v: unknown): number => Number(v ?? 0);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

function leaseFromRow(row: Row): LeaseSnapshot {
  return {
    leaseKey: String(row.lease_key),
    leaseOwner: text(row.lease_owner),
    leaseCounter: int(row.lease_counter),
    checkpoint: String(row.checkpoint),
    checkpointSubSequenceNumber: int(row.checkpoint_sub_sequence_number),
    ownerSwitchesSinceCheckpoint: int(row.owner_switches_since_checkpoint),
    parentShardIds: list(row.parent_shard_ids),
    childShardIds: list(row.child_shard_ids),
    startingHashKey: text(row.starting_hash_key),
    endingHashKey: text(row.ending_hash_key),
    ...(text(row.checkpoint_owner) ? { checkpointOwner: text(row.checkpoint_owner) } : {}),
    ...(row.checkpoint_timestamp != null ? { checkpointTimestamp: int(row.checkpoint_timestamp) } : {}),
  };
}

/** $3 holds the lease (lease.ts holderOf): the checkpoint owner, or the owner while no handoff is pending. */
const HOLDER_IS = '((checkpoint_owner = $3 AND lease_owner IS NOT NULL) OR (lease_owner = $3 AND checkpoint_owner IS NULL))';

/** Children added to a set in the order first seen, as a string set would hold them. */
const ADD_CHILDREN = `child_shard_ids || ARRAY(SELECT c FROM unnest($CHILDREN::text[]) AS u(c) WHERE c <> ALL(child_shard_ids))`;
const unique = (ids: readonly string[]) => [...new Set(ids)];

export class PostgresLeaseStore implements LeaseStore {
  private readonly pool: pg.Pool;
  private readonly table: string;

  constructor(
    private readonly config: PostgresConfig,
    private readonly options: PostgresStoreOptions,
  ) {
    this.table = qualified(config.schema, config.table);
    this.pool = new pg.Pool({
      connectionString: config.connectionString,
      max: options.maxConnections,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      ...(options.timeoutMs ? { connectionTimeoutMillis: options.timeoutMs } : {}),
      application_name: 'kinesis-client',
    });
    // an idle connection that breaks is dropped by the pool; the next call opens another
    this.pool.on('error', () => undefined);
    // a connection the server ends (a restart, pg_terminate_backend) may say so while checked out
    // between statements: its calls fail and it is not reused, but it must not crash the thread
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /**
   * `work` on a pooled connection, within the deadline (connecting included). A connection whose
   * call timed out or failed at the socket is destroyed, never handed to the next call.
   */
  private async withClient<T>(command: StoreOperation, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient | undefined;
    let timedOut = false;
    const destroy = (c: pg.PoolClient) => (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    const run = async () => {
      const c = await this.pool.connect();
      if (timedOut) {
        destroy(c);
        c.release(true);
        throw new Error('connected after the deadline');
      }
      client = c;
      return work(c);
    };
    const { faults } = this.options;
    try {
      const out = await withDeadline(faults ? faults.around(STORE_COMMANDS[command], run) : run(), this.options.timeoutMs, command, () => {
        timedOut = true;
        if (client) destroy(client);
      });
      client?.release();
      return out;
    } catch (error) {
      // a statement's own error (the server sets its severity) leaves the connection usable
      client?.release(timedOut || typeof (error as { severity?: unknown })?.severity !== 'string');
      throw error;
    }
  }

  private async query(command: StoreOperation, sql: string, values: unknown[] = []): Promise<pg.QueryResult<Row>> {
    try {
      return await this.withClient(command, (client) => client.query<Row>(sql, values));
    } catch (error) {
      throw callError(this.config, command, error);
    }
  }

  private transaction<T>(command: StoreOperation, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.withClient(command, async (client) => {
      await client.query('BEGIN');
      try {
        const out = await work(client);
        await client.query('COMMIT');
        return out;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  /** Creates the table (the migrations) if missing, brings an older one up to date, refuses one of another shape. */
  async ensure(): Promise<'existed' | 'created'> {
    const { schema, table } = this.config;
    try {
      return await this.transaction('ensure', async (client) => {
        // one worker at a time: the others find the table made when the lock is theirs
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`kinesis-client:${this.table}`]);
        const found = await client.query<{ oid: string | null }>('SELECT to_regclass($1)::oid AS oid', [this.table]);
        const oid = found.rows[0]?.oid;
        let from = 0;
        if (oid) {
          const columns = await client.query<{ name: string; type: string }>(
            'SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped',
            [oid],
          );
          const key = await client.query<{ name: string }>(
            `SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1 AND i.indisprimary`,
            [oid],
          );
          const comment = (await client.query<{ c: string | null }>('SELECT obj_description($1::oid, $2) AS c', [oid, 'pg_class'])).rows[0]?.c ?? null;
          const found = new Map(columns.rows.map((r) => [r.name, r.type]));
          const problem = tableProblem(found, key.rows.map((r) => r.name), comment);
          if (problem) {
            throw shapeError(this.config, problem, 'set store.table (or store.schema) to a name of its own, or drop or rename that table');
          }
          // a table made by hand from the documented schema counts as the migration whose columns it has
          from = tableVersion(found, comment);
          if (from === LATEST_VERSION && versionOf(comment) === LATEST_VERSION) return 'existed';
        } else if (schema !== 'public') {
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
        }
        for (const migration of MIGRATIONS) {
          if (migration.version <= from) continue;
          for (const statement of migration.statements(this.table, { schema, table })) await client.query(statement);
        }
        await client.query(`COMMENT ON TABLE ${this.table} IS '${TABLE_COMMENT_PREFIX}${LATEST_VERSION}'`);
        return oid ? 'existed' : 'created';
      });
    } catch (error) {
      throw startError(this.config, error);
    }
  }

  async scan(): Promise<LeaseSnapshot[]> {
    const { rows } = await this.query('scan', `SELECT ${Object.keys(LEASE_COLUMNS).join(', ')} FROM ${this.table} ORDER BY lease_key`);
    return rows.map(leaseFromRow);
  }

  /** The columns' types and NOT NULL constraints leave no row that cannot be read. */
  async scanRows(): Promise<{ leases: LeaseSnapshot[]; unreadable: UnreadableRow[] }> {
    return { leases: await this.scan(), unreadable: [] };
  }

  async get(leaseKey: string): Promise<LeaseSnapshot | undefined> {
    const { rows } = await this.query('get', `SELECT * FROM ${this.table} WHERE lease_key = $1`, [leaseKey]);
    return rows[0] && leaseFromRow(rows[0]);
  }

  async create(lease: NewLease): Promise<boolean> {
    const { rowCount } = await this.query(
      'create',
      `INSERT INTO ${this.table} (lease_key, lease_counter, checkpoint, parent_shard_ids, child_shard_ids, starting_hash_key, ending_hash_key)
       VALUES ($1, 0, $2, $3, $4, $5, $6) ON CONFLICT (lease_key) DO NOTHING`,
      [lease.leaseKey, lease.checkpoint, unique(lease.parentShardIds), unique(lease.childShardIds ?? []), lease.startingHashKey || null, lease.endingHashKey || null],
    );
    return rowCount === 1;
  }

  /** A switch is judged against the snapshot the taker decided on, as in the DynamoDB adapter. */
  async take(lease: LeaseSnapshot, owner: string, anchor?: number): Promise<boolean> {
    const { rowCount } = await this.query(
      'take',
      `UPDATE ${this.table} SET lease_owner = $3, lease_counter = lease_counter + 1, checkpoint_owner = NULL,
         owner_switches_since_checkpoint = owner_switches_since_checkpoint + $4,
         checkpoint_timestamp = COALESCE(checkpoint_timestamp, $5)
       WHERE lease_key = $1 AND lease_counter = $2`,
      [lease.leaseKey, lease.leaseCounter, owner, holderOf(lease) === owner ? 0 : 1, anchor === undefined ? null : Math.floor(anchor)],
    );
    return rowCount === 1;
  }

  /** The holder's write (HOLDER_IS): RETURNING shows a pending handoff without another read. */
  private async ownerWrite(command: StoreOperation, set: string, leaseKey: string, counter: number, owner: string, more: unknown[] = []): Promise<false | HeldWrite> {
    const { rows } = await this.query(
      command,
      `UPDATE ${this.table} SET lease_counter = lease_counter + 1${set} WHERE lease_key = $1 AND lease_counter = $2 AND ${HOLDER_IS} RETURNING lease_owner, checkpoint_owner`,
      [leaseKey, counter, owner, ...more],
    );
    return rows.length === 1 && { nextOwner: text(rows[0]!.checkpoint_owner) === owner ? text(rows[0]!.lease_owner) : undefined };
  }

  renew(leaseKey: string, counter: number, owner: string): Promise<false | HeldWrite> {
    return this.ownerWrite('renew', '', leaseKey, counter, owner);
  }

  checkpoint(leaseKey: string, counter: number, owner: string, checkpoint: string, subSequenceNumber: number, childShardIds: readonly string[] = []): Promise<false | HeldWrite> {
    return this.ownerWrite(
      'checkpoint',
      `, checkpoint = $4, checkpoint_sub_sequence_number = $5, owner_switches_since_checkpoint = 0, checkpoint_timestamp = NULL, child_shard_ids = ${ADD_CHILDREN.replace('$CHILDREN', '$6')}`,
      leaseKey,
      counter,
      owner,
      [checkpoint, subSequenceNumber, unique(childShardIds)],
    );
  }

  async addChildShardIds(leaseKey: string, childShardIds: readonly string[]): Promise<boolean> {
    const { rowCount } = await this.query('addChildShardIds', `UPDATE ${this.table} SET child_shard_ids = ${ADD_CHILDREN.replace('$CHILDREN', '$2')} WHERE lease_key = $1`, [
      leaseKey,
      unique(childShardIds),
    ]);
    return rowCount === 1;
  }

  private async update(command: StoreOperation, sql: string, values: unknown[]): Promise<boolean> {
    const { rowCount } = await this.query(command, `UPDATE ${this.table} SET ${sql}`, values);
    return rowCount === 1;
  }

  /** A plain owner frees the lease; a checkpoint owner lets it go to the worker it is handed to. */
  release(leaseKey: string, owner: string): Promise<boolean> {
    return this.update(
      'release',
      `lease_owner = CASE WHEN checkpoint_owner IS NULL THEN NULL ELSE lease_owner END,
         owner_switches_since_checkpoint = owner_switches_since_checkpoint + CASE WHEN checkpoint_owner IS NULL THEN 0 ELSE 1 END,
         checkpoint_owner = NULL, lease_counter = lease_counter + 1
       WHERE lease_key = $1 AND ${HOLDER_IS.replaceAll('$3', '$2')}`,
      [leaseKey, owner],
    );
  }

  initiateHandoff(leaseKey: string, owner: string, to: string): Promise<boolean> {
    return this.update('initiateHandoff', 'lease_owner = $3, checkpoint_owner = $2 WHERE lease_key = $1 AND lease_owner = $2 AND checkpoint_owner IS NULL', [leaseKey, owner, to]);
  }

  completeHandoff(leaseKey: string, owner: string, to: string): Promise<boolean> {
    return this.update(
      'completeHandoff',
      `checkpoint_owner = NULL, lease_counter = lease_counter + 1, owner_switches_since_checkpoint = owner_switches_since_checkpoint + 1
       WHERE lease_key = $1 AND checkpoint_owner = $2 AND lease_owner = $3`,
      [leaseKey, owner, to],
    );
  }

  cancelHandoff(leaseKey: string, owner: string, to: string): Promise<boolean> {
    return this.update('cancelHandoff', 'lease_owner = $2, checkpoint_owner = NULL WHERE lease_key = $1 AND checkpoint_owner = $2 AND lease_owner = $3', [leaseKey, owner, to]);
  }

  async deleteReleased(leaseKey: string): Promise<boolean> {
    const { rowCount } = await this.query('deleteReleased', `DELETE FROM ${this.table} WHERE lease_key = $1 AND lease_owner IS NULL`, [leaseKey]);
    return rowCount === 1;
  }

  async deleteFinished(leaseKey: string): Promise<boolean> {
    const { rowCount } = await this.query('deleteFinished', `DELETE FROM ${this.table} WHERE lease_key = $1 AND checkpoint = $2`, [leaseKey, SHARD_END]);
    return rowCount === 1;
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
