/**
 * A running system for a test or a benchmark: createSystem with test defaults (a fresh stream and
 * application unless given, the local services' client options) and its error events collected.
 * Given the test's `t` it is stopped when the test ends, whether it passed, failed or threw.
 */
import type { ExecutionContext } from 'ava';
import { createSystem, type System, type SystemOptions } from '@kinesis-client/core';
import type { LocalAws } from './local-aws.js';
import { createStream, uniqueName } from './streams.js';

export interface SystemSpec {
  /** The local services it runs against. */
  aws: Pick<LocalAws, 'clientOptions' | 'kinesis'>;
  /** The consumer module. */
  consumer: URL | string;
  /** A stream that exists; without it, a fresh stream of `shards` shards (1 unless told otherwise). */
  stream?: string;
  shards?: number;
  /** The application (its lease table); a fresh one unless given. */
  app?: string;
  /** Anything else createSystem takes; these win over the defaults. */
  options?: Partial<SystemOptions>;
}

export interface SystemRun {
  stream: string;
  app: string;
  system: System;
  /** Every `error` event's error, in order. */
  errors: Error[];
  /** Stops the system (system.stop(), which stops once however often it is called). */
  stop(): Promise<void>;
}

export async function startSystem({ aws, consumer, stream, shards = 1, app = uniqueName('app'), options = {} }: SystemSpec, t?: ExecutionContext): Promise<SystemRun> {
  const streamName = stream ?? uniqueName('stream');
  // with `streams` in the options, the streams are the test's, made beforehand
  if (stream === undefined && options.streams === undefined) await createStream(aws.kinesis, streamName, shards);
  const system = await createSystem({ ...(options.streams === undefined ? { streamName } : {}), appName: app, consumer, ...aws.clientOptions, ...options });
  const errors: Error[] = [];
  // in createSystem's continuation: no error event of the start-up is missed
  system.events.on('error', (e) => errors.push(e.error));
  const run: SystemRun = { stream: streamName, app, system, errors, stop: async () => void (await system.stop()) };
  t?.teardown(() => run.stop());
  return run;
}
