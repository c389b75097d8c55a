/**
 * The command line, read: which command, and the application's configuration from a config file
 * (the shape of createSystem's options) with flags over it, resolved by the same resolveOptions
 * as createSystem, so the CLI finds exactly the table, store and stream the application uses.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { resolveOptions, type ResolvedOptions } from '../options.js';
import { parseTarget, type ResetTarget } from './target.js';
import { usageError } from './usage.js';

export const COMMANDS = ['status', 'watch', 'reset', 'release'] as const;
export type Command = (typeof COMMANDS)[number];

export const SHORT_USAGE = 'Usage: kinesis-client status|watch|reset|release --app NAME --stream NAME [--stream NAME ...] [options]; kinesis-client --help lists them';

export const USAGE = `Usage: kinesis-client <command> [options]

Commands:
  status                       shards, owners, checkpoints, how far behind, workers; by stream
  watch                        status, redrawn every --interval seconds (Ctrl-C ends it)
  reset --shard S --to P       move a shard's checkpoint; P: TRIM_HORIZON, LATEST, a sequence
                               number or an ISO time (AT_TIMESTAMP); --force takes the lease
                               from a live worker first
  release --shard S | --worker W
                               free leases so other workers take them at once
  (a shard id in several streams of the application needs --stream to say which)

The application (flags override the config file):
  --config FILE                JSON with createSystem's options (appName, streamName or streams,
                               store, ...)
  --app NAME                   appName: the application, and its lease table unless --table
  --stream NAME                streamName; repeat it for several of the streams option's streams
  --table NAME                 tableName, when it is not the application's name
  --region REGION              else AWS_REGION, as the AWS SDK reads it
  --store TYPE                 dynamodb (default), postgres or redis
  --connection-string URL      postgres: postgres://user:password@host:port/database
  --schema NAME                postgres: the table's schema (default public)
  --url URL                    redis: redis://user:password@host:port
  --prefix PREFIX              redis: key prefix (default kcl:<table>:)
  --failover-ms MS             lease.failoverMs of the application (default 10000)

Output:
  --json                       JSON instead of tables
  --sample MS                  status: watch lease counters this long to tell live owners from
                               expired ones (default renewIntervalMs + 500); 0: do not wait
  --skip-lag                   status, watch: do not read each shard's position behind latest
  --interval SECONDS           watch: seconds between redraws (default 5)
  --help                       this text

AWS credentials, region and endpoints come from the SDK's own chain (AWS_PROFILE, AWS_REGION,
AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL_DYNAMODB, ...). See docs/cli.md.`;

const flags = {
  config: { type: 'string' },
  app: { type: 'string' },
  stream: { type: 'string', multiple: true },
  table: { type: 'string' },
  region: { type: 'string' },
  store: { type: 'string' },
  'connection-string': { type: 'string' },
  schema: { type: 'string' },
  url: { type: 'string' },
  prefix: { type: 'string' },
  'failover-ms': { type: 'string' },
  json: { type: 'boolean' },
  sample: { type: 'string' },
  'skip-lag': { type: 'boolean' },
  interval: { type: 'string' },
  shard: { type: 'string' },
  to: { type: 'string' },
  force: { type: 'boolean' },
  worker: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface Invocation {
  command: Command;
  options: ResolvedOptions;
  /** The CLI's own lease owner name, for the writes of reset and release. */
  me: string;
  /** The streams to show and act on: --stream flags, else the config file's streams or streamName. */
  streams: string[];
  json: boolean;
  sampleMs: number;
  lag: boolean;
  intervalMs: number;
  shard: string | undefined;
  /** reset --to, parsed. */
  target: ResetTarget | undefined;
  force: boolean;
  worker: string | undefined;
}

function number(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw usageError(`--${flag} must be a number of at least ${min}, not "${value}"`);
  return n;
}

function readConfig(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw usageError(`--config ${file}: ${(error as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('expected a JSON object of createSystem options');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw usageError(`--config ${file}: ${(error as Error).message}`);
  }
}

type Values = { [K in keyof typeof flags]?: (typeof flags)[K]['type'] extends 'boolean' ? boolean : (typeof flags)[K] extends { multiple: true } ? string[] : string };

/** A stream's name from its ARN (`arn:aws:kinesis:region:account:stream/NAME`). */
const nameOfArn = (arn: string) => /^arn:[^:]+:kinesis:[^:]*:[^:]*:stream\/([^/]+)$/.exec(arn)?.[1];

/**
 * The streams named: --stream flags over the config file's `streams` (createSystem's shape:
 * `[{ streamName } | { streamArn }]`) or `streamName`.
 */
function streamsOf(v: Values, config: Record<string, unknown>): string[] {
  if (v.stream?.length) return [...new Set(v.stream)];
  if (config.streams === undefined) return typeof config.streamName === 'string' && config.streamName ? [config.streamName] : [];
  if (!Array.isArray(config.streams)) throw usageError(`--config: streams must be a list of { streamName } or { streamArn }`);
  return [
    ...new Set(
      config.streams.map((s: { streamName?: unknown; streamArn?: unknown } | undefined, i) => {
        const name = typeof s?.streamName === 'string' ? s.streamName : typeof s?.streamArn === 'string' ? nameOfArn(s.streamArn) : undefined;
        if (!name) throw usageError(`--config: streams[${i}] must have a streamName or a Kinesis stream ARN (streamArn)`);
        return name;
      }),
    ),
  ];
}

/** The config file's options with the flags laid over them, and the streams named. */
function applicationOptions(v: Values): { input: Record<string, unknown>; streams: string[] } {
  const config = v.config ? readConfig(v.config) : {};
  const out: Record<string, unknown> = { ...config };
  const streams = streamsOf(v, config);
  // the options are resolved as for the first stream: every stream shares the application's store
  delete out.streams;
  delete out.streamName;
  if (streams[0]) out.streamName = streams[0];
  if (v.app) out.appName = v.app;
  if (v.table) out.tableName = v.table;
  if (v.region) out.region = v.region;
  const failoverMs = number(v['failover-ms'], 'failover-ms', 1);
  if (failoverMs !== undefined) out.lease = { ...(config.lease as object), failoverMs };
  const given = (config.store ?? {}) as Record<string, unknown>;
  const type = v.store ?? (given.type as string | undefined) ?? 'dynamodb';
  if (!['dynamodb', 'postgres', 'redis'].includes(type)) {
    throw usageError(`--store must be dynamodb, postgres or redis, not "${type}" (the memory store lives inside one process)`);
  }
  const store: Record<string, unknown> = v.store && v.store !== given.type ? { type } : { ...given, type };
  if (type === 'dynamodb' && v.table) delete store.tableName;
  if (v['connection-string']) store.connectionString = v['connection-string'];
  if (v.schema) store.schema = v.schema;
  if (v.url) store.url = v.url;
  if (v.prefix) store.prefix = v.prefix;
  for (const key of ['connectionString', 'schema'] as const) if (store[key] !== undefined && type !== 'postgres') throw usageError(`--${key === 'schema' ? 'schema' : 'connection-string'} is for --store postgres`);
  for (const key of ['url', 'prefix'] as const) if (store[key] !== undefined && type !== 'redis') throw usageError(`--${key} is for --store redis`);
  out.store = store;
  // the application's own worker id must never become the CLI's
  delete out.workerId;
  return { input: out, streams };
}

/** Reads argv (without node and the script); throws INVALID_ARGUMENT (a usage error) or INVALID_OPTION. */
export function parseInvocation(argv: readonly string[]): Invocation | 'help' {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: flags, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const v = parsed.values as Values;
  if (v.help) return 'help';
  const [command, ...extra] = parsed.positionals;
  if (!command) throw usageError('a command is needed: status, watch, reset or release');
  if (!(COMMANDS as readonly string[]).includes(command)) throw usageError(`unknown command "${command}": expected status, watch, reset or release`);
  if (extra.length > 0) throw usageError(`unexpected argument "${extra[0]}"`);
  const { input, streams } = applicationOptions(v);
  if (!input.appName) throw usageError('--app (or appName in --config) is needed');
  if (streams.length === 0) throw usageError('--stream (or streamName or streams in --config) is needed');
  // the consumer module is the application's business; the CLI resolves everything else the same way
  const options = resolveOptions({ consumer: 'kinesis-client-cli', ...input });
  const invocation: Invocation = {
    command: command as Command,
    options,
    me: `kinesis-client-cli@${hostname()}:${process.pid}`,
    streams,
    json: !!v.json,
    sampleMs: number(v.sample, 'sample', 0) ?? options.lease.renewIntervalMs + 500,
    lag: !v['skip-lag'],
    intervalMs: (number(v.interval, 'interval', 0.1) ?? 5) * 1000,
    shard: v.shard,
    target: undefined,
    force: !!v.force,
    worker: v.worker,
  };
  checkCommandFlags(invocation, v);
  if (v.to !== undefined) invocation.target = parseTarget(v.to, Date.now());
  return invocation;
}

function checkCommandFlags(i: Invocation, v: Values): void {
  const only = (flag: keyof Values, commands: Command[]) => {
    if (v[flag] !== undefined && !commands.includes(i.command)) throw usageError(`--${flag} is for ${commands.join(' and ')}, not ${i.command}`);
  };
  only('shard', ['reset', 'release']);
  only('to', ['reset']);
  only('force', ['reset']);
  only('worker', ['release']);
  only('interval', ['watch']);
  only('sample', ['status']);
  if (i.command === 'reset' && (!i.shard || v.to === undefined)) throw usageError('reset needs --shard and --to');
  if (i.command === 'release' && !!i.shard === !!i.worker) throw usageError('release needs --shard or --worker (one of them)');
  if (i.command === 'watch' && i.json) throw usageError('watch draws tables; for JSON run status --json repeatedly');
}
