import type { MessagePort, Worker } from 'node:worker_threads';
import type { Endpoint } from 'comlink';
// comlink ships its Node adapter without a declaration next to the .mjs file
// @ts-expect-error -- typed by the signature below
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';

/** A comlink Endpoint over a worker_threads port or Worker. */
export function comlinkEndpoint(port: MessagePort | Worker): Endpoint {
  return (nodeEndpoint as (p: MessagePort | Worker) => Endpoint)(port);
}
