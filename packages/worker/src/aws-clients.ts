import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import type { CallFaults } from './faults.js';
import type { AwsClientConfig, FanoutConfig } from './protocol.js';

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

/**
 * The SDK's HTTP/2 handler gives an event stream an isolated session and closes it (GOAWAY) as
 * soon as the response headers arrive, leaving the stream to finish on a closing session. Servers
 * may answer that GOAWAY in ways Node's HTTP/2 core will not take: kinesis-mock sends a PING ACK
 * nobody asked for, which Node treats as a connection error ("Protocol error"), and then resets
 * the stream. So SubscribeToShard takes the pooled path here, with one stream per session: each
 * subscription still has a connection of its own, nothing is closed while it streams, and the
 * next subscription of the shard reuses the connection.
 */
class SubscriptionHandler extends NodeHttp2Handler {
  override handle(...[request, options]: Parameters<NodeHttp2Handler['handle']>) {
    return super.handle(request, { ...options, isEventStream: false });
  }
}

/** The HTTP/2 client for SubscribeToShard; the other calls keep the HTTP/1.1 client above. */
export function createSubscriptionClient(config: AwsClientConfig, fanout: Pick<FanoutConfig, 'endpoint' | 'tls'>, faults?: CallFaults): KinesisClient {
  const requestHandler = new SubscriptionHandler({ maxConcurrentStreams: 1, ...(fanout.tls ? { nodeHttp2ConnectOptions: { ...fanout.tls } } : {}) });
  const client = new KinesisClient({ ...config, ...(fanout.endpoint ? { endpoint: fanout.endpoint } : {}), requestHandler });
  if (faults) client.middlewareStack.add(faults.middleware(), faultStep);
  return client;
}
