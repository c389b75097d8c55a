/**
 * The pattern every local service of the testing module follows, so that adding one (a PostgreSQL
 * or a Redis for another lease store) is one more file beside kinesalite.ts:
 * - `start<Service>(options)` resolves once the service answers, to a handle whose `stop()` may be
 *   called any number of times; the demo and the benches call it directly;
 * - `with<Service>(test, options)` is the ava side: the service for one test file, started in
 *   `test.before` and stopped in `test.after.always`, so it is stopped even when a test (or the
 *   start itself) fails. Every service is in memory and private to its file: each start is a clean
 *   slate on ephemeral loopback ports, and test files run side by side.
 */
import type { TestFn } from 'ava';

export interface Service {
  stop(): Promise<void>;
}

/** `work` done once, however often the returned function is called (stop() of every service). */
export function onlyOnce<T>(work: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => (running ??= work());
}

/**
 * Registers `start` for the whole test file. The handle it returns reads like the started service
 * (`aws.kinesis`, `aws.clientOptions`), so test bodies and helpers keep plain property reads; it
 * throws when read before `test.before` has run (at module level, say).
 */
export function withService<S extends Service, Context>(test: TestFn<Context>, name: string, start: () => Promise<S>): S {
  let service: S | undefined;
  test.before(async () => {
    service = await start();
  });
  test.after.always(async () => {
    await service?.stop();
  });
  const started = () => {
    if (!service) throw new Error(`${name} is not started yet: read it inside a test or hook (it starts in test.before)`);
    return service;
  };
  return new Proxy({} as S, {
    get: (_, key) => Reflect.get(started(), key),
    has: (_, key) => Reflect.has(started(), key),
  });
}
