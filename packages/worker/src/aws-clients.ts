import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { CallFaults } from './faults.js';
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

const faultStep = { step: 'initialize', name: 'kinesisClientCallFaults', priority: 'high' } as const;

/** `faults` makes the client answer to `system.faults.failCalls`. */
export function createKinesisClient(config: AwsClientConfig, maxSockets = 50, faults?: CallFaults): KinesisClient {
  const client = new KinesisClient({ requestHandler: httpHandler(maxSockets), ...config });
  if (faults) client.middlewareStack.add(faults.middleware(), faultStep);
  return client;
}

export function createDynamoDBClient(config: AwsClientConfig, maxSockets = 50, faults?: CallFaults): DynamoDBClient {
  const client = new DynamoDBClient({ requestHandler: httpHandler(maxSockets), ...config });
  if (faults) client.middlewareStack.add(faults.middleware(), faultStep);
  return client;
}
