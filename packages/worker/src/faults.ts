/**
 * `system.faults.failCalls`: the next N calls of one SDK command throw a named AWS error, hang
 * until their deadline, or answer late — in whichever thread makes them. The counters live in one
 * SharedArrayBuffer that every thread maps, so "the next N" holds across threads without any
 * message on the hot path; the rules themselves (which command, what happens) are plain data sent
 * to each thread once. The PostgreSQL and Redis lease stores answer to them through `around`, by
 * the DynamoDB command name of each operation (STORE_COMMANDS, lease.ts).
 */

/** What an injected call does: throw an AWS error, never answer (until its deadline), or answer after delayMs. */
export type CallFaultMode = 'throw' | 'hang' | 'slow';

export interface CallFaultRule {
  /** SDK command name without the `Command` suffix: GetRecords, UpdateItem, ListShards, ... */
  command: string;
  times: number;
  /** Default 'throw'. */
  mode?: CallFaultMode;
  /** 'throw' only (required there): the AWS error name, e.g. ProvisionedThroughputExceededException. */
  error?: string;
  /** 'slow' only (required there): how late the answer comes; the call itself is made at once. */
  delayMs?: number;
}

/** A rule bound to its counter slot; what crosses threads. */
export interface CallFaultSlot {
  slot: number;
  command: string;
  mode: CallFaultMode;
  error?: string;
  delayMs?: number;
}

export const CALL_FAULT_SLOTS = 64;

export function createCallFaultCounters(): SharedArrayBuffer {
  return new SharedArrayBuffer(CALL_FAULT_SLOTS * Int32Array.BYTES_PER_ELEMENT);
}

/** Built like the SDK's own service exceptions, so code under test sees what a real failure looks like. */
function injectedAwsError(name: string, command: string): Error {
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

/** The call's abort signal, which the SDK keeps in the middleware context when `send` was given one. */
type SmithyContext = { commandName?: string; __smithy_context?: { abortSignal?: unknown } };

/** Resolves after ms, or rejects as soon as the call is aborted (its deadline passed); ms undefined waits for the abort alone. */
function waitOrAbort(signal: AbortSignal | undefined, ms: number | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted() {
      if (timer) clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', aborted, { once: true });
  });
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

  /** Claims one fault for this call if a rule still has some left; lock-free across threads. */
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
   * `call` as the PostgreSQL and Redis stores make it, with the fault a rule for `command` claims:
   * 'throw' fails before anything is sent, 'hang' never settles, 'slow' settles `delayMs` after
   * the answer. The store runs this inside its call deadline (store-errors.ts `withDeadline`), which
   * cuts a hang or a late answer with CALL_TIMEOUT as it cuts a real one and turns a thrown error
   * into its retried STORE_CALL_FAILED. With no rule for the command it is one map lookup.
   */
  around<T>(command: string, call: () => Promise<T>): Promise<T> {
    const rule = this.claim(command);
    if (!rule) return call();
    if (rule.mode === 'throw') return Promise.reject(injectedAwsError(rule.error ?? 'InternalFailure', rule.command));
    if (rule.mode === 'hang') return new Promise<T>(() => undefined);
    return call().then((output) => new Promise<T>((resolve) => setTimeout(() => resolve(output), rule.delayMs ?? 0).unref()));
  }

  /**
   * An SDK middleware for the `initialize` step, before the SDK's own retries, so one fault is
   * one `client.send`, not one HTTP attempt. With no rule for a command it is one map lookup.
   * The call's deadline (deadlines.ts) wraps all middleware, so it cuts an injected hang or
   * delay exactly as it cuts a real one. A hung call is never sent; a slow one is, and only its
   * answer is late: cut at the deadline, it leaves the caller unsure whether a write landed.
   */
  middleware() {
    return <A, R>(next: (args: A) => Promise<R>, context: SmithyContext) =>
      async (args: A): Promise<R> => {
        const rule = this.claim((context.commandName ?? '').replace(/Command$/, ''));
        if (!rule) return next(args);
        // the SDK types its signal as a minimal interface; it is the AbortSignal our deadline passed
        const signal = context.__smithy_context?.abortSignal as AbortSignal | undefined;
        if (rule.mode === 'throw') throw injectedAwsError(rule.error ?? 'InternalFailure', rule.command);
        if (rule.mode === 'hang') await waitOrAbort(signal, undefined);
        const output = await next(args);
        // the call took effect; its answer is what comes late, as from a slow server
        await waitOrAbort(signal, rule.delayMs ?? 0);
        return output;
      };
  }
}
