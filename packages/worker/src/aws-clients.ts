import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { dynamodbSdk, httpHandlers, kinesisSdk } from './sdk.js';
import { addDeadlines } from './deadlines.js';
import type { CallFaults } from './faults.js';
import type { AwsClientConfig, FanoutConfig } from './protocol.js';

/**
 * Each thread builds its own clients from plain config, since SDK clients cannot cross threads.
 * Polling uses HTTP/1.1 with keep-alive: the Kinesis client's default HTTP/2 handler exists for
 * SubscribeToShard, and the local emulators speak HTTP/1.1 only. With a deadline, the handler's
 * own connection and request timeouts match it, so a socket that stops answering is destroyed
 * by the handler too, never handed to the next call.
 */
function httpHandler(maxSockets: number, timeoutMs: number): NodeHttpHandler {
  return new httpHandlers.NodeHttpHandler({
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
    ...(timeoutMs ? { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true } : {}),
  });
}

const faultStep = { step: 'initialize', name: 'kinesisClientCallFaults', priority: 'high' } as const;

interface ClientOptions {
  /** Per host; the main thread needs few. Default 50. */
  maxSockets?: number;
  /** Makes the client answer to `system.faults.failCalls`. */
  faults?: CallFaults;
  /** Every call's deadline (callTimeouts); 0 or absent: none. */
  timeoutMs?: number;
}

export function createKinesisClient(config: AwsClientConfig, { maxSockets = 50, faults, timeoutMs = 0 }: ClientOptions = {}): KinesisClient {
  const client = new kinesisSdk.KinesisClient({ requestHandler: httpHandler(maxSockets, timeoutMs), ...config });
  if (faults) client.middlewareStack.add(faults.middleware(), faultStep);
  return addDeadlines(client, timeoutMs);
}

export function createDynamoDBClient(config: AwsClientConfig, { maxSockets = 50, faults, timeoutMs = 0 }: ClientOptions = {}): DynamoDBClient {
  const client = new dynamodbSdk.DynamoDBClient({ requestHandler: httpHandler(maxSockets, timeoutMs), ...config });
  if (faults) client.middlewareStack.add(faults.middleware(), faultStep);
  return addDeadlines(client, timeoutMs);
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
class SubscriptionHandler extends httpHandlers.NodeHttp2Handler {
  override handle(...[request, options]: Parameters<NodeHttp2Handler['handle']>) {
    return super.handle(request, { ...options, isEventStream: false });
  }
}

/**
 * The HTTP/2 client for SubscribeToShard; the other calls keep the HTTP/1.1 client above.
 * SubscribeToShard itself has no deadline (it streams for minutes; the reader's watchdog covers
 * it), anything else sent through this client does.
 */
export function createSubscriptionClient(
  config: AwsClientConfig,
  fanout: Pick<FanoutConfig, 'endpoint' | 'tls'>,
  { faults, timeoutMs = 0 }: Omit<ClientOptions, 'maxSockets'> = {},
): KinesisClient {
  const requestHandler = new SubscriptionHandler({ maxConcurrentStreams: 1, ...(fanout.tls ? { nodeHttp2ConnectOptions: { ...fanout.tls } } : {}) });
  const client = new kinesisSdk.KinesisClient({ ...config, ...(fanout.endpoint ? { endpoint: fanout.endpoint } : {}), requestHandler });
  if (faults) client.middlewareStack.add(faults.middleware(), faultStep);
  return addDeadlines(client, timeoutMs);
}
