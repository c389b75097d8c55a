import type { Emitter } from 'mitt';
import type { ShardStatus } from '@kinesis-client/worker/internal';
import type { SystemEvents } from './events.js';
import type { Faults } from './faults.js';
import type { Health } from './health.js';
import type { Inspection } from './inspect.js';
import type { StopOptions, StopResult } from './stop.js';
import type { RemoveStreamOptions } from './stream-control.js';
import type { StreamSpec } from './stream-options.js';

/** A running worker of the application, as createSystem resolves it. */
export interface System {
  readonly workerId: string;
  readonly tableName: string;
  /**
   * With `retrieval.mode: 'fanout'`: the ARN of the registered stream consumer (with `streams`, the
   * first stream's; each stream has its own, of the same name).
   */
  readonly consumerArn: string | undefined;
  readonly events: Emitter<SystemEvents>;
  /** Fault injection through the system's own paths: crash actors, kill threads, fail AWS calls. */
  readonly faults: Faults;
  /** With the `http` option: where the endpoint listens (the port the system chose, for `port: 0`). */
  readonly http: { url: string; port: number } | undefined;
  /** Whether this worker is live and ready, and the reasons when not (stable codes); what `/healthz` and `/readyz` answer. */
  health(): Health;
  /** What each shard-host thread is running now. */
  status(): Promise<ShardStatus[]>;
  /** The live supervision tree, and each shard's lease owner, checkpoint and lag. */
  inspect(): Promise<Inspection>;
  /**
   * Multi-stream mode (`streams`): consumes one more stream, with its own coordinator; resolves
   * after its first lease cycle and emits `stream:added`. INVALID_ARGUMENT for a bad spec, a stream
   * already consumed or a single-stream system; STREAM_NOT_FOUND when it does not exist.
   */
  addStream(stream: StreamSpec): Promise<void>;
  /**
   * Multi-stream mode: stops consuming a stream. Its shards drain, checkpoint and release their
   * leases (as `stop()` does for all); then `stream:removed`. Its lease rows stay (a later
   * addStream resumes from them) unless `deleteLeases`, which deletes the rows nobody holds.
   */
  removeStream(streamName: string, options?: RemoveStreamOptions): Promise<void>;
  /**
   * Graceful, bounded and idempotent (a second call returns the same promise): stop reading, let
   * in-flight batches finish for up to `timeoutMs` (default 30 000), checkpoint, release every
   * lease, end every thread. Batches still running at the deadline are abandoned without a
   * checkpoint (the next owner reads them again) and listed in the result. INVALID_ARGUMENT for a
   * bad argument.
   */
  stop(options?: StopOptions): Promise<StopResult>;
}
