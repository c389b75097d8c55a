import test from 'ava';
import { KinesisClientError, type BatchInfo } from '@kinesis-client/worker';
import { DEFAULT_STOP_TIMEOUT_MS, boundedStop, stopTimeout, type StopSteps } from '../src/stop.js';

const never = () => new Promise<never>(() => {});
const info = (shardId: string): BatchInfo => ({ shardId, streamName: 's', firstSequenceNumber: '1', lastSequenceNumber: '9', attempt: 1, millisBehindLatest: undefined });

/** Steps that record the order they ran in; each one hangs unless given. */
function steps(overrides: Partial<StopSteps>): { steps: StopSteps; calls: string[] } {
  const calls: string[] = [];
  const step =
    <K extends keyof StopSteps>(name: K, fallback: StopSteps[K]): StopSteps[K] =>
    ((...args: never[]) => {
      calls.push(name);
      return ((overrides[name] ?? fallback) as (...a: never[]) => unknown)(...args);
    }) as StopSteps[K];
  return {
    calls,
    steps: {
      graceful: step('graceful', never),
      abandon: step('abandon', () => []),
      terminateThreads: step('terminateThreads', never),
      releaseLeft: step('releaseLeft', never),
      close: step('close', async () => []),
    },
  };
}

test('everything hangs (batch, thread drains, DynamoDB): stop still ends, abandons the running batch and closes', async (t) => {
  const { steps: s, calls } = steps({ abandon: () => [info('shard-a')] });
  const result = await boundedStop(s, 50, 50);
  t.deepEqual(calls, ['graceful', 'abandon', 'terminateThreads', 'releaseLeft', 'close']);
  t.deepEqual(result.abandoned, [{ shardId: 'shard-a', firstSequenceNumber: '1', lastSequenceNumber: '9' }]);
});

test('a graceful stop within the deadline abandons nothing and terminates nothing', async (t) => {
  const { steps: s, calls } = steps({ graceful: async () => undefined, releaseLeft: async () => undefined });
  const result = await boundedStop(s, 10_000, 10_000);
  t.deepEqual(calls, ['graceful', 'releaseLeft', 'close']);
  t.deepEqual(result.abandoned, []);
});

test('drains that finish once the running batches are abandoned need no termination', async (t) => {
  let abandoned = false;
  let drained!: () => void;
  const graceful = new Promise<void>((resolve) => (drained = resolve));
  const { steps: s, calls } = steps({
    graceful: () => graceful,
    abandon: () => {
      abandoned = true;
      setImmediate(drained);
      return [info('shard-b')];
    },
    releaseLeft: async () => undefined,
    close: async () => [info('shard-c')],
  });
  const result = await boundedStop(s, 50, 10_000);
  t.true(abandoned);
  t.deepEqual(calls, ['graceful', 'abandon', 'releaseLeft', 'close']);
  t.deepEqual(result.abandoned.map((b) => b.shardId), ['shard-b', 'shard-c'], 'and what the pool still ran at close');
});

test('a graceful step that fails still lets stop end', async (t) => {
  const { steps: s, calls } = steps({ graceful: async () => Promise.reject(new Error('drain failed')), releaseLeft: async () => undefined });
  await boundedStop(s, 10_000, 10_000);
  t.deepEqual(calls, ['graceful', 'releaseLeft', 'close']);
});

test('stop() arguments: timeoutMs defaults to 30 000; anything else invalid is INVALID_ARGUMENT', (t) => {
  t.is(stopTimeout(undefined), DEFAULT_STOP_TIMEOUT_MS);
  t.is(stopTimeout({}), DEFAULT_STOP_TIMEOUT_MS);
  t.is(stopTimeout({ timeoutMs: 0 }), 0);
  t.is(stopTimeout({ timeoutMs: 5_000 }), 5_000);
  for (const bad of [null, 5, 'soon', [], { timeoutMs: -1 }, { timeoutMs: 1.5 }, { timeoutMs: '5' }, { timeoutMs: Number.NaN }, { timeoutMs: Infinity }, { timeoutMs: 2 ** 31 }, { timeout: 5 }]) {
    const error = t.throws(() => stopTimeout(bad), { instanceOf: KinesisClientError }, JSON.stringify(bad));
    t.is(error?.code, 'INVALID_ARGUMENT');
  }
});
