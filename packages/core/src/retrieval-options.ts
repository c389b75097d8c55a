import { z } from 'zod';
import { backoff, count, ms } from './option-schemas.js';

/** Per shard: with 1 MiB records, 10 000 buffered records would be 10 GiB. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

/**
 * The `retrieval` option: GetRecords polling (the default; `mode: 'polling'` may be left out) or
 * enhanced fan-out (SubscribeToShard over HTTP/2), each with only its own settings.
 */
export const retrievalSchema = z
  .preprocess(
    (v) => (v && typeof v === 'object' && !('mode' in v) ? { ...v, mode: 'polling' } : v),
    z.discriminatedUnion(
      'mode',
      [
        z.strictObject({
          mode: z.literal('polling'),
          idleMs: ms(1_000),
          getRecordsLimit: count(10_000, 10_000),
          maxBufferedRecords: count(10_000, 1_000_000),
          /** Read-ahead stops at this many payload bytes per shard (plus one page): 32 MiB holds 32 records of 1 MiB. */
          maxBufferedBytes: count(MAX_BUFFERED_BYTES),
          /** After ProvisionedThroughputExceeded on a shard; that shard alone waits. */
          throttleBackoff: backoff(250, 10_000),
          /** Iterators expire after 5 minutes; one that sat unused this long (a paused shard) is replaced first. */
          iteratorMaxAgeMs: z.number().int().min(100).max(290_000).default(270_000),
        }),
        z.strictObject({
          mode: z.literal('fanout'),
          /** Registered on the stream if missing, reused if present. */
          consumerName: z.string().regex(/^[a-zA-Z0-9_.-]{1,128}$/, 'expected 1 to 128 of a-z A-Z 0-9 _ . -'),
          /** SubscribeToShard endpoint when it is not kinesis.endpoint (an emulator's HTTP/2 TLS port). */
          endpoint: z.url().optional(),
          /** TLS of the HTTP/2 connections: `ca` (PEM) or `rejectUnauthorized: false` for an emulator's self-signed certificate. */
          tls: z.strictObject({ rejectUnauthorized: z.boolean().optional(), ca: z.string().min(1).optional() }).optional(),
          watchdogMs: z.number().int().min(100).default(30_000),
          subscriptionMs: z.number().int().min(5_000).max(300_000).default(300_000),
          maxBufferedRecords: count(10_000, 1_000_000),
          maxBufferedBytes: count(MAX_BUFFERED_BYTES),
        }),
      ],
      { error: "expected { mode: 'polling', ...polling options } or { mode: 'fanout', consumerName, ... }" },
    ),
  )
  .prefault({});
