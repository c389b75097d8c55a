/**
 * One warning per process, not one per thread. Node and the libraries that run in the library's
 * threads keep "warn once" state per module instance, and every worker thread has its own: the AWS
 * SDK's Node-version notice, a deprecation or an experimental feature would print once from the
 * main thread and again from each shard-host and pool thread. So the thread entries hand every
 * warning to the main thread (over a BroadcastChannel, which every thread of the process shares,
 * posted synchronously: a pool thread waiting in Atomics.wait for its next task never gets to
 * print one itself), and the main thread prints it with `process.emitWarning`, so `--no-warnings`,
 * `--trace-warnings` (the thread's stack is kept) and the application's own `warning` listeners
 * apply as to any warning of the process. A warning meant once is printed once per process; any
 * other as often as it is emitted, so nothing the user asked to see is hidden.
 */
import { isMainThread } from 'node:worker_threads';

const CHANNEL = 'kinesis-client:thread-warnings';

/** A warning as it crosses threads: what Node prints of it. */
export interface ThreadWarning {
  name: string;
  message: string;
  code?: string;
  detail?: string;
  stack?: string;
}

/**
 * Warnings whose emitters mean "once": Node prints a deprecation or an experimental feature once
 * per code (or feature), and the AWS SDK its Node-version notice once, each per thread.
 */
export function meantOnce(warning: ThreadWarning): boolean {
  return warning.name === 'DeprecationWarning' || warning.name === 'ExperimentalWarning' || warning.message.startsWith('NodeVersionSupportWarning');
}

const keyOf = (warning: ThreadWarning) => `${warning.name}\0${warning.code ?? ''}\0${warning.message}`;

type EmitWarningArgs = [warning: string | Error, typeOrOptions?: string | { type?: string; code?: string; detail?: string }, code?: string];

/**
 * The warning `process.emitWarning(...args)` would print, read as Node reads its arguments; its
 * stack starts where the caller called (`from`), as Node's own does.
 */
function readWarning([warning, typeOrOptions, code]: EmitWarningArgs, from: (...args: never[]) => unknown): ThreadWarning {
  if (warning instanceof Error) {
    const { name, message, stack } = warning;
    const extra = warning as Error & { code?: unknown; detail?: unknown };
    return { name, message, stack, code: typeof extra.code === 'string' ? extra.code : undefined, detail: typeof extra.detail === 'string' ? extra.detail : undefined };
  }
  const options = typeof typeOrOptions === 'object' && typeOrOptions !== null ? typeOrOptions : { type: typeOrOptions, code };
  const located = Object.assign(new Error(String(warning)), { name: options.type ?? 'Warning' });
  Error.captureStackTrace(located, from);
  return { name: located.name, message: located.message, code: options.code, detail: options.detail, stack: located.stack };
}

/**
 * Run first in each thread entry: this thread's warnings go to the main thread instead of its own
 * stderr. A deprecation under `--throw-deprecation` or `--no-deprecation` is left to Node, which
 * throws it here or drops it.
 */
export function forwardThreadWarnings(): void {
  if (isMainThread) return;
  const channel = new BroadcastChannel(CHANNEL);
  channel.unref();
  const emit = process.emitWarning.bind(process) as (...args: EmitWarningArgs) => void;
  const forward = (...args: EmitWarningArgs) => {
    const warning = readWarning(args, forward);
    const leftToNode = warning.name === 'DeprecationWarning' && (process.noDeprecation || process.throwDeprecation);
    if (leftToNode) return emit(...args);
    channel.postMessage(warning);
  };
  process.emitWarning = forward as typeof process.emitWarning;
}

const LISTENING = Symbol.for('kinesis-client.thread-warnings');

/**
 * On the thread that starts the library's threads (done once per process, however many systems
 * or copies of the library): print each warning the threads forward, except one meant once that
 * this process has already shown, from any thread.
 */
export function printThreadWarningsOnce(): void {
  const global = globalThis as { [LISTENING]?: boolean };
  if (global[LISTENING]) return;
  global[LISTENING] = true;
  const shown = new Set<string>();
  // the process's own warnings (the main thread's SDK clients warn too) count as shown
  process.on('warning', (warning) => {
    if (meantOnce(warning)) shown.add(keyOf(warning));
  });
  const channel = new BroadcastChannel(CHANNEL);
  channel.unref();
  channel.onmessage = (event) => {
    const warning = (event as unknown as { data: ThreadWarning }).data;
    if (meantOnce(warning)) {
      const key = keyOf(warning);
      if (shown.has(key)) return;
      shown.add(key);
    }
    const error = Object.assign(new Error(warning.message), { name: warning.name, code: warning.code, detail: warning.detail });
    if (warning.stack) error.stack = warning.stack;
    process.emitWarning(error);
  };
}
