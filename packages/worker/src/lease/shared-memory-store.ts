/**
 * The memory store across the threads of one process. The leases live on the main thread (one
 * MemoryLeaseStore per name, shared by every system of the process that uses that name, as
 * workers share a table); shard-host threads reach them over a BroadcastChannel, which needs no
 * port handed to each thread. Each call runs on the main thread in one synchronous step, so the
 * conditions hold across threads exactly as within one. Nothing crosses processes.
 */
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';
import { deserializeError, serializeError, type SerializedError } from '../errors.js';
import type { LeaseStore } from './lease.js';
import { MemoryLeaseStore } from './memory-lease-store.js';
import { withDeadline } from './store-errors.js';

type Method = keyof LeaseStore;
type Request = { kind: 'call'; id: string; method: Method; args: unknown[] };
type Reply = { kind: 'reply'; id: string; result?: unknown; error?: SerializedError };

const channelName = (name: string) => `kinesis-client:memory-lease-store:${name}`;

const stores = new Map<string, MemoryLeaseStore>();

/**
 * The process's store of this name, served to its threads. Main thread only: that is where the
 * leases live, whichever thread asks.
 */
export function memoryLeaseStore(name: string): MemoryLeaseStore {
  if (!isMainThread) throw new Error('the memory lease store lives on the main thread; threads reach it with remoteMemoryStore');
  let store = stores.get(name);
  if (!store) {
    const created = new MemoryLeaseStore();
    store = created;
    stores.set(name, created);
    const channel = new BroadcastChannel(channelName(name));
    // serving threads must not keep a finished process alive
    channel.unref();
    channel.onmessage = (event) => {
      const request = (event as { data: Request | Reply }).data;
      if (request?.kind !== 'call') return;
      const call = (created[request.method as keyof MemoryLeaseStore] as (...args: unknown[]) => Promise<unknown>).apply(created, request.args);
      call.then(
        (result) => channel.postMessage({ kind: 'reply', id: request.id, result } satisfies Reply),
        (error: unknown) => channel.postMessage({ kind: 'reply', id: request.id, error: serializeError(error) } satisfies Reply),
      );
    };
  }
  return store;
}

const METHODS: readonly Method[] = [
  'ensure',
  'scan',
  'scanRows',
  'get',
  'create',
  'take',
  'renew',
  'checkpoint',
  'addChildShardIds',
  'release',
  'initiateHandoff',
  'completeHandoff',
  'cancelHandoff',
  'deleteFinished',
  'deleteReleased',
];

/** A shard-host thread's view of the main thread's store `name`; each call within `timeoutMs` (0: none). */
export function remoteMemoryStore(name: string, timeoutMs: number): LeaseStore & { close(): void } {
  const channel = new BroadcastChannel(channelName(name));
  channel.unref();
  const waiting = new Map<string, { resolve(v: unknown): void; reject(e: unknown): void }>();
  let next = 0;
  channel.onmessage = (event) => {
    const reply = (event as { data: Request | Reply }).data;
    if (reply?.kind !== 'reply') return;
    const waiter = waiting.get(reply.id);
    if (!waiter) return;
    waiting.delete(reply.id);
    if (reply.error) waiter.reject(deserializeError(reply.error));
    else waiter.resolve(reply.result);
  };
  const call = (method: Method, args: unknown[]) => {
    const id = `${threadId}:${next++}`;
    const answer = new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
    channel.postMessage({ kind: 'call', id, method, args } satisfies Request);
    return withDeadline(answer, timeoutMs, `memory store ${method}`, () => waiting.delete(id));
  };
  const remote = Object.fromEntries(METHODS.map((method) => [method, (...args: unknown[]) => call(method, args)])) as unknown as LeaseStore;
  return Object.assign(remote, { close: () => channel.close() });
}
