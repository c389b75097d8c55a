import type { ResourceLimits } from 'node:worker_threads';
import type { ChildSpec } from '@kinesis-client/worker/actor';
import { leaseAddress } from '@kinesis-client/worker/lease';
import { shardKey, type HostConfig, type HostWorkerData, type MainApi, type ShardAddress, type ShardInspection, type ShardStatus } from '@kinesis-client/worker/internal';
import { Placement } from './placement.js';
import { ShardHostHandle, type ShardHostSetup } from './shard-host-handle.js';

export interface ShardHostsDeps {
  count: number;
  /** The system's stream: its lease keys are its shard ids. */
  streamName: string;
  config(index: number): HostConfig;
  mainApi: MainApi;
  /** A batch from a thread for the pool; `tell` answers the thread when the pool thread could not. */
  submit: ShardHostSetup['submit'];
  callFaults(): HostWorkerData['callFaults'];
  resourceLimits: ResourceLimits | undefined;
  onError(error: unknown): void;
  /** A thread is gone (its shards with it), or a replacement answers. */
  onHostDown(index: number): void;
  onHostUp(index: number): void;
}

/**
 * The shard-host threads of this worker: one slot per thread, the child specs the shard-hosts
 * supervisor restarts them by, and where each shard runs (`placement`). Threads load in parallel;
 * `ready()` waits for the first generation, and a replacement announces itself with onHostUp.
 */
export class ShardHosts {
  readonly placement = new Placement();
  private readonly slots: (ShardHostHandle | undefined)[];
  private readonly firstGeneration: Promise<void>[] = [];
  private startedUp = false;

  constructor(private readonly deps: ShardHostsDeps) {
    this.slots = new Array(deps.count).fill(undefined);
  }

  specs(): ChildSpec[] {
    return this.slots.map((_, index) => ({ id: `shard-host-${index}`, role: 'shard-host', restart: 'permanent', start: (exited) => this.startHost(index, exited) }));
  }

  /** Resolves once every thread of the first generation answers calls. */
  async ready(): Promise<void> {
    await Promise.all(this.firstGeneration);
    this.startedUp = true;
  }

  at(index: number): ShardHostHandle | undefined {
    return this.slots[index];
  }

  /** Every slot, undefined while its thread is down. */
  all(): readonly (ShardHostHandle | undefined)[] {
    return this.slots;
  }

  aliveIndexes(): number[] {
    return this.slots.flatMap((handle, index) => (handle?.alive ? [index] : []));
  }

  /** The live thread running the shard at `address`, if any. */
  hostOf(address: ShardAddress): ShardHostHandle | undefined {
    const leaseKey = this.placedKey(address);
    const index = leaseKey === undefined ? undefined : this.placement.hostOf(leaseKey);
    const handle = index === undefined ? undefined : this.slots[index];
    return handle?.alive ? handle : undefined;
  }

  /**
   * A shard stopped on its thread: forgotten at once, as the report arrives, while it is still
   * placed on the thread that reported it. Left to the coordinator's mailbox, it could be handled
   * after a later tick placed the shard again, and would forget that one.
   */
  forget(address: ShardAddress): void {
    const leaseKey = this.placedKey(address);
    if (leaseKey !== undefined) this.placement.remove(leaseKey);
  }

  private placedKey(address: ShardAddress): string | undefined {
    const key = shardKey(address);
    return this.placement.shards().find((k) => shardKey(leaseAddress({ leaseKey: k }, this.deps.streamName)) === key);
  }

  async status(): Promise<ShardStatus[]> {
    const all = await Promise.all(this.slots.map((h) => (h?.alive ? h.api.status() : Promise.resolve([]))));
    return all.flat();
  }

  /** Per slot, what its thread reports (undefined while it is down). */
  inspect(): Promise<({ threadId: number; shards: ShardInspection[] } | undefined)[]> {
    return Promise.all(
      this.slots.map(async (h) => (h?.alive ? { threadId: h.threadId, shards: await h.api.inspect().catch((): ShardInspection[] => []) } : undefined)),
    );
  }

  /** Every thread drains at once, rather than one after the other (the supervisor's order). */
  async stopAll(): Promise<void> {
    await Promise.all(this.slots.map((handle) => handle?.stop().catch((error: unknown) => this.deps.onError(error))));
  }

  async terminateAll(): Promise<void> {
    await Promise.all(this.slots.map((handle) => handle?.terminate()));
  }

  private startHost(index: number, exited: Parameters<ChildSpec['start']>[0]) {
    const { deps } = this;
    const setup = { config: deps.config(index), mainApi: deps.mainApi, submit: deps.submit, callFaults: deps.callFaults(), resourceLimits: deps.resourceLimits };
    // only while the slot is still this thread's: once a replacement is in it, the shards placed at
    // this index are the replacement's
    const down = (handle: ShardHostHandle) => {
      if (this.slots[index] !== handle) return;
      this.slots[index] = undefined;
      this.placement.dropHost(index);
      deps.onHostDown(index);
    };
    const handle: ShardHostHandle = new ShardHostHandle(index, setup, (error) => {
      deps.onError(error);
      down(handle);
      exited({ kind: 'crash', error });
    }, () => this.placement.shardsOn(index));
    this.slots[index] = handle;
    const answering = handle.ready();
    // a replacement thread: its dead predecessor's shards are waiting for it
    if (this.startedUp) void answering.then(() => deps.onHostUp(index), () => undefined);
    else this.firstGeneration.push(answering);
    return {
      stop: async () => {
        await handle.stop().catch((error: unknown) => deps.onError(error));
        down(handle);
      },
    };
  }
}
