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
 * The first generation may start early (`startEarly`), before the supervisor takes it on.
 */
export class ShardHosts {
  readonly placement = new Placement();
  private readonly slots: (ShardHostHandle | undefined)[];
  /** Threads started early, each until its slot's first start takes it. */
  private early: (ShardHostHandle | undefined)[] = [];
  private readonly firstGeneration: Promise<void>[] = [];
  private startedUp = false;

  constructor(private readonly deps: ShardHostsDeps) {
    this.slots = new Array(deps.count).fill(undefined);
  }

  /**
   * Starts the first generation's threads now, while createSystem still checks the stream and the
   * consumer (`checked`): loading a thread's code is most of its start-up, and it needs no config.
   * Each thread gets its config once `checked` resolves; the supervisor takes them on as it starts.
   */
  startEarly(checked: Promise<unknown>): void {
    this.early = this.slots.map((_, index) => new ShardHostHandle(index, this.setup(index, checked.then(() => this.deps.config(index))), () => this.placement.shardsOn(index)));
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

  /** Ends every thread, those started early that no supervisor took on included. */
  async terminateAll(): Promise<void> {
    const early = this.early.splice(0);
    await Promise.all([...this.slots, ...early].map((handle) => handle?.terminate()));
  }

  private setup(index: number, config: ShardHostSetup['config']): ShardHostSetup {
    const { deps } = this;
    return { config, mainApi: deps.mainApi, submit: deps.submit, callFaults: deps.callFaults(), resourceLimits: deps.resourceLimits };
  }

  private startHost(index: number, exited: Parameters<ChildSpec['start']>[0]) {
    const { deps } = this;
    // only while the slot is still this thread's: once a replacement is in it, the shards placed at
    // this index are the replacement's
    const down = (handle: ShardHostHandle) => {
      if (this.slots[index] !== handle) return;
      this.slots[index] = undefined;
      this.placement.dropHost(index);
      deps.onHostDown(index);
    };
    const early = this.early[index];
    this.early[index] = undefined;
    const handle = early ?? new ShardHostHandle(index, this.setup(index, deps.config(index)), () => this.placement.shardsOn(index));
    this.slots[index] = handle;
    handle.watch((error) => {
      deps.onError(error);
      down(handle);
      exited({ kind: 'crash', error });
    });
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
