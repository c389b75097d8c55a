import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { Emitter } from 'mitt';
import { handingTo, holderOf, type LeaseStore } from '@kinesis-client/worker/lease';
import type { SystemEvents } from './events.js';
import { invalidArgument } from './option-errors.js';
import type { ResolvedOptions } from './options.js';
import type { ShardHosts } from './shard-hosts.js';
import { checkDistinct, resolveStreamSpec, streamSpecSchema, type StreamSpec } from './stream-options.js';
import { withStreamConsumer } from './stream-consumer.js';
import { describeStream } from './stream-unit.js';
import type { SystemTree } from './system-tree.js';

export interface RemoveStreamOptions {
  /** Delete the stream's lease rows once its leases are released; default false: they stay. */
  deleteLeases?: boolean;
}

export interface StreamControlDeps {
  options: ResolvedOptions;
  kinesis: KinesisClient;
  leases: LeaseStore;
  events: Emitter<SystemEvents>;
  tree(): SystemTree | undefined;
  hosts(): ShardHosts | undefined;
}

/**
 * `system.addStream()` and `system.removeStream()` (multi-stream mode): a stream joins with its own
 * coordinator once it is known to exist; a stream leaves by stopping its coordinator (nothing of
 * it is taken any more), then draining its shards here (final checkpoints, leases released), then
 * giving back what this worker still carries of it. Its rows stay unless `deleteLeases`.
 */
export function streamControl(deps: StreamControlDeps) {
  const { options, leases, events } = deps;
  const me = options.workerId;
  const running = (method: string) => {
    if (!options.multiStream) throw invalidArgument(method, 'streams can be added and removed only by a system started with the streams option', undefined);
    const tree = deps.tree();
    const hosts = deps.hosts();
    if (!tree || !hosts || !tree.root.running) throw invalidArgument(method, 'the system is not running', undefined);
    return { tree, hosts };
  };
  /** One change at a time: an add and a remove of the same stream must not interleave. */
  let last: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = last.then(work, work);
    last = next.catch(() => undefined);
    return next;
  };

  const addStream = (spec: StreamSpec): Promise<void> =>
    serial(async () => {
      const { tree } = running('addStream');
      const parsed = streamSpecSchema.safeParse(spec);
      if (!parsed.success) throw invalidArgument('addStream', `expected { streamName | streamArn, initialPosition? }: ${parsed.error.issues[0]!.message}`, spec);
      let stream;
      try {
        stream = resolveStreamSpec(parsed.data, options.initialPosition, 'stream');
        checkDistinct([...[...tree.units.values()].map((u) => u.options), stream], 'streams');
      } catch (error) {
        throw invalidArgument('addStream', (error as Error).message, spec);
      }
      const unit = await withStreamConsumer(deps.kinesis, await describeStream(deps.kinesis, stream, true), options.retrieval);
      await tree.addStream(unit);
      events.emit('stream:added', { streamName: unit.streamName });
    });

  const removeStream = (streamName: string, remove: RemoveStreamOptions = {}): Promise<void> =>
    serial(async () => {
      const { tree, hosts } = running('removeStream');
      const unit = tree.units.get(streamName);
      if (!unit) throw invalidArgument('removeStream', 'no such stream in this system', streamName);
      await tree.removeStream(streamName);
      const ours = hosts.placement.shards().filter((key) => unit.shardOf(key) !== undefined);
      await Promise.all(
        ours.map(async (key) => {
          const index = hosts.placement.hostOf(key);
          const host = index === undefined ? undefined : hosts.at(index);
          await host?.api.stopShard({ streamName, shardId: unit.shardOf(key)! });
          hosts.placement.remove(key);
        }),
      );
      // handoffs to this worker it will never start, and leases it carries but does not run
      const rows = (await leases.scan()).filter((l) => unit.shardOf(l.leaseKey) !== undefined);
      await Promise.all(rows.filter((l) => handingTo(l) === me).map((l) => leases.cancelHandoff(l.leaseKey, l.checkpointOwner!, me)));
      const left = (await leases.scan()).filter((l) => unit.shardOf(l.leaseKey) !== undefined);
      await Promise.all(left.filter((l) => holderOf(l) === me).map((l) => leases.release(l.leaseKey, me)));
      let deleted = false;
      if (remove.deleteLeases) {
        // only rows nobody holds: another worker still consuming the stream keeps its own
        const free = (await leases.scan()).filter((l) => unit.shardOf(l.leaseKey) !== undefined && l.leaseOwner === undefined);
        await Promise.all(free.map((l) => leases.deleteReleased(l.leaseKey)));
        deleted = true;
      }
      events.emit('stream:removed', { streamName, leasesDeleted: deleted });
    });

  return { addStream, removeStream };
}
