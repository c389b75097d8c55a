import type { Clock, TimerHandle } from '../clock.js';

/**
 * An address: `id` is stable across restarts, `incarnation` names one life of the actor.
 * A message sent to an incarnation that has ended is dropped, never handed to its successor.
 */
export interface ActorRef<M> {
  readonly id: string;
  readonly incarnation: number;
  /** Phantom field: keeps refs of different message types apart at compile time. */
  readonly __message?: M;
}

export type ExitReason =
  | { readonly kind: 'normal' }
  | { readonly kind: 'shutdown' }
  | { readonly kind: 'crash'; readonly error: unknown };

export interface ActorContext<M> {
  readonly self: ActorRef<M>;
  readonly clock: Clock;
  send<T>(to: ActorRef<T>, message: T): boolean;
  /** A message to self later; cancelled when this incarnation ends. */
  sendAfter(ms: number, message: M): TimerHandle;
  cancel(timer: TimerHandle): void;
  /** Delivers the settled promise back as a message, so long work never blocks the mailbox. */
  pipe<T>(work: Promise<T>, onValue: (value: T) => M, onError: (error: unknown) => M): void;
  /** Ends this incarnation once the current message has been handled. */
  exit(reason: ExitReason): void;
}

export interface Behavior<M> {
  receive(message: M, ctx: ActorContext<M>): void | Promise<void>;
  /** Runs once when the incarnation ends, whatever the reason. Must not throw. */
  terminate?(reason: ExitReason): void | Promise<void>;
}

type ExitListener = (ref: ActorRef<unknown>, reason: ExitReason) => void;

interface Cell {
  ref: ActorRef<unknown>;
  behavior: Behavior<unknown>;
  ctx: ActorContext<unknown>;
  queue: unknown[];
  draining: boolean;
  exiting: ExitReason | undefined;
  ended: boolean;
  timers: Set<TimerHandle>;
  onExit: ExitListener;
  settled: Promise<void>;
  resolveSettled: () => void;
}

class ActorCrashInjected extends Error {
  override readonly name = 'ActorCrashInjected';
}

/** Queued like any message, so an injected crash happens inside the actor, between two real messages. */
const INJECTED_CRASH: unique symbol = Symbol('injected crash');

/** One runtime per thread; it hosts any number of actors, each handling one message at a time. */
export class ActorRuntime {
  private readonly cells = new Map<string, Cell>();
  private readonly incarnations = new Map<string, number>();

  constructor(readonly clock: Clock) {}

  spawn<M>(id: string, makeBehavior: (ctx: ActorContext<M>) => Behavior<M>, onExit: ExitListener, initial?: M): ActorRef<M> {
    const existing = this.cells.get(id);
    if (existing && !existing.ended) throw new Error(`actor ${id} is already running`);
    const incarnation = (this.incarnations.get(id) ?? 0) + 1;
    this.incarnations.set(id, incarnation);
    const ref: ActorRef<M> = { id, incarnation };
    let resolveSettled!: () => void;
    const settled = new Promise<void>((r) => (resolveSettled = r));
    const cell = {
      ref,
      queue: [],
      draining: false,
      exiting: undefined,
      ended: false,
      timers: new Set(),
      onExit,
      settled,
      resolveSettled,
    } as unknown as Cell;
    cell.ctx = this.makeContext(cell) as ActorContext<unknown>;
    cell.behavior = makeBehavior(cell.ctx as ActorContext<M>) as Behavior<unknown>;
    this.cells.set(id, cell);
    if (initial !== undefined) this.send(ref, initial);
    return ref;
  }

  /** The live incarnation under an id, if any. */
  current<M>(id: string): ActorRef<M> | undefined {
    const cell = this.cells.get(id);
    return cell && !cell.ended && !cell.exiting ? (cell.ref as ActorRef<M>) : undefined;
  }

  send<M>(to: ActorRef<M>, message: M): boolean {
    const cell = this.cells.get(to.id);
    if (!cell || cell.ended || cell.exiting || cell.ref.incarnation !== to.incarnation) return false;
    cell.queue.push(message);
    if (!cell.draining) void this.drain(cell);
    return true;
  }

  /** Stops an actor after the message it is handling; resolves once it has terminated. */
  stop(ref: ActorRef<unknown>, reason: ExitReason = { kind: 'shutdown' }): Promise<void> {
    const cell = this.cells.get(ref.id);
    if (!cell || cell.ref.incarnation !== ref.incarnation) return Promise.resolve();
    if (!cell.ended && !cell.exiting) {
      cell.exiting = reason;
      cell.queue.length = 0;
      if (!cell.draining) void this.finish(cell);
    }
    return cell.settled;
  }

  /**
   * Fault injection: a message that throws inside the actor, as a bug in its handler would.
   * It is queued behind what is already in the mailbox, so it lands at once on a busy actor too.
   */
  injectCrash(id: string): boolean {
    const cell = this.cells.get(id);
    if (!cell || cell.ended || cell.exiting) return false;
    cell.queue.push(INJECTED_CRASH);
    if (!cell.draining) void this.drain(cell);
    return true;
  }

  liveActors(): ActorRef<unknown>[] {
    return [...this.cells.values()].filter((c) => !c.ended).map((c) => c.ref);
  }

  private makeContext<M>(cell: Cell): ActorContext<M> {
    const self = cell.ref as ActorRef<M>;
    return {
      self,
      clock: this.clock,
      send: (to, message) => this.send(to, message),
      sendAfter: (ms, message) => {
        const handle = this.clock.setTimeout(() => {
          cell.timers.delete(handle);
          this.send(self, message);
        }, ms);
        cell.timers.add(handle);
        return handle;
      },
      cancel: (timer) => {
        this.clock.clearTimeout(timer);
        cell.timers.delete(timer);
      },
      pipe: (work, onValue, onError) => {
        work.then(
          (value) => this.send(self, onValue(value)),
          (error) => this.send(self, onError(error)),
        );
      },
      exit: (reason) => {
        if (!cell.exiting && !cell.ended) cell.exiting = reason;
      },
    };
  }

  private async drain(cell: Cell): Promise<void> {
    cell.draining = true;
    try {
      while (cell.queue.length > 0 && !cell.exiting) {
        const message = cell.queue.shift();
        try {
          if (message === INJECTED_CRASH) throw new ActorCrashInjected(`injected crash in ${cell.ref.id}#${cell.ref.incarnation}`);
          const result = cell.behavior.receive(message, cell.ctx);
          if (result) await result;
        } catch (error) {
          cell.exiting = { kind: 'crash', error };
        }
      }
    } finally {
      cell.draining = false;
    }
    if (cell.exiting) await this.finish(cell);
  }

  private async finish(cell: Cell): Promise<void> {
    if (cell.ended) return;
    cell.ended = true;
    cell.queue.length = 0;
    for (const t of cell.timers) this.clock.clearTimeout(t);
    cell.timers.clear();
    const reason = cell.exiting ?? { kind: 'shutdown' };
    try {
      await cell.behavior.terminate?.(reason);
    } catch {
      // terminate is last-chance cleanup; the exit reason already says what happened
    }
    cell.resolveSettled();
    cell.onExit(cell.ref, reason);
  }
}
