import { KinesisClientError } from '@kinesis-client/worker';
import {
  CALL_FAULT_SLOTS,
  CallFaults,
  createCallFaultCounters,
  shardKey,
  type CallFaultMode,
  type CallFaultRule,
  type CallFaultSlot,
  type HostWorkerData,
  type ShardAddress,
  type ShardActorRole,
  type ThreadDeath,
} from '@kinesis-client/worker/internal';
import type { ShardHostHandle } from './shard-host-handle.js';
import type { ShardHosts } from './shard-hosts.js';
import { invalidArgument } from './option-errors.js';

/** A `failCalls` rule in force: how many of its failures are still to come. */
export interface CallFault {
  readonly command: string;
  readonly mode: CallFaultMode;
  /** 'throw' only. */
  readonly error?: string;
  /** 'slow' only. */
  readonly delayMs?: number;
  readonly remaining: number;
}

/**
 * `system.faults`: how users (and our own tests) check that a consumer survives what production
 * does to it. Every fault goes through the same paths a real failure takes.
 */
export interface Faults {
  /**
   * The actor throws inside its next message; false when this worker does not run that shard now.
   * `shard`: its address, or a shard id of the system's own stream.
   */
  crashActor(shard: ShardAddress | string, actor: ShardActorRole): Promise<boolean>;
  /**
   * Ends the shard-host thread running the shard (an address, or a shard id of the system's own
   * stream), with every other shard on it; resolves once it has exited. 'terminate' (default) kills
   * it from outside; 'exit', 'throw' and 'oom' die inside it (process.exit, an uncaught error,
   * running out of its resourceLimits).
   */
  killThread(shard: ShardAddress | string, how?: ThreadDeath): Promise<boolean>;
  /**
   * The next `times` calls of that SDK command, in any thread (on PostgreSQL and Redis, the store
   * operations that are that DynamoDB command: STORE_COMMANDS): 'throw' (default) fails each with
   * the AWS error name `error`; 'hang' never answers, so the call ends at its deadline
   * (`callTimeouts`) with CALL_TIMEOUT; 'slow' answers after `delayMs`, still subject to the deadline.
   */
  failCalls(rule: CallFaultRule): Promise<CallFault>;
}

const MODES: readonly CallFaultMode[] = ['throw', 'hang', 'slow'];
const ROLES: readonly ShardActorRole[] = ['lease', 'reader'];
const DEATHS: readonly ThreadDeath[] = ['terminate', 'exit', 'throw', 'oom'];

/** faults.<method>'s bad argument. */
const badArgument = (method: string, message: string, got: unknown) => invalidArgument(`faults.${method}`, message, got);

/** The rule as it crosses threads (without its slot), or INVALID_ARGUMENT naming what is wrong. */
function validRule(rule: CallFaultRule): Omit<CallFaultSlot, 'slot'> {
  const { command, error, times, mode = 'throw', delayMs } = rule ?? ({} as CallFaultRule);
  if (typeof command !== 'string' || !/^[A-Z][A-Za-z]+$/.test(command)) {
    throw badArgument('failCalls', 'command must be an SDK command name such as GetRecords or UpdateItem', command);
  }
  if (!Number.isInteger(times) || times < 1) throw badArgument('failCalls', 'times must be a positive integer', times);
  if (!MODES.includes(mode)) throw badArgument('failCalls', `mode must be one of ${MODES.join(', ')}`, mode);
  if (mode === 'throw' && (typeof error !== 'string' || error.length === 0)) throw badArgument('failCalls', 'error must be an AWS error name', error);
  if (mode !== 'throw' && error !== undefined) throw badArgument('failCalls', `error is for mode 'throw' only, not '${mode}'`, error);
  if (mode === 'slow' && (!Number.isInteger(delayMs) || delayMs! < 1)) throw badArgument('failCalls', "delayMs must be a positive integer with mode 'slow'", delayMs);
  if (mode !== 'slow' && delayMs !== undefined) throw badArgument('failCalls', `delayMs is for mode 'slow' only, not '${mode}'`, delayMs);
  const name = command.replace(/Command$/, '');
  return mode === 'throw' ? { command: name, mode, error: error! } : mode === 'slow' ? { command: name, mode, delayMs: delayMs! } : { command: name, mode };
}

export class FaultInjector implements Faults {
  private readonly counters = createCallFaultCounters();
  private readonly slots = new Int32Array(this.counters);
  private readonly rules = new Map<number, CallFaultSlot>();
  /** Slots whose rule is being installed, not yet armed. */
  private readonly arming = new Set<number>();
  /** For the main thread's own clients (ListShards, lease table scans). */
  readonly local = new CallFaults(this.counters);

  constructor(
    /** The system's stream: what a bare shard id refers to. */
    private readonly streamName: string,
    private readonly hosts: () => ShardHosts | undefined,
  ) {}

  /** What a shard-host thread starting now must know. */
  hostData(): HostWorkerData['callFaults'] {
    return { counters: this.counters, rules: [...this.rules.values()] };
  }

  async crashActor(shard: ShardAddress | string, actor: ShardActorRole): Promise<boolean> {
    const address = this.addressOf('crashActor', shard);
    if (!ROLES.includes(actor)) throw badArgument('crashActor', `actor must be one of ${ROLES.join(', ')}`, actor);
    const host = this.hostOf(address);
    return host ? host.api.crashActor(address, actor) : false;
  }

  async killThread(shard: ShardAddress | string, how: ThreadDeath = 'terminate'): Promise<boolean> {
    const address = this.addressOf('killThread', shard);
    if (!DEATHS.includes(how)) throw badArgument('killThread', `how must be one of ${DEATHS.join(', ')}`, how);
    const host = this.hostOf(address);
    if (!host) return false;
    await host.kill(how);
    return true;
  }

  async failCalls(rule: CallFaultRule): Promise<CallFault> {
    const bound = { slot: -1, ...validRule(rule) };
    const { times } = rule;
    const slot = this.freeSlot();
    bound.slot = slot;
    this.arming.add(slot);
    this.rules.set(slot, bound);
    // every thread knows the rule before its counter is armed, so no thread misses its share
    this.local.install(bound);
    await Promise.all((this.hosts()?.all() ?? []).map((h) => (h?.alive ? h.api.addCallFault(bound).catch(() => undefined) : undefined)));
    Atomics.store(this.slots, slot, times);
    this.arming.delete(slot);
    const slots = this.slots;
    const { slot: _slot, ...shown } = bound;
    return {
      ...shown,
      get remaining() {
        return Math.max(0, Atomics.load(slots, slot));
      },
    };
  }

  private freeSlot(): number {
    for (let slot = 0; slot < CALL_FAULT_SLOTS; slot++) if (!this.arming.has(slot) && Atomics.load(this.slots, slot) <= 0) return slot;
    throw new KinesisClientError('INVALID_ARGUMENT', `faults.failCalls: ${CALL_FAULT_SLOTS} rules are already in force`, {
      details: { method: 'failCalls' },
    });
  }

  /** A plain copy of the address (only its two fields cross to the thread), or INVALID_ARGUMENT. */
  private addressOf(method: string, shard: ShardAddress | string): ShardAddress {
    if (typeof shard === 'string' && shard.length > 0) return { streamName: this.streamName, shardId: shard };
    const { streamName, shardId } = (shard ?? {}) as Partial<ShardAddress>;
    if (typeof shard === 'object' && typeof streamName === 'string' && streamName && typeof shardId === 'string' && shardId) return { streamName, shardId };
    throw badArgument(method, 'the shard must be a shard id or a { streamName, shardId } address', shard);
  }

  private hostOf(address: ShardAddress): ShardHostHandle | undefined {
    return this.hosts()?.hostOf(address);
  }
}
