import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { createKinesisClient } from '@kinesis-client/worker/internal';
import { startKinesisMock, type KinesisMock } from './local-kinesis-mock.js';

/** Credentials the local services accept; plain data, so they cross to worker threads. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_REGION = 'us-east-1';

export interface LocalAws {
  kinesisEndpoint: string;
  dynamodbEndpoint: string;
  /** Ready to spread into createSystem's options. */
  clientOptions: {
    region: string;
    kinesis: { endpoint: string; credentials: typeof LOCAL_CREDENTIALS };
    dynamodb: { endpoint: string; credentials: typeof LOCAL_CREDENTIALS };
  };
  /** With kinesis-mock: spread into `retrieval: { mode: 'fanout', consumerName, ...fanout }`. */
  fanout: KinesisMock['fanout'] | undefined;
  kinesisClient(): KinesisClient;
  stop(): Promise<void>;
}

/**
 * Starts the local Kinesis (kinesalite, or kinesis-mock for enhanced fan-out) and DynamoDB
 * (dynalite), each in a child process on an ephemeral loopback port. They are in-memory: every
 * start is a clean slate.
 */
export async function startLocalAws(options: { shardLimit?: number; kinesis?: 'kinesalite' | 'kinesis-mock' } = {}): Promise<LocalAws> {
  const script = fileURLToPath(import.meta.url).replace(/local-aws\.(ts|js)$/, 'local-aws-server.$1');
  const start = async (service: 'kinesis' | 'dynamodb') => {
    const child: ChildProcess = fork(script, [service], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, LOCAL_AWS_SHARD_LIMIT: String(options.shardLimit ?? 200) },
    });
    const [message] = (await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(([code]) => {
        throw new Error(`local ${service} exited during start-up (code ${code})`);
      }),
    ])) as [{ port: number }];
    return { child, port: message.port };
  };
  const mock = options.kinesis === 'kinesis-mock';
  const [kinesisServer, dynamodbServer] = await Promise.all([mock ? startKinesisMock() : start('kinesis'), start('dynamodb')]);
  const kinesisEndpoint = 'endpoint' in kinesisServer ? kinesisServer.endpoint : `http://127.0.0.1:${kinesisServer.port}`;
  const dynamodbEndpoint = `http://127.0.0.1:${dynamodbServer.port}`;
  const clientOptions = {
    region: LOCAL_REGION,
    kinesis: { endpoint: kinesisEndpoint, credentials: LOCAL_CREDENTIALS },
    dynamodb: { endpoint: dynamodbEndpoint, credentials: LOCAL_CREDENTIALS },
  };
  let stopped: Promise<void> | undefined;
  return {
    kinesisEndpoint,
    dynamodbEndpoint,
    clientOptions,
    fanout: 'fanout' in kinesisServer ? kinesisServer.fanout : undefined,
    kinesisClient: () => createKinesisClient({ region: LOCAL_REGION, ...clientOptions.kinesis }),
    stop() {
      stopped ??= (async () => {
        await Promise.all(
          [...('child' in kinesisServer ? [kinesisServer.child] : []), dynamodbServer.child].map(async (child) => {
            if (child.exitCode !== null || child.signalCode !== null) return;
            const exited = once(child, 'exit');
            child.kill('SIGTERM');
            await exited;
          }),
        );
        if ('stop' in kinesisServer) await kinesisServer.stop();
      })();
      return stopped;
    },
  };
}

export async function createStream(kinesis: KinesisClient, streamName: string, shardCount: number): Promise<void> {
  await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
  for (let i = 0; i < 200; i++) {
    const { StreamDescriptionSummary } = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`stream ${streamName} did not become ACTIVE`);
}

/** PutRecords in chunks of 500, retrying entries the service rejected; returns each entry's shard and sequence number. */
export async function putRecords(
  kinesis: KinesisClient,
  streamName: string,
  entries: PutRecordsRequestEntry[],
): Promise<{ shardId: string; sequenceNumber: string }[]> {
  const out: { shardId: string; sequenceNumber: string }[] = new Array(entries.length);
  for (let start = 0; start < entries.length; start += 500) {
    let pending = entries.slice(start, start + 500).map((entry, i) => ({ entry, index: start + i }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 20) throw new Error('PutRecords kept failing');
      const res = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: pending.map((p) => p.entry) }));
      const failed: typeof pending = [];
      res.Records!.forEach((r, i) => {
        if (r.ErrorCode) failed.push(pending[i]!);
        else out[pending[i]!.index] = { shardId: r.ShardId!, sequenceNumber: r.SequenceNumber! };
      });
      pending = failed;
      if (failed.length) await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
  }
  return out;
}
