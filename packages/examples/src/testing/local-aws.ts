/**
 * Local AWS for the library: Kinesis (kinesalite, or kinesis-mock for enhanced fan-out) and
 * DynamoDB (dynalite), each in a child process on an ephemeral loopback port, with what a test,
 * the demo or a benchmark needs around them: client options for createSystem, SDK clients and the
 * lease table of an application.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { TestFn } from 'ava';
import { LeaseTable } from '@kinesis-client/worker/lease';
import { createDynamoDBClient, createKinesisClient } from '@kinesis-client/worker/internal';
import { startDynalite } from './dynalite.js';
import { startKinesalite } from './kinesalite.js';
import { startKinesisMock, type KinesisMock } from './kinesis-mock.js';
import { onlyOnce, withService, type Service } from './service.js';

// the SDK's notice about Node 20 support says nothing about what runs against the local services
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Credentials the local services accept; plain data, so they cross to worker threads and processes. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_REGION = 'us-east-1';

export interface LocalAwsOptions {
  /** kinesalite unless told otherwise. */
  kinesis?: 'kinesalite' | 'kinesis-mock';
  /** kinesalite's limit of shards over all streams (200). */
  shardLimit?: number;
}

export interface LocalAws extends Service {
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
  /** This process's clients, made on first use and destroyed by stop(). */
  readonly kinesis: KinesisClient;
  readonly dynamodb: DynamoDBClient;
  /** A fresh Kinesis client, built as the shard hosts build theirs; the caller destroys it. */
  kinesisClient(): KinesisClient;
  /** The lease table of an application (its appName), through `dynamodb`. */
  leaseTable(appName: string): LeaseTable;
}

export async function startLocalAws({ kinesis = 'kinesalite', shardLimit }: LocalAwsOptions = {}): Promise<LocalAws> {
  const [kinesisServer, dynamodbServer] = await Promise.all([
    kinesis === 'kinesis-mock' ? startKinesisMock() : startKinesalite({ shardLimit }).then((server) => ({ ...server, fanout: undefined })),
    startDynalite(),
  ]);
  const clientOptions = {
    region: LOCAL_REGION,
    kinesis: { endpoint: kinesisServer.endpoint, credentials: LOCAL_CREDENTIALS },
    dynamodb: { endpoint: dynamodbServer.endpoint, credentials: LOCAL_CREDENTIALS },
  };
  const kinesisClient = () => createKinesisClient({ region: LOCAL_REGION, ...clientOptions.kinesis });
  let clients: { kinesis?: KinesisClient; dynamodb?: DynamoDBClient } = {};
  const aws: LocalAws = {
    kinesisEndpoint: kinesisServer.endpoint,
    dynamodbEndpoint: dynamodbServer.endpoint,
    clientOptions,
    fanout: kinesisServer.fanout,
    get kinesis() {
      return (clients.kinesis ??= kinesisClient());
    },
    get dynamodb() {
      return (clients.dynamodb ??= createDynamoDBClient({ region: LOCAL_REGION, ...clientOptions.dynamodb }));
    },
    kinesisClient,
    leaseTable(appName) {
      return new LeaseTable(aws.dynamodb, appName);
    },
    stop: onlyOnce(async () => {
      clients.kinesis?.destroy();
      clients.dynamodb?.destroy();
      clients = {};
      await Promise.all([kinesisServer.stop(), dynamodbServer.stop()]);
    }),
  };
  return aws;
}

/** Local Kinesis and DynamoDB for one test file. */
export const withLocalAws = <C>(test: TestFn<C>, options: LocalAwsOptions = {}) => withService(test, 'local AWS', () => startLocalAws(options));
