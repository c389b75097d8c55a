/**
 * The child processes of the testing module, local services and worker processes alike: each
 * reports over IPC when it is ready, and ends by a signal. What every caller needs, once: wait for
 * the ready report or the exit, whichever comes first; stop it and wait until it has exited.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export const isRunning = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Sends `signal` unless the process has exited already; resolves once it has. */
export async function endChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!isRunning(child)) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

/** A child that exited before it was ready; `code` lets a caller tell a retryable start from a failure. */
export class ExitedDuringStartup extends Error {
  constructor(
    what: string,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
  ) {
    super(`${what} exited during start-up (${code ?? signal})`);
  }
}

export interface ReadyOptions<M> {
  /** Names the child in errors. */
  what: string;
  /** Which message means ready; `{ type: 'ready' }` unless told otherwise. */
  isReady?: (message: M) => boolean;
  /** Every other message, before and after the ready one. */
  onMessage?: (message: M) => void;
  /** Past it the child is SIGKILLed and the start fails. */
  timeoutMs?: number;
}

/** Resolves with the child's ready message; rejects if it exits first (ExitedDuringStartup) or is not ready in time. */
export function readyOf<M>(child: ChildProcess, { what, isReady = (m) => (m as { type?: string })?.type === 'ready', onMessage, timeoutMs }: ReadyOptions<M>): Promise<M> {
  return new Promise<M>((resolve, reject) => {
    let settled = false;
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      child.off('exit', exited);
      if (!onMessage) child.off('message', received);
    };
    const received = (message: M) => {
      if (settled || !isReady(message)) return onMessage?.(message);
      settle();
      resolve(message);
    };
    const exited = (code: number | null, signal: NodeJS.Signals | null) => {
      settle();
      reject(new ExitedDuringStartup(what, code, signal));
    };
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            settle();
            // rejected once it has exited, so a caller may start its replacement at once
            void endChild(child, 'SIGKILL').then(() => reject(new Error(`${what} not ready after ${timeoutMs} ms`)));
          }, timeoutMs);
    child.on('message', received);
    child.once('exit', exited);
  });
}
