/**
 * The Redis adapter of LeaseStore, on node-redis (@redis/client: the client Redis itself
 * maintains). Every write is one Lua script (redis-scripts.ts), so a condition and its update are
 * one atomic step. Loaded only by open-lease-store.ts, when `store.type` is 'redis'.
 *
 * The connection is this adapter's own: no automatic reconnects and no offline queue, so a call
 * on a lost server fails (and is retried by its caller) rather than waiting in a queue; a call
 * past its deadline drops the connection, and the next call opens a new one.
 */
import { createHash } from 'node:crypto';
import { createClient } from '@redis/client';
import type { CallFaults } from '../faults.js';
import { SHARD_END, STORE_COMMANDS, holderOf, type HeldWrite, type LeaseSnapshot, type LeaseStore, type NewLease, type StoreOperation, type UnreadableRow } from './lease.js';
import { SCRIPTS, type ScriptName } from './redis-scripts.js';
import type { StoreConfig } from './store-config.js';
import { callError, shapeError, startError, withDeadline } from './store-errors.js';

type RedisConfig = Extract<StoreConfig, { type: 'redis' }>;
type Client = ReturnType<typeof createClient>;
type Reply = unknown;

export interface RedisStoreOptions {
  /** Each call's deadline, connecting included (callTimeouts.dynamodbMs); 0: none. */
  timeoutMs: number;
  /** Makes each call answer to `system.faults.failCalls`, by its STORE_COMMANDS name. */
  faults?: CallFaults;
}

const FORMAT = 'kinesis-client-leases';
const VERSION = 1;
const SHA = Object.fromEntries(Object.entries(SCRIPTS).map(([name, src]) => [name, createHash('sha1').update(src).digest('hex')])) as Record<ScriptName, string>;

const isInteger = (v: string | undefined) => v !== undefined && /^-?\d+$/.test(v);

function isStringList(json: string | undefined): boolean {
  if (json === undefined) return true;
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) && v.every((s) => typeof s === 'string');
  } catch {
    return false;
  }
}

/** Why a lease hash cannot be read, or undefined: the same rules as the DynamoDB table's rows. */
export function redisRowProblem(fields: Record<string, string>): string | undefined {
  if (fields.leaseCounter === undefined) return 'leaseCounter is missing';
  if (!isInteger(fields.leaseCounter)) return 'leaseCounter is not a number';
  for (const key of ['checkpointSubSequenceNumber', 'ownerSwitchesSinceCheckpoint', 'checkpointTimestamp']) {
    if (fields[key] !== undefined && !isInteger(fields[key])) return `${key} is not a number`;
  }
  for (const key of ['parentShardId', 'childShardIds']) {
    if (!isStringList(fields[key])) return `${key} is not a JSON array of strings`;
  }
  return undefined;
}

function leaseFromFields(leaseKey: string, f: Record<string, string>): LeaseSnapshot {
  return {
    leaseKey,
    leaseOwner: f.leaseOwner || undefined,
    leaseCounter: Number(f.leaseCounter),
    checkpoint: f.checkpoint ?? 'TRIM_HORIZON',
    checkpointSubSequenceNumber: Number(f.checkpointSubSequenceNumber ?? 0),
    ownerSwitchesSinceCheckpoint: Number(f.ownerSwitchesSinceCheckpoint ?? 0),
    parentShardIds: f.parentShardId ? (JSON.parse(f.parentShardId) as string[]) : [],
    childShardIds: f.childShardIds ? (JSON.parse(f.childShardIds) as string[]) : [],
    startingHashKey: f.startingHashKey || undefined,
    endingHashKey: f.endingHashKey || undefined,
    ...(f.checkpointOwner ? { checkpointOwner: f.checkpointOwner } : {}),
    ...(f.checkpointTimestamp ? { checkpointTimestamp: Number(f.checkpointTimestamp) } : {}),
  };
}

const pairs = (flat: readonly string[]): Record<string, string> => {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
};

const fingerprint = (kind: string, fields: Record<string, string>) =>
  JSON.stringify([kind, ...Object.keys(fields).sort().map((k) => [k, fields[k]])]);

/** A glob pattern matching `text` literally. */
const globLiteral = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');

const held = (reply: Reply): false | HeldWrite => (Array.isArray(reply) && reply[0] === 1 ? { nextOwner: (reply[1] as string) || undefined } : false);

export class RedisLeaseStore implements LeaseStore {
  private client: Client | undefined;
  private connecting: { client: Client; ready: Promise<Client> } | undefined;
  private readonly meta: string;
  private readonly index: string;

  constructor(
    private readonly config: RedisConfig,
    private readonly options: RedisStoreOptions,
  ) {
    this.meta = `${config.prefix}meta`;
    this.index = `${config.prefix}leases`;
  }

  private leaseKeyOf(leaseKey: string) {
    return `${this.config.prefix}lease:${leaseKey}`;
  }

  private connection(): Promise<Client> {
    if (this.client?.isReady) return Promise.resolve(this.client);
    if (this.connecting) return this.connecting.ready;
    const client: Client = createClient({
      url: this.config.url,
      RESP: 2,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: false, ...(this.options.timeoutMs ? { connectTimeout: this.options.timeoutMs } : {}) },
    });
    // failures reach the calls that meet them; an idle connection that breaks is replaced on next use
    client.on('error', () => undefined);
    const ready = client.connect().then(
      () => {
        if (this.connecting?.client === client) this.connecting = undefined;
        this.client = client;
        return client;
      },
      (error: unknown) => {
        if (this.connecting?.client === client) this.connecting = undefined;
        this.drop(client);
        throw error;
      },
    );
    this.connecting = { client, ready };
    return ready;
  }

  /** Never used again: a connection that timed out may be half-open, with replies owed. */
  private drop(client: Client | undefined): void {
    if (!client) return;
    if (this.client === client) this.client = undefined;
    if (this.connecting?.client === client) this.connecting = undefined;
    try {
      client.destroy();
    } catch {
      // closed already
    }
  }

  private async send(command: StoreOperation, args: string[]): Promise<Reply> {
    let client: Client | undefined;
    const work = async () => {
      client = await this.connection();
      return client.sendCommand(args);
    };
    const { faults } = this.options;
    try {
      return await withDeadline(faults ? faults.around(STORE_COMMANDS[command], work) : work(), this.options.timeoutMs, command, () => this.drop(client ?? this.connecting?.client));
    } catch (error) {
      if (!client?.isReady) this.drop(client);
      throw callError(this.config, command, error);
    }
  }

  /** EVALSHA, and EVAL once when the server does not have the script yet (a restart, a new server). */
  private async script(name: ScriptName, keys: string[], args: (string | number)[]): Promise<Reply> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await this.send(name, ['EVALSHA', SHA[name], ...tail]);
    } catch (error) {
      if (!/NOSCRIPT/.test((error as Error).message)) throw error;
      return this.send(name, ['EVAL', SCRIPTS[name], ...tail]);
    }
  }

  /** Marks the prefix as a lease store; refuses a prefix that holds anything else. */
  async ensure(): Promise<'existed' | 'created'> {
    try {
      if (await this.marked()) return 'existed';
      const foreign = await this.anyKey();
      if (foreign !== undefined) {
        // another worker may have marked the prefix (and written leases) since we looked
        if (await this.marked()) return 'existed';
        throw this.shape(`holds keys not written by kinesis-client (e.g. ${foreign})`);
      }
      // HSETNX: of workers starting together one creates the marker, the others find it
      return Number(await this.send('ensure', ['HSETNX', this.meta, 'format', FORMAT])) === 1
        ? (await this.send('ensure', ['HSET', this.meta, 'version', String(VERSION)]), 'created')
        : 'existed';
    } catch (error) {
      throw startError(this.config, error);
    }
  }

  /** Whether the prefix carries our marker; throws when its marker or index is of another kind. */
  private async marked(): Promise<boolean> {
    const kind = String(await this.send('ensure', ['TYPE', this.meta]));
    if (kind === 'none') return false;
    if (kind !== 'hash') throw this.shape(`key ${this.meta} is a ${kind}, not kinesis-client's marker`);
    const [format, version] = (await this.send('ensure', ['HMGET', this.meta, 'format', 'version'])) as (string | null)[];
    if (format !== FORMAT) throw this.shape(`key ${this.meta} is a hash not written by kinesis-client`);
    if (Number(version) > VERSION) throw this.shape(`was written by a newer kinesis-client (format v${version}, this one knows v${VERSION})`);
    const indexKind = String(await this.send('ensure', ['TYPE', this.index]));
    if (indexKind !== 'set' && indexKind !== 'none') throw this.shape(`key ${this.index} is a ${indexKind}, not a set`);
    return true;
  }

  private shape(problem: string) {
    return shapeError(this.config, problem, 'set store.prefix to a prefix of its own, or delete those keys');
  }

  /** Some key under the prefix, if any. */
  private async anyKey(): Promise<string | undefined> {
    let cursor = '0';
    do {
      const [next, keys] = (await this.send('ensure', ['SCAN', cursor, 'MATCH', `${globLiteral(this.config.prefix)}*`, 'COUNT', '1000'])) as [string, string[]];
      if (keys.length > 0) return keys[0];
      cursor = next;
    } while (cursor !== '0');
    return undefined;
  }

  async scan(): Promise<LeaseSnapshot[]> {
    return (await this.scanRows()).leases;
  }

  async scanRows(): Promise<{ leases: LeaseSnapshot[]; unreadable: UnreadableRow[] }> {
    const rows = (await this.script('scan', [this.index], [`${this.config.prefix}lease:`])) as [string, string, string[]][];
    const leases: LeaseSnapshot[] = [];
    const unreadable: UnreadableRow[] = [];
    for (const [leaseKey, kind, flat] of rows.sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const fields = pairs(flat);
      const reason = kind === 'hash' ? redisRowProblem(fields) : `it is a Redis ${kind}, not a hash`;
      if (reason) unreadable.push({ leaseKey, reason, fingerprint: fingerprint(kind, fields) });
      else leases.push(leaseFromFields(leaseKey, fields));
    }
    return { leases, unreadable };
  }

  async get(leaseKey: string): Promise<LeaseSnapshot | undefined> {
    const fields = pairs((await this.send('get', ['HGETALL', this.leaseKeyOf(leaseKey)])) as string[]);
    if (Object.keys(fields).length === 0 || redisRowProblem(fields)) return undefined;
    return leaseFromFields(leaseKey, fields);
  }

  async create(lease: NewLease): Promise<boolean> {
    const reply = await this.script('create', [this.leaseKeyOf(lease.leaseKey), this.index], [
      lease.leaseKey,
      lease.checkpoint,
      JSON.stringify([...new Set(lease.parentShardIds)]),
      JSON.stringify([...new Set(lease.childShardIds ?? [])]),
      lease.startingHashKey ?? '',
      lease.endingHashKey ?? '',
    ]);
    return reply === 1;
  }

  async take(lease: LeaseSnapshot, owner: string, anchor?: number): Promise<boolean> {
    const switching = holderOf(lease) !== owner ? '1' : '0';
    const reply = await this.script('take', [this.leaseKeyOf(lease.leaseKey)], [lease.leaseCounter, owner, switching, anchor === undefined ? '' : Math.floor(anchor)]);
    return reply === 1;
  }

  async renew(leaseKey: string, counter: number, owner: string): Promise<false | HeldWrite> {
    return held(await this.script('renew', [this.leaseKeyOf(leaseKey)], [counter, owner]));
  }

  async checkpoint(leaseKey: string, counter: number, owner: string, checkpoint: string, subSequenceNumber: number, childShardIds: readonly string[] = []): Promise<false | HeldWrite> {
    return held(await this.script('checkpoint', [this.leaseKeyOf(leaseKey)], [counter, owner, checkpoint, subSequenceNumber, JSON.stringify([...childShardIds])]));
  }

  async addChildShardIds(leaseKey: string, childShardIds: readonly string[]): Promise<boolean> {
    return (await this.script('addChildShardIds', [this.leaseKeyOf(leaseKey)], [JSON.stringify([...childShardIds])])) === 1;
  }

  async release(leaseKey: string, owner: string): Promise<boolean> {
    return (await this.script('release', [this.leaseKeyOf(leaseKey)], [owner])) === 1;
  }

  async initiateHandoff(leaseKey: string, owner: string, to: string): Promise<boolean> {
    return (await this.script('initiateHandoff', [this.leaseKeyOf(leaseKey)], [owner, to])) === 1;
  }

  async completeHandoff(leaseKey: string, owner: string, to: string): Promise<boolean> {
    return (await this.script('completeHandoff', [this.leaseKeyOf(leaseKey)], [owner, to])) === 1;
  }

  async cancelHandoff(leaseKey: string, owner: string, to: string): Promise<boolean> {
    return (await this.script('cancelHandoff', [this.leaseKeyOf(leaseKey)], [owner, to])) === 1;
  }

  async deleteReleased(leaseKey: string): Promise<boolean> {
    return (await this.script('deleteReleased', [this.leaseKeyOf(leaseKey), this.index], [leaseKey])) === 1;
  }

  async deleteFinished(leaseKey: string): Promise<boolean> {
    return (await this.script('deleteFinished', [this.leaseKeyOf(leaseKey), this.index], [leaseKey, SHARD_END])) === 1;
  }

  async close(): Promise<void> {
    this.drop(this.connecting?.client);
    const client = this.client;
    this.client = undefined;
    await client?.close().catch(() => client.destroy());
  }
}
