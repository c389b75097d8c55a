/**
 * `system.faults.failCalls`: the next N calls of one SDK command fail with a named AWS error, in
 * whichever thread makes them. The counters live in one SharedArrayBuffer that every thread maps,
 * so "the next N" holds across threads without any message on the hot path; the rules themselves
 * (which command, which error) are plain data sent to each thread once.
 */

export interface CallFaultRule {
  /** SDK command name without the `Command` suffix: GetRecords, UpdateItem, ListShards, ... */
  command: string;
  /** The AWS error name the call fails with, e.g. ProvisionedThroughputExceededException. */
  error: string;
  times: number;
}

/** A rule bound to its counter slot; what crosses threads. */
export interface CallFaultSlot {
  slot: number;
  command: string;
  error: string;
}

export const CALL_FAULT_SLOTS = 64;

export function createCallFaultCounters(): SharedArrayBuffer {
  return new SharedArrayBuffer(CALL_FAULT_SLOTS * Int32Array.BYTES_PER_ELEMENT);
}

/** Built like the SDK's own service exceptions, so code under test sees what a real failure looks like. */
export function injectedAwsError(name: string, command: string): Error {
  const throttling = /Throttl|ProvisionedThroughputExceeded|LimitExceeded|RequestLimitExceeded/.test(name);
  const error = new Error(`injected by system.faults.failCalls: ${command} failed with ${name}`);
  error.name = name;
  Object.assign(error, {
    $fault: 'client',
    $metadata: { httpStatusCode: throttling ? 400 : 500, attempts: 1, totalRetryDelay: 0 },
    $retryable: throttling ? { throttling: true } : undefined,
  });
  return error;
}

export class CallFaults {
  private readonly counters: Int32Array;
  private readonly byCommand = new Map<string, CallFaultSlot[]>();

  constructor(buffer: SharedArrayBuffer, rules: readonly CallFaultSlot[] = []) {
    this.counters = new Int32Array(buffer);
    for (const rule of rules) this.install(rule);
  }

  install(rule: CallFaultSlot): void {
    for (const [command, list] of this.byCommand) {
      const kept = list.filter((r) => r.slot !== rule.slot);
      if (kept.length) this.byCommand.set(command, kept);
      else this.byCommand.delete(command);
    }
    this.byCommand.set(rule.command, [...(this.byCommand.get(rule.command) ?? []), rule]);
  }

  /** Claims one failure for this call if a rule still has some left; lock-free across threads. */
  claim(command: string): CallFaultSlot | undefined {
    const rules = this.byCommand.get(command);
    if (!rules) return undefined;
    for (const rule of rules) {
      for (;;) {
        const left = Atomics.load(this.counters, rule.slot);
        if (left <= 0) break;
        if (Atomics.compareExchange(this.counters, rule.slot, left, left - 1) === left) return rule;
      }
    }
    return undefined;
  }

  /**
   * An SDK middleware for the `initialize` step, before the SDK's own retries, so one failure is
   * one `client.send`, not one HTTP attempt. With no rule for a command it is one map lookup.
   */
  middleware() {
    return <A, R>(next: (args: A) => Promise<R>, context: { commandName?: string }) =>
      async (args: A): Promise<R> => {
        const rule = this.claim((context.commandName ?? '').replace(/Command$/, ''));
        if (rule) throw injectedAwsError(rule.error, rule.command);
        return next(args);
      };
  }
}
