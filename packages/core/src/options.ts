import { availableParallelism, hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { KinesisClientError } from '@kinesis-client/worker';
import type { StoreConfig } from '@kinesis-client/worker/lease';
import { invalid, valueAt } from './option-errors.js';
import { backoff, count, ms, positiveMs, supervisorLimits } from './option-schemas.js';
import { retrievalSchema } from './retrieval-options.js';
import { storeConfig, storeSchema } from './store-options.js';
import { initialPositionSchema, resolveStreams, streamSpecSchema, type StreamOptions } from './stream-options.js';
import type { AwsClientConfig } from '@kinesis-client/worker/internal';
import type { MeterProvider } from '@opentelemetry/api';
import type { Logger } from './logging.js';

/** Node's timers fire at once beyond this. */
const MAX_TIMER_MS = 2_147_483_647;
const plainConfig = z.record(z.string(), z.unknown()).default({});

const cores = availableParallelism();

const optionsSchema = z.strictObject({
  /** One stream (single-stream lease keys); or `streams`, for several (stream-options.ts). */
  streamName: z.string().min(1).optional(),
  streams: z.array(streamSpecSchema).min(1).optional(),
  appName: z.string().min(1),
  /** Defaults to appName, as in the Java KCL. */
  tableName: z.string().min(3).max(255).optional(),
  consumer: z.union([z.string().min(1), z.instanceof(URL)], { error: 'expected a module path or a file URL of the consumer module' }),
  initialPosition: initialPositionSchema.default('TRIM_HORIZON'),
  region: z.string().min(1).optional(),
  kinesis: plainConfig,
  dynamodb: plainConfig,
  store: storeSchema.optional(),
  workerId: z.string().min(1).optional(),
  lease: z
    .strictObject({
      failoverMs: positiveMs(10_000),
      renewIntervalMs: z.number().finite().int().min(1).optional(),
      takeIntervalMs: z.number().finite().int().min(1).optional(),
      maxLeasesPerWorker: z.number().int().min(1).optional(),
      /**
       * Leases asked per take cycle of workers at target (workers above target are asked for as
       * many as needed); 0 turns stealing off: a worker then takes only free and expired leases.
       */
      maxStealPerCycle: z.number().int().min(0).max(1_000).default(1),
      /**
       * A handoff to this worker still pending this long while its holder keeps renewing is cancelled (the lease goes back
       * to the holder; one still draining then frees it instead); default 3 x max(takeIntervalMs, failoverMs).
       */
      handoffTimeoutMs: z.number().finite().int().min(1).optional(),
      /** A finished lease whose children have all started is deleted after this long, as the Java KCL's lease cleanup does. */
      cleanupAfterMs: ms(300_000),
      /** At most one checkpoint write per shard per interval; 0 writes after every batch. */
      checkpointIntervalMs: ms(1_000),
      /** Batches stop starting this long before a lease not renewed could be taken by another worker; default failoverMs / 5. */
      safetyMarginMs: z.number().finite().int().min(0).optional(),
    })
    .prefault({}),
  /**
   * Deadlines of every Kinesis and DynamoDB call, in every thread (SubscribeToShard is exempt: it
   * streams, and its watchdog covers it). 0 turns a deadline off. dynamodbMs defaults to one
   * renewal interval (at least the smaller of failoverMs / 2 and 2 s), so a hung renewal is cut
   * and retried well before the lease could expire.
   */
  callTimeouts: z
    .strictObject({
      /** Generous: a slow page of 10 000 records must not be cut and read again forever; a hung one still ends. */
      kinesisMs: ms(30_000),
      dynamodbMs: z.number().finite().int().min(0).optional(),
    })
    .prefault({}),
  /** Main thread only (the coordinator decides what to take), so it never has to cross to a thread. */
  shouldProcess: z
    .custom<(shardId: string, workerId: string, streamName: string) => boolean>((v) => typeof v === 'function', {
      error: 'expected a function (shardId, workerId) => boolean',
    })
    .optional(),
  /** Main thread only: events from every thread reach it there (logging.ts). */
  logger: z
    .custom<Logger>((v) => !!v && typeof v === 'object' && ['child', 'debug', 'info', 'warn', 'error'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function'), {
      error: 'expected a pino-compatible logger: an object with child, debug, info, warn and error functions',
    })
    .optional(),
  /** The OpenTelemetry MeterProvider the metrics go to (metrics.ts); default: the global one of @opentelemetry/api. */
  meterProvider: z
    .custom<MeterProvider>((v) => !!v && typeof v === 'object' && typeof (v as Record<string, unknown>).getMeter === 'function', {
      error: 'expected an OpenTelemetry MeterProvider (an object with getMeter)',
    })
    .optional(),
  processors: z.strictObject({ concurrency: count(cores, 256) }).prefault({}),
  batchers: z
    .strictObject({
      batchSize: count(500, 10_000),
      maxAttempts: count(5, 1_000),
      backoff: backoff(100, 5_000),
      /** A handleBatch or handleFailed call still running after this long is abandoned (its thread replaced) as a failed attempt; 0: no limit. */
      timeoutMs: z.number().int().min(0).max(MAX_TIMER_MS).default(300_000),
    })
    .prefault({}),
  /**
   * How shards are read, with the options of that mode: GetRecords polling (the default; `mode`
   * may be left out) or enhanced fan-out (SubscribeToShard over HTTP/2).
   */
  retrieval: retrievalSchema,
  shardHosts: z
    .strictObject({
      // half the cores: a shard host mostly waits on the network and scans pages, while the pool
      // threads (one per core) run the consumer's code; measured on 2 cores, one host thread drains
      // faster and spends less CPU per record than two (README, Benchmarks)
      threads: count(Math.ceil(cores / 2), 64),
      /** Passed to each shard-host Worker; a thread over its limit dies and is restarted like any crash. */
      resourceLimits: z
        .strictObject({
          maxOldGenerationSizeMb: z.number().positive().optional(),
          maxYoungGenerationSizeMb: z.number().positive().optional(),
          codeRangeSizeMb: z.number().positive().optional(),
          stackSizeMb: z.number().positive().optional(),
        })
        .optional(),
    })
    .prefault({}),
  /** The optional HTTP endpoint: health probes, the state as JSON, server-sent events and the dashboard. Loopback unless `host` says otherwise. */
  http: z
    .strictObject({
      port: z.number().int().min(0).max(65_535),
      host: z.string().min(1).default('127.0.0.1'),
    })
    .optional(),
  health: z
    .strictObject({
      /** A held shard with records waiting and no batch handled for this long makes the worker not ready (NO_PROGRESS). */
      stallMs: positiveMs(300_000),
    })
    .prefault({}),
  supervision: z
    .strictObject({
      /** Each shard's lease and reader actors (rest_for_one); past the limit the shard is released and retried later. */
      shard: supervisorLimits(5, 30_000, 50, 2_000),
      /** The shard-host threads (one_for_one); past the limit it escalates to the root. */
      shardHosts: supervisorLimits(5, 60_000, 50, 2_000),
      /** The root, over the shard hosts and the coordinator; past the limit the system stops and emits `fatal`. */
      root: supervisorLimits(3, 60_000, 100, 2_000),
    })
    .prefault({}),
});

export type SystemOptions = z.input<typeof optionsSchema>;
export type { StreamOptions, StreamSpec } from './stream-options.js';
type Parsed = z.output<typeof optionsSchema>;

export interface ResolvedOptions extends Omit<Parsed, 'consumer' | 'lease' | 'callTimeouts' | 'store' | 'streamName' | 'streams'> {
  /** The first stream's name: single-stream mode's one stream. */
  streamName: string;
  /** Every stream at start, one entry in single-stream mode. */
  streams: readonly StreamOptions[];
  /** `streams` was given: lease keys are the Java KCL's multi-stream ones. */
  multiStream: boolean;
  consumerUrl: string;
  tableName: string;
  store: StoreConfig;
  workerId: string;
  kinesis: AwsClientConfig;
  dynamodb: AwsClientConfig;
  lease: {
    failoverMs: number;
    renewIntervalMs: number;
    takeIntervalMs: number;
    maxLeasesPerWorker: number | undefined;
    maxStealPerCycle: number;
    handoffTimeoutMs: number;
    checkpointIntervalMs: number;
    cleanupAfterMs: number;
    safetyMarginMs: number;
  };
  callTimeouts: { kinesisMs: number; dynamodbMs: number };
}

/** The normalized options every part of the system reads. */
export type Options = ResolvedOptions;

/**
 * Options that are each valid but contradict one another, checked once defaults are filled in.
 * Every cross-field rule lives here (the README lists them); each names the option to change.
 */
function checkContradictions(o: ResolvedOptions, input: Record<string, unknown>): void {
  const given = (input.lease ?? {}) as Record<string, unknown>;
  const { failoverMs, renewIntervalMs, handoffTimeoutMs, safetyMarginMs } = o.lease;
  const blame = (option: string) => (given[option] !== undefined ? `lease.${option}` : 'lease.failoverMs');
  if (renewIntervalMs >= failoverMs) {
    throw invalid(
      blame('renewIntervalMs'),
      `contradicts lease.failoverMs: renewals every ${renewIntervalMs} ms cannot keep a lease that expires after ${failoverMs} ms (renewIntervalMs must be below failoverMs)`,
      given.renewIntervalMs ?? failoverMs,
    );
  }
  if (renewIntervalMs + safetyMarginMs >= failoverMs) {
    // a renewal must land before the fence closes, or every shard would stop between renewals
    throw invalid(
      given.safetyMarginMs === undefined ? 'lease.renewIntervalMs' : 'lease.safetyMarginMs',
      `must leave renewIntervalMs + safetyMarginMs below failoverMs (${renewIntervalMs} + ${safetyMarginMs} >= ${failoverMs})`,
      given.safetyMarginMs ?? renewIntervalMs,
    );
  }
  if (handoffTimeoutMs <= renewIntervalMs) {
    throw invalid(
      'lease.handoffTimeoutMs',
      `contradicts lease.renewIntervalMs: an owner notices a handoff at its next renewal, so a handoff cancelled after ${handoffTimeoutMs} ms could never complete (handoffTimeoutMs must exceed renewIntervalMs ${renewIntervalMs})`,
      handoffTimeoutMs,
    );
  }
  if (o.callTimeouts.dynamodbMs >= failoverMs) {
    // a renewal allowed to hang that long could not be retried before the lease expires
    throw invalid('callTimeouts.dynamodbMs', `must be less than lease.failoverMs (${failoverMs})`, o.callTimeouts.dynamodbMs);
  }
  const backoffs: [string, { baseMs: number; maxMs: number }][] = [
    ['batchers.backoff', o.batchers.backoff],
    ...(o.retrieval.mode === 'polling' ? [['retrieval.throttleBackoff', o.retrieval.throttleBackoff] as [string, { baseMs: number; maxMs: number }]] : []),
    ['supervision.shard.backoff', o.supervision.shard.backoff],
    ['supervision.shardHosts.backoff', o.supervision.shardHosts.backoff],
    ['supervision.root.backoff', o.supervision.root.backoff],
  ];
  for (const [option, b] of backoffs) {
    if (b.baseMs > b.maxMs) throw invalid(`${option}.baseMs`, `contradicts ${option}.maxMs: the first delay exceeds the largest (baseMs must be at most maxMs)`, b.baseMs);
  }
}

/** Validates and fills defaults; throws INVALID_OPTION naming the first bad option. */
export function resolveOptions(input: unknown): ResolvedOptions {
  if (!input || typeof input !== 'object') throw invalid('options', 'must be an object', input);
  if ('polling' in input) {
    // the polling options belong to the polling mode, so none can sit unread beside fan-out
    throw invalid('polling', "has moved: polling options go in retrieval (e.g. retrieval: { mode: 'polling', idleMs: 500 })", (input as { polling: unknown }).polling);
  }
  const parsed = optionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
    const option = path.map(String).join('.') || 'options';
    const expected = issue.code === 'unrecognized_keys' ? 'is not a known option' : `is invalid: ${issue.message}`;
    throw invalid(option, expected, valueAt(input, path));
  }
  const o = parsed.data;
  const { streams, multiStream } = resolveStreams(o, o.initialPosition);
  for (const key of ['kinesis', 'dynamodb'] as const) {
    try {
      structuredClone(o[key]);
    } catch {
      throw invalid(
        key,
        'must be plain data, since each worker thread builds its own client from it: functions (credential providers, request handlers) cannot cross threads; pass credentials as { accessKeyId, secretAccessKey } or use the default chain',
        o[key],
      );
    }
  }
  const given = o.store ?? { type: 'dynamodb' as const };
  if (given.type === 'dynamodb' && given.tableName && o.tableName && given.tableName !== o.tableName) {
    throw invalid('store.tableName', `contradicts tableName "${o.tableName}": give the table name once`, given.tableName);
  }
  const tableName = (given.type === 'dynamodb' ? given.tableName : undefined) ?? o.tableName ?? o.appName;
  if (given.type === 'dynamodb' && !/^[a-zA-Z0-9_.-]{3,255}$/.test(tableName)) {
    throw invalid(
      given.tableName !== undefined ? 'store.tableName' : o.tableName === undefined ? 'appName' : 'tableName',
      'must be a valid DynamoDB table name (3 to 255 of a-z A-Z 0-9 _ - .), since the lease table is named after it; or pass tableName',
      tableName,
    );
  }
  const store = storeConfig(given, tableName);
  const failoverMs = o.lease.failoverMs;
  const renewIntervalMs = o.lease.renewIntervalMs ?? Math.max(1, Math.floor(failoverMs / 3));
  // one renewal interval: a hung renewal is cut and retried by about 2/3 of failoverMs; never so
  // short that a loaded DynamoDB (or a local emulator on a busy machine) times out by itself
  const dynamodbMs = o.callTimeouts.dynamodbMs ?? Math.max(renewIntervalMs, Math.min(Math.floor(failoverMs / 2), 2_000));
  const safetyMarginMs = o.lease.safetyMarginMs ?? Math.floor(failoverMs / 5);
  const withRegion = (config: AwsClientConfig) => (o.region && config.region === undefined ? { ...config, region: o.region } : config);
  const consumerUrl =
    o.consumer instanceof URL
      ? o.consumer.href
      : /^[a-z][a-z0-9+.-]*:/i.test(o.consumer) && !isAbsolute(o.consumer)
        ? o.consumer
        : pathToFileURL(resolve(o.consumer)).href;
  const takeIntervalMs = o.lease.takeIntervalMs ?? failoverMs * 2;
  const resolved: ResolvedOptions = {
    ...o,
    streamName: streams[0]!.streamName,
    streams,
    multiStream,
    consumerUrl,
    tableName,
    store,
    workerId: o.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    kinesis: withRegion(o.kinesis),
    dynamodb: withRegion(o.dynamodb),
    lease: {
      failoverMs,
      renewIntervalMs,
      takeIntervalMs,
      maxLeasesPerWorker: o.lease.maxLeasesPerWorker,
      maxStealPerCycle: o.lease.maxStealPerCycle,
      handoffTimeoutMs: o.lease.handoffTimeoutMs ?? 3 * Math.max(takeIntervalMs, failoverMs),
      checkpointIntervalMs: o.lease.checkpointIntervalMs,
      cleanupAfterMs: o.lease.cleanupAfterMs,
      safetyMarginMs,
    },
    callTimeouts: { kinesisMs: o.callTimeouts.kinesisMs, dynamodbMs },
  };
  checkContradictions(resolved, input as Record<string, unknown>);
  return resolved;
}
