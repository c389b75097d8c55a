/**
 * What every command works on: the streams (Kinesis) and the application's leases (its store),
 * reached as the application reaches them. Clients are built with the options' own client config
 * only: whatever it leaves out (credentials, region, endpoint) the AWS SDK finds by itself, from
 * its default chain, AWS_REGION and AWS_ENDPOINT_URL_KINESIS / AWS_ENDPOINT_URL_DYNAMODB.
 */
import type { KinesisClient, Shard } from '@aws-sdk/client-kinesis';
import { KinesisClientError, isKinesisClientError } from '@kinesis-client/worker';
import { openLeaseStore, storeTarget, type LeaseSnapshot, type LeaseStore, type OpenedStore } from '@kinesis-client/worker/lease';
import { createKinesisClient } from '@kinesis-client/worker/internal';
import type { ResolvedOptions } from '../options.js';
import { listAllShards } from '../shard-graph.js';

export interface Session {
  options: ResolvedOptions;
  /** The streams given (--stream, or the config file's streamName / streams), in order; the first is the stream of bare shard-id lease keys. */
  streams: readonly string[];
  kinesis: KinesisClient;
  leases: LeaseStore;
  /** The store as messages name it, without credentials. */
  target: string;
  /** Every shard of a stream, open and closed; undefined when Kinesis has no such stream. */
  listing(streamName: string): Promise<Shard[] | undefined>;
  /** Every given stream's listing; STREAM_NOT_FOUND when Kinesis has none of them. */
  listings(): Promise<{ streamName: string; shards: Shard[] | undefined }[]>;
  /** Every lease; APPLICATION_NOT_FOUND when the store holds none (no table, or an application never started). */
  scan(): Promise<LeaseSnapshot[]>;
  /** The streams, then the application: STREAM_NOT_FOUND or APPLICATION_NOT_FOUND before anything else. */
  check(): Promise<void>;
  close(): Promise<void>;
}

const notFound = (error: unknown): boolean => {
  const e = error as { name?: string; code?: string; cause?: { code?: string } } | undefined;
  // DynamoDB: no table; PostgreSQL: undefined_table (42P01) or undefined schema (3F000)
  return e?.name === 'ResourceNotFoundException' || ['42P01', '3F000'].includes(e?.cause?.code ?? e?.code ?? '');
};

export async function openSession(options: ResolvedOptions, streams: readonly string[] = [options.streamName]): Promise<Session> {
  const timeoutMs = options.callTimeouts.dynamodbMs;
  const opened: OpenedStore = await openLeaseStore(options.store, { dynamodb: options.dynamodb, timeoutMs, maxConnections: 4, side: 'main' });
  const kinesis = createKinesisClient(options.kinesis, { maxSockets: 16, timeoutMs: options.callTimeouts.kinesisMs });
  const target = storeTarget(options.store);
  const missingApp = (cause?: unknown) =>
    new KinesisClientError(
      'APPLICATION_NOT_FOUND',
      `application "${options.appName}" has no leases in the ${target}: check the application name (--app, --table) and the store, or start the application once`,
      { ...(cause === undefined ? {} : { cause }), details: { appName: options.appName } },
    );
  const session: Session = {
    options,
    kinesis,
    leases: opened.store,
    target,
    streams,
    async listing(streamName) {
      try {
        return await listAllShards(kinesis, streamName);
      } catch (error) {
        if ((error as { name?: string })?.name === 'ResourceNotFoundException') return undefined;
        throw new KinesisClientError('AWS_CALL_FAILED', `ListShards for "${streamName}" failed: ${(error as Error)?.message}`, { cause: error });
      }
    },
    async listings() {
      const out = await Promise.all(streams.map(async (streamName) => ({ streamName, shards: await session.listing(streamName) })));
      const missing = out.filter((s) => s.shards === undefined).map((s) => s.streamName);
      if (missing.length === streams.length) {
        const names = missing.map((s) => `"${s}"`).join(', ');
        throw new KinesisClientError('STREAM_NOT_FOUND', `stream${missing.length > 1 ? 's' : ''} ${names} ${missing.length > 1 ? 'do' : 'does'} not exist`, { details: { streamName: missing[0], streams: missing } });
      }
      return out;
    },
    async scan() {
      let leases: LeaseSnapshot[];
      try {
        leases = await opened.store.scan();
      } catch (error) {
        if (notFound(error)) throw missingApp();
        if (isKinesisClientError(error)) throw error;
        throw new KinesisClientError('LEASE_TABLE_FAILED', `reading the ${target} failed: ${(error as Error)?.message}`, { cause: error });
      }
      if (leases.length === 0) throw missingApp();
      return leases;
    },
    async check() {
      await session.listings();
      await session.scan();
    },
    async close() {
      kinesis.destroy();
      await opened.close();
    },
  };
  return session;
}
