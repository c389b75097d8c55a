/**
 * `kinesis-client`, the operator CLI: status, watch, reset and release on a running application's
 * leases (docs/cli.md). Exit codes are stable, one per kind of failure (EXIT_CODES); a library
 * error's `code` is printed with it. Nothing printed carries a credential.
 */
import { isKinesisClientError, type ErrorCode } from '@kinesis-client/worker';
import { redactUrls } from '@kinesis-client/worker/lease';
import { parseInvocation, SHORT_USAGE, USAGE, type Invocation } from './args.js';
import { duration, renderStatus, table } from './render.js';
import { release } from './release.js';
import { findLease, shardName } from './find.js';
import { reset, type PositionView } from './reset.js';
import { openSession, type Session } from './session.js';
import { sampleStatus } from './status.js';
import { watch } from './watch.js';

/** 1 is any other failure (a store or AWS call, a bug). */
export const EXIT_CODES: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 2,
  INVALID_OPTION: 2,
  APPLICATION_NOT_FOUND: 3,
  STREAM_NOT_FOUND: 4,
  LEASE_HELD: 5,
  LEASE_CHANGED: 6,
};

const position = (p: PositionView) =>
  `${p.checkpoint}${p.subSequenceNumber ? `/${p.subSequenceNumber}` : ''}${p.timestamp ? ` (${p.timestamp})` : ''}, owner ${p.owner ?? '-'}, counter ${p.leaseCounter}`;

async function run(i: Invocation, session: Session, print: (text: string) => void): Promise<number> {
  const { options } = session;
  switch (i.command) {
    case 'status': {
      const report = await sampleStatus(session, i.sampleMs, i.lag);
      print(i.json ? JSON.stringify(report, null, 2) : renderStatus(report));
      return 0;
    }
    case 'watch':
      await watch(session, i.intervalMs, i.lag);
      return 0;
    case 'reset': {
      const started = performance.now();
      const found = findLease(await session.scan(), session.streams, i.shard!, options.appName);
      const name = shardName(found.address, session.streams);
      const done = await reset({ leases: session.leases, found, name, target: i.target!, force: i.force, failoverMs: options.lease.failoverMs, me: i.me });
      if (i.json) print(JSON.stringify(done, null, 2));
      else {
        print(`reset ${name}${done.forcedFrom ? ` (--force: lease taken from worker ${done.forcedFrom})` : ''} in ${duration(performance.now() - started)}`);
        print(`  before: ${position(done.before)}`);
        print(`  after:  ${position(done.after)}`);
        print('  free for any worker now; the next owner starts from the new position');
      }
      return 0;
    }
    case 'release': {
      const { streams } = session;
      const done = await release({ leases: session.leases, appName: options.appName, streams, shard: i.shard, worker: i.worker, scan: () => session.scan() });
      if (i.json) print(JSON.stringify(done, null, 2));
      else print(table(['SHARD', 'OWNER', 'COUNTER', 'RESULT'], done.map((r) => [shardName(r, streams), r.owner, String(r.leaseCounter), r.released ? 'released' : 'owner changed meanwhile: left alone'])));
      return done.every((r) => r.released) ? 0 : EXIT_CODES.LEASE_CHANGED!;
    }
  }
}

/** Runs one invocation; resolves to the exit code. `argv` without node and the script. */
export async function main(argv: readonly string[], out = (text: string) => void process.stdout.write(`${text}\n`), err = (text: string) => void process.stderr.write(`${text}\n`)): Promise<number> {
  let session: Session | undefined;
  try {
    const invocation = parseInvocation(argv);
    if (invocation === 'help') {
      out(USAGE);
      return 0;
    }
    session = await openSession(invocation.options, invocation.streams);
    await session.check();
    return await run(invocation, session, out);
  } catch (error) {
    const code = isKinesisClientError(error) ? error.code : undefined;
    const message = redactUrls(error instanceof Error ? error.message : String(error));
    err(`kinesis-client: ${code ? `${code}: ` : ''}${message}`);
    if (code === 'INVALID_ARGUMENT' && (error as { details?: { usage?: boolean } }).details?.usage) err(SHORT_USAGE);
    return (code && EXIT_CODES[code]) || 1;
  } finally {
    await session?.close().catch(() => undefined);
  }
}
