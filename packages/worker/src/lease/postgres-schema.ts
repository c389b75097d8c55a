/**
 * The PostgreSQL lease table: its migrations, kept here in order and applied by `ensure()` under
 * an advisory lock, and the shape an existing table must have. The table's comment records the
 * migration it is at ("kinesis-client lease table v1"), so a later version adds its migration
 * below and every worker brings an older table up to date on start. docs/stores/postgres.md
 * shows the resulting table.
 */

export const TABLE_COMMENT_PREFIX = 'kinesis-client lease table v';

/** Column name → the type `format_type` reports for it, at the latest version. One column per LeaseSnapshot field. */
export const LEASE_COLUMNS: Readonly<Record<string, string>> = {
  lease_key: 'text',
  lease_owner: 'text',
  lease_counter: 'bigint',
  checkpoint: 'text',
  checkpoint_sub_sequence_number: 'bigint',
  owner_switches_since_checkpoint: 'bigint',
  parent_shard_ids: 'text[]',
  child_shard_ids: 'text[]',
  starting_hash_key: 'text',
  ending_hash_key: 'text',
  checkpoint_timestamp: 'bigint',
  checkpoint_owner: 'text',
};

/** The columns a table at migration v1 has. */
const V1_COLUMNS: Readonly<Record<string, string>> = Object.fromEntries([
  ...Object.entries(LEASE_COLUMNS).filter(([name]) => name !== 'checkpoint_owner'),
  ['handoff_to', 'text'],
]);

/**
 * The migration an existing table is at: its comment's, or for a table made by hand (no comment)
 * from the documented schema, the version whose columns it has.
 */
export function tableVersion(columns: ReadonlyMap<string, string>, comment: string | null): number {
  const recorded = versionOf(comment);
  if (recorded > 0) return recorded;
  return columns.has('checkpoint_owner') ? LATEST_VERSION : 1;
}

export interface Migration {
  version: number;
  /** Statements, run in one transaction; `table` is the quoted, schema-qualified name. */
  statements(table: string, name: { schema: string; table: string }): string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: (table, name) => [
      `CREATE TABLE ${table} (
        lease_key text PRIMARY KEY,
        lease_owner text,
        lease_counter bigint NOT NULL DEFAULT 0,
        checkpoint text NOT NULL,
        checkpoint_sub_sequence_number bigint NOT NULL DEFAULT 0,
        owner_switches_since_checkpoint bigint NOT NULL DEFAULT 0,
        parent_shard_ids text[] NOT NULL DEFAULT '{}',
        child_shard_ids text[] NOT NULL DEFAULT '{}',
        starting_hash_key text,
        ending_hash_key text,
        handoff_to text,
        checkpoint_timestamp bigint
      )`,
      // the coordinator's per-owner counts, as the Java KCL's GSI on leaseOwner
      `CREATE INDEX ${quoteIdent(`${name.table}_owner`)} ON ${table} (lease_owner)`,
    ],
  },
  {
    // the Java KCL 3.x's handoff (checkpoint_owner) replaces this library's own (handoff_to): a
    // pending request of the old protocol is one nobody answers any more, so it goes with its column
    version: 2,
    statements: (table) => [`ALTER TABLE ${table} ADD COLUMN checkpoint_owner text`, `ALTER TABLE ${table} DROP COLUMN handoff_to`],
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export const qualified = (schema: string, table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`;

/** The version a table comment records, 0 when it records none. */
export function versionOf(comment: string | null | undefined): number {
  if (!comment?.startsWith(TABLE_COMMENT_PREFIX)) return 0;
  const n = Number(comment.slice(TABLE_COMMENT_PREFIX.length));
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/**
 * What is wrong with an existing table, or undefined when it can hold leases: every column with
 * its type, lease_key the primary key. Extra columns are allowed (an operator's own).
 */
export function tableProblem(columns: ReadonlyMap<string, string>, primaryKey: readonly string[], comment: string | null): string | undefined {
  const version = tableVersion(columns, comment);
  if (version > LATEST_VERSION) return `is at migration v${version}, newer than this version of kinesis-client knows (v${LATEST_VERSION})`;
  const problems: string[] = [];
  for (const [column, type] of Object.entries(version === 1 ? V1_COLUMNS : LEASE_COLUMNS)) {
    const found = columns.get(column);
    if (found === undefined) problems.push(`column ${column} is missing`);
    else if (found !== type) problems.push(`column ${column} is ${found} (expected ${type})`);
  }
  if (problems.length === 0 && (primaryKey.length !== 1 || primaryKey[0] !== 'lease_key')) {
    problems.push(`its primary key is (${primaryKey.join(', ') || 'none'}), expected (lease_key)`);
  }
  return problems.length > 0 ? `exists but is not a lease table: ${problems.join('; ')}` : undefined;
}
