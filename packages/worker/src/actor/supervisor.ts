import { backoffDelay, type BackoffOptions } from '../backoff.js';
import type { Clock } from '../clock.js';
import type { ExitReason } from './runtime.js';

/** OTP's child restart types. */
export type RestartType = 'permanent' | 'transient' | 'temporary';
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';
/** The whole vocabulary of supervision: every exit is answered with one of these. */
type Directive = 'restart' | 'stop' | 'escalate';

export interface RestartIntensity {
  maxRestarts: number;
  withinMs: number;
}

/**
 * The one place where an exit becomes a directive.
 * - temporary children are never restarted; transient ones only after an abnormal exit;
 * - permanent children are always restarted;
 * - a restart beyond the intensity limit escalates instead.
 */
export function decide(restart: RestartType, reason: ExitReason, restartsInWindow: number, intensity: RestartIntensity): Directive {
  const abnormal = reason.kind === 'crash';
  const wantsRestart = restart === 'permanent' || (restart === 'transient' && abnormal);
  if (!wantsRestart) return 'stop';
  return restartsInWindow >= intensity.maxRestarts ? 'escalate' : 'restart';
}

/** Which children a restart of `failed` takes with it, in start order. */
export function restartSet(strategy: Strategy, order: readonly string[], failed: string): string[] {
  const at = order.indexOf(failed);
  if (at < 0) return [];
  switch (strategy) {
    case 'one_for_one':
      return [failed];
    case 'one_for_all':
      return [...order];
    case 'rest_for_one':
      return order.slice(at);
  }
}

interface ChildInstance {
  stop(reason: ExitReason): Promise<void> | void;
}

export interface ChildSpec {
  id: string;
  /** What the child is (`reader`, `coordinator`, `shard-host`), for events; defaults to the id. */
  role?: string;
  restart: RestartType;
  /** Starts one incarnation; `exited` must be called once when that incarnation ends by itself. */
  start(exited: (reason: ExitReason) => void): Promise<ChildInstance> | ChildInstance;
}

export type SupervisorEvent =
  | { type: 'crashed'; child: string; role: string; reason: ExitReason }
  | { type: 'restarted'; child: string; role: string; restarts: number }
  | { type: 'escalated'; child: string; role: string; reason: ExitReason };

interface SupervisorOptions {
  strategy: Strategy;
  intensity: RestartIntensity;
  backoff: BackoffOptions;
  clock: Clock;
  /** Called once when this supervisor gives up: its children are already stopped. */
  onEscalate(child: string, reason: ExitReason): void;
  onEvent?(event: SupervisorEvent): void;
}

interface Running {
  spec: ChildSpec;
  instance: ChildInstance | undefined;
  generation: number;
  /** How many incarnations have been started. */
  starts: number;
  restarts: number;
  lastError: unknown;
  /** Exited and not to be restarted (a transient child's normal exit, a temporary child). */
  finished: boolean;
  startedAt: number;
  /** Restarts in a row of incarnations that lived shorter than the backoff ceiling. */
  quickRestarts: number;
}

/** One child as `inspect()` shows it. */
export interface ChildState {
  id: string;
  restart: RestartType;
  incarnation: number;
  state: 'running' | 'restarting' | 'stopped';
  restarts: number;
  lastError: unknown;
}

export class Supervisor {
  private readonly children = new Map<string, Running>();
  private readonly order: string[];
  private restartTimes: number[] = [];
  private state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  private pending = Promise.resolve();

  constructor(
    specs: readonly ChildSpec[],
    private readonly options: SupervisorOptions,
  ) {
    this.order = specs.map((s) => s.id);
    for (const spec of specs) this.children.set(spec.id, { spec, instance: undefined, generation: 0, starts: 0, restarts: 0, lastError: undefined, finished: false, startedAt: 0, quickRestarts: 0 });
  }

  get strategy(): Strategy {
    return this.options.strategy;
  }

  /** Children in start order. A child with no instance is between incarnations while the supervisor runs. */
  describe(): ChildState[] {
    return this.order.map((id) => {
      const c = this.children.get(id)!;
      const state = c.instance ? 'running' : this.state === 'running' && !c.finished ? 'restarting' : 'stopped';
      return { id, restart: c.spec.restart, incarnation: c.starts, state, restarts: c.restarts, lastError: c.lastError };
    });
  }

  get running(): boolean {
    return this.state === 'running';
  }

  private roleOf(id: string): string {
    const spec = this.children.get(id)?.spec;
    return spec?.role ?? id;
  }

  restartsOf(id: string): number {
    return this.children.get(id)?.restarts ?? 0;
  }

  async start(): Promise<void> {
    this.state = 'running';
    for (const id of this.order) await this.startChild(id);
  }

  /** OTP's start_child: adds a child after the others and starts it (the supervisor must be running). */
  async addChild(spec: ChildSpec): Promise<void> {
    if (this.children.has(spec.id)) throw new Error(`supervisor: child ${spec.id} exists already`);
    this.children.set(spec.id, { spec, instance: undefined, generation: 0, starts: 0, restarts: 0, lastError: undefined, finished: false, startedAt: 0, quickRestarts: 0 });
    this.order.push(spec.id);
    await this.startChild(spec.id);
  }

  /** OTP's terminate_child then delete_child: stops the child and forgets it. */
  async removeChild(id: string, reason: ExitReason = { kind: 'shutdown' }): Promise<void> {
    if (!this.children.has(id)) return;
    await this.stopChildren([id], reason);
    this.children.delete(id);
    this.order.splice(this.order.indexOf(id), 1);
  }

  /** Stops every child, last started first. */
  stop(reason: ExitReason = { kind: 'shutdown' }): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return this.pending;
    this.state = 'stopping';
    this.pending = this.pending.then(async () => {
      await this.stopChildren([...this.order].reverse(), reason);
      this.state = 'stopped';
    });
    return this.pending;
  }

  /** Serialised so that overlapping exits apply their directives one after another. */
  private enqueue(work: () => Promise<void>): void {
    this.pending = this.pending.then(work).catch(() => undefined);
  }

  private async startChild(id: string): Promise<void> {
    const child = this.children.get(id)!;
    const generation = ++child.generation;
    child.starts++;
    child.finished = false;
    child.startedAt = this.options.clock.now();
    const exited = (reason: ExitReason) => {
      if (child.generation !== generation || this.state !== 'running') return;
      child.instance = undefined;
      this.enqueue(() => this.onExit(id, reason));
    };
    try {
      child.instance = await child.spec.start(exited);
    } catch (error) {
      exited({ kind: 'crash', error });
    }
  }

  private async stopChildren(ids: string[], reason: ExitReason): Promise<void> {
    for (const id of ids) {
      const child = this.children.get(id)!;
      child.generation++;
      const instance = child.instance;
      child.instance = undefined;
      if (instance) await instance.stop(reason);
    }
  }

  private async onExit(id: string, reason: ExitReason): Promise<void> {
    const child = this.children.get(id);
    // a child removed while its exit waited in the queue is gone for good
    if (this.state !== 'running' || !child) return;
    if (reason.kind === 'crash') {
      child.lastError = reason.error;
      this.options.onEvent?.({ type: 'crashed', child: id, role: this.roleOf(id), reason });
    }
    const now = this.options.clock.now();
    this.restartTimes = this.restartTimes.filter((t) => now - t < this.options.intensity.withinMs);
    const directive = decide(child.spec.restart, reason, this.restartTimes.length, this.options.intensity);
    if (directive === 'stop') {
      child.finished = true;
      return;
    }
    if (directive === 'escalate') {
      this.state = 'stopping';
      await this.stopChildren([...this.order].reverse(), { kind: 'shutdown' });
      this.state = 'stopped';
      this.options.onEvent?.({ type: 'escalated', child: id, role: this.roleOf(id), reason });
      this.options.onEscalate(id, reason);
      return;
    }
    this.restartTimes.push(now);
    // a crash loop backs off exponentially; a child that lived past the ceiling restarts after the base delay
    child.quickRestarts = now - child.startedAt >= this.options.backoff.maxMs ? 1 : child.quickRestarts + 1;
    const set = restartSet(this.options.strategy, this.order, id);
    await this.stopChildren(set.filter((c) => c !== id).reverse(), { kind: 'shutdown' });
    const delay = backoffDelay(child.quickRestarts, this.options.backoff);
    if (delay > 0) await new Promise<void>((r) => this.options.clock.setTimeout(r, delay));
    if (this.state !== 'running') return;
    for (const c of set) {
      const running = this.children.get(c)!;
      running.restarts++;
      await this.startChild(c);
      this.options.onEvent?.({ type: 'restarted', child: c, role: this.roleOf(c), restarts: running.restarts });
    }
  }
}
