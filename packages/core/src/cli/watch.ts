/**
 * `watch`: the status redrawn every interval, in place. Lease expiry is judged across redraws
 * (one LeaseExpiry for the whole watch), so after failoverMs of watching an expired lease shows
 * as such. Ctrl-C (SIGINT) or SIGTERM ends it after the current read, with the terminal as it was.
 */
import { LeaseExpiry } from '../lease-taker.js';
import { renderStatus } from './render.js';
import type { Session } from './session.js';
import { readStatus } from './status.js';

const CLEAR = '\x1b[H\x1b[2J';

export async function watch(session: Session, intervalMs: number, lag: boolean, out: NodeJS.WriteStream = process.stdout): Promise<void> {
  const watcher = { expiry: new LeaseExpiry() };
  let stopping = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    stopping = true;
    wake?.();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    while (!stopping) {
      const report = await readStatus(session, watcher, lag);
      if (stopping) break;
      out.write(`${out.isTTY ? CLEAR : '\n'}${renderStatus(report)}\n\nevery ${intervalMs / 1000} s; Ctrl-C to stop\n`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
