import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsClientConfig } from './protocol.js';

/**
 * Each thread builds its own clients from plain config, since SDK clients cannot cross threads.
 * Polling uses HTTP/1.1 with keep-alive: the Kinesis client's default HTTP/2 handler exists for
 * SubscribeToShard, and the local emulators speak HTTP/1.1 only.
 */
function httpHandler(maxSockets: number): NodeHttpHandler {
  return new NodeHttpHandler({
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
  });
}

export function createKinesisClient(config: AwsClientConfig, maxSockets = 50): KinesisClient {
  return new KinesisClient({ requestHandler: httpHandler(maxSockets), ...config });
}

export function createDynamoDBClient(config: AwsClientConfig, maxSockets = 50): DynamoDBClient {
  return new DynamoDBClient({ requestHandler: httpHandler(maxSockets), ...config });
}
