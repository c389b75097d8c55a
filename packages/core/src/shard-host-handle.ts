import { MessageChannel, Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { KinesisClientError } from '@kinesis-client/worker';
import {
  comlinkEndpoint,
  hostEntryUrl,
  type HostApi,
  type HostConfig,
  type BatchOutcome,
  type BatchTask,
  type FailedTask,
  type HostWorkerData,
  type MainApi,
  type OutcomeMessage,
  type SubmitMessage,
  type ThreadDeath,
} from '@kinesis-client/worker/internal';
import type { ResourceLimits } from 'node:worker_threads';

export interface ShardHostSetup {
  /** A promise: the thread starts now and loads its code, and its config follows once known. */
  config: HostConfig | Promise<HostConfig>;
  mainApi: MainApi;
  /** A batch from the thread for the pool; `tell` answers the thread when the pool thread could not. */
  submit(task: BatchTask | FailedTask, tell: (outcome: BatchOutcome) => void): void;
  callFaults: HostWorkerData['callFaults'];
  resourceLimits: ResourceLimits | undefined;
}

/**
 * The main thread's handle on one shard-host thread: starts it with a private MainApi port and a
 * port for its batches, calls its HostApi through comlink and tells its owner (`watch`) when the
 * thread dies unexpectedly.
 */
export class ShardHostHandle {
  readonly api: Comlink.Remote<HostApi>;
  private readonly worker: Worker;
  private readonly mainPort: import('node:worker_threads').MessagePort;
  private readonly batchPort: import('node:worker_threads').MessagePort;
  private stopping = false;
  private exited = false;
  private readonly exitPromise: Promise<void>;
  private onUnexpectedExit: ((error: KinesisClientError) => void) | undefined;
  /** Its unexpected death, kept for an owner that starts watching after it. */
  private died: KinesisClientError | undefined;

  constructor(
    readonly index: number,
    { config, mainApi, submit, callFaults, resourceLimits }: ShardHostSetup,
    /** The shards placed on this thread, for the error that reports its death. */
    private readonly running: () => string[] = () => [],
  ) {
    const { port1, port2 } = new MessageChannel();
    this.mainPort = port1;
    Comlink.expose(mainApi, comlinkEndpoint(port1));
    const batches = new MessageChannel();
    this.batchPort = batches.port1;
    this.batchPort.on('message', ({ id, task }: SubmitMessage) =>
      submit(task, (outcome) => {
        const message: OutcomeMessage = { id, outcome };
        if (!this.exited) this.batchPort.postMessage(message);
      }),
    );
    // open only as long as the thread: its batches keep nothing alive
    this.batchPort.unref();
    let configPort: import('node:worker_threads').MessagePort | undefined;
    if (config instanceof Promise) {
      const later = new MessageChannel();
      configPort = later.port2;
      // a config that never comes (createSystem's checks failed) leaves the thread to be ended by its owner
      void config.then((known) => !this.exited && later.port1.postMessage(known), () => undefined).finally(() => later.port1.close());
    }
    const workerData: HostWorkerData = {
      ...(configPort ? { configPort: configPort as never } : { config: config as HostConfig }),
      mainPort: port2 as never,
      batchPort: batches.port2 as never,
      callFaults,
    };
    this.worker = new Worker(hostEntryUrl, {
      workerData,
      transferList: [port2 as never, batches.port2 as never, ...(configPort ? [configPort as never] : [])],
      name: `kinesis-shard-host-${index}`,
      ...(resourceLimits ? { resourceLimits } : {}),
    });
    this.api = Comlink.wrap<HostApi>(comlinkEndpoint(this.worker));
    let lastError: unknown;
    this.worker.on('error', (error) => (lastError = error));
    this.exitPromise = new Promise((resolve) =>
      this.worker.once('exit', (exitCode) => {
        this.exited = true;
        this.mainPort.close();
        this.batchPort.close();
        resolve();
        if (!this.stopping) {
          this.died = new KinesisClientError('HOST_THREAD_DIED', `shard-host thread ${index} exited (code ${exitCode})${lastError ? `: ${(lastError as Error).message}` : ''}`, {
            cause: lastError,
            details: { hostIndex: index, exitCode, shards: this.running() },
          });
          this.onUnexpectedExit?.(this.died);
        }
      }),
    );
  }

  /**
   * Tells `onUnexpectedExit` when the thread dies other than by stop() or terminate(); if it already
   * has, on the next microtask, so the watcher (a supervisor's start) has returned first.
   */
  watch(onUnexpectedExit: (error: KinesisClientError) => void): void {
    this.onUnexpectedExit = onUnexpectedExit;
    const died = this.died;
    if (died) queueMicrotask(() => onUnexpectedExit(died));
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  get alive(): boolean {
    return !this.exited && !this.stopping;
  }

  /** Resolves once the thread has loaded and answers calls. */
  async ready(): Promise<void> {
    await Promise.race([
      this.api.status(),
      this.exitPromise.then(() => {
        throw new KinesisClientError('HOST_THREAD_DIED', `shard-host thread ${this.index} exited during start-up`);
      }),
    ]);
  }

  /** Graceful: every shard drains and releases its lease, then the thread ends. */
  async stop(): Promise<void> {
    if (this.stopping) return this.exitPromise;
    this.stopping = true;
    if (!this.exited) {
      try {
        await Promise.race([this.api.stopAll(), this.exitPromise]);
      } finally {
        await this.worker.terminate();
      }
    }
    return this.exitPromise;
  }

  /** stop() passed its deadline: ends the thread now, without waiting for its shards to drain. */
  async terminate(): Promise<void> {
    this.stopping = true;
    if (!this.exited) await this.worker.terminate();
    return this.exitPromise;
  }

  /** Fault injection: ends the thread as a crash would; resolves once it has exited. */
  async kill(how: ThreadDeath): Promise<void> {
    if (this.exited) return;
    if (how === 'terminate') await this.worker.terminate();
    else await this.api.die(how).catch(() => undefined);
    await this.exitPromise;
  }
}
