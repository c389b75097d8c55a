/**
 * Every Kinesis and DynamoDB call gets a deadline. A half-open connection (no reset, no reply)
 * otherwise holds a call forever: a hung GetRecords stalls its shard while the lease keeps being
 * renewed, and a hung renewal cannot even tell the worker that it lost DynamoDB.
 */
import { KinesisClientError } from './errors.js';

/** Long-lived by design, with a watchdog of their own (the subscription reader's). */
const DEADLINE_EXEMPT: ReadonlySet<string> = new Set(['SubscribeToShard']);

/** A CALL_TIMEOUT error that also looks like the SDK's own timeouts, so code matching on `name` treats it as transient. */
export function callTimeoutError(command: string, timeoutMs: number): KinesisClientError {
  const error = new KinesisClientError('CALL_TIMEOUT', `${command} did not answer within ${timeoutMs} ms; the request was aborted`, {
    details: { command, timeoutMs },
  });
  Object.defineProperty(error, 'name', { value: 'TimeoutError', enumerable: false, configurable: true, writable: false });
  Object.assign(error, { $metadata: {} });
  return error;
}

type SendOptions = { abortSignal?: AbortSignal } & Record<string, unknown>;
interface Sender {
  send(command: object, options?: unknown, cb?: unknown): unknown;
}

const commandOf = (command: object) => command.constructor.name.replace(/Command$/, '');

/**
 * Wraps `client.send` so a call still pending after timeoutMs rejects with CALL_TIMEOUT and its
 * request is aborted (the handler destroys the socket, so it is never reused). The wrapper sits
 * outside the whole middleware stack: it covers the SDK's own retries and any injected fault.
 * The abort signal reaches middleware through the SDK's context, which is how an injected hang
 * ends at the deadline. timeoutMs 0 leaves the client as it was.
 */
export function addDeadlines<C extends Sender>(client: C, timeoutMs: number): C {
  if (!timeoutMs) return client;
  const send = client.send.bind(client) as (command: object, options?: unknown, cb?: unknown) => Promise<unknown>;
  client.send = ((command: object, optionsOrCb?: unknown, cb?: unknown) => {
    const name = commandOf(command);
    if (typeof optionsOrCb === 'function' || cb !== undefined || DEADLINE_EXEMPT.has(name)) return send(command, optionsOrCb, cb);
    const options = (optionsOrCb ?? {}) as SendOptions;
    const controller = new AbortController();
    const outer = options.abortSignal;
    const onOuterAbort = () => controller.abort(outer!.reason);
    if (outer?.aborted) controller.abort(outer.reason);
    else outer?.addEventListener('abort', onOuterAbort, { once: true });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = callTimeoutError(name, timeoutMs);
        controller.abort(error);
        reject(error);
      }, timeoutMs);
      const settle = () => {
        clearTimeout(timer);
        outer?.removeEventListener('abort', onOuterAbort);
      };
      send(command, { ...options, abortSignal: controller.signal }).then(
        (value) => (settle(), resolve(value)),
        (error: unknown) => (settle(), reject(error)),
      );
    });
  }) as C['send'];
  return client;
}
