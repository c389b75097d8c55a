/**
 * The consumer pool thread (run by Piscina): loads the user's consumer module once, unpacks each
 * transferred batch into messages and runs handleMessage / handleBatch / handleFailed.
 * Failures come back as data, so the caller can tell a throwing handleBatch from a dead thread.
 * A batch's outcome goes straight to the shard host that sent it (the task's `replyTo` port),
 * and to the main thread as the task's result, which it only observes.
 */
import './forward-warnings.js';
import { threadId, workerData } from 'node:worker_threads';
import { unpackRecords } from './batch-codec.js';
import { expandAggregates } from './kpl/expand.js';
import type { Consumer, ConsumerContext } from './consumer.js';
import { KinesisClientError, deserializeError, serializeError } from './errors.js';
import { fenceOpen, processNow } from './lease/fence.js';
import type { BatchOutcome, BatchTask, DescribeOutcome, FailedTask, PoolTask, PoolWorkerData } from './protocol.js';

const { consumerUrl } = workerData as PoolWorkerData;
let loaded: Promise<Consumer<unknown>> | undefined;

function loadConsumer(): Promise<Consumer<unknown>> {
  loaded ??= (async () => {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(consumerUrl)) as Record<string, unknown>;
    } catch (error) {
      throw new KinesisClientError('CONSUMER_LOAD_FAILED', `cannot import consumer module ${consumerUrl}: ${(error as Error)?.message ?? error}`, {
        cause: error,
      });
    }
    const candidate = (mod.default ?? mod) as Partial<Consumer<unknown>> | undefined;
    if (!candidate || typeof candidate.handleBatch !== 'function') {
      throw new KinesisClientError(
        'CONSUMER_INVALID',
        `consumer module ${consumerUrl} must export (as default) an object with a handleBatch(messages, batch, ctx) function`,
      );
    }
    for (const name of ['handleMessage', 'handleFailed'] as const) {
      if (candidate[name] !== undefined && typeof candidate[name] !== 'function') {
        throw new KinesisClientError('CONSUMER_INVALID', `consumer module ${consumerUrl}: ${name} must be a function when present`);
      }
    }
    return candidate as Consumer<unknown>;
  })();
  return loaded;
}

/**
 * The last moment to stop a batch whose lease may be gone: here, in the pool thread, right before
 * the consumer sees it, however long it waited in queues since its shard sent it.
 */
function fenced(task: BatchTask | FailedTask): BatchOutcome | undefined {
  if (!task.fence || fenceOpen(task.fence, processNow())) return undefined;
  const error = new KinesisClientError('LEASE_EXPIRED', `shard ${task.info.shardId}: lease not renewed within failoverMs - safetyMarginMs; batch not started`, {
    details: { streamName: task.info.streamName, shardId: task.info.shardId, firstSequenceNumber: task.info.firstSequenceNumber },
  });
  return { ok: false, fenced: true, error: serializeError(error) };
}

export default async function run(task: PoolTask): Promise<BatchOutcome | DescribeOutcome> {
  if (task.kind === 'describe') {
    try {
      const consumer = await loadConsumer();
      return { ok: true, capabilities: { handleMessage: !!consumer.handleMessage, handleFailed: !!consumer.handleFailed } };
    } catch (error) {
      return { ok: false, error: serializeError(error) };
    }
  }
  const outcome = await handle(task);
  task.replyTo?.postMessage(outcome);
  task.replyTo?.close();
  return outcome;
}

async function handle(task: BatchTask | FailedTask): Promise<BatchOutcome> {
  try {
    const consumer = await loadConsumer();
    const refused = fenced(task);
    if (refused) return refused;
    const ctx: ConsumerContext = { shardId: task.info.shardId, streamName: task.info.streamName, threadId };
    const { hashKeyRange, resumeAfter } = task.deaggregation;
    const { messages, lastSubSequenceNumber } = expandAggregates(unpackRecords(task.records, task.info.shardId, task.info.streamName), hashKeyRange, resumeAfter);
    if (task.kind === 'failed') {
      await consumer.handleFailed!(messages, deserializeError(task.error), task.info, ctx);
      return { ok: true, lastSubSequenceNumber };
    }
    let handled: unknown[] = messages;
    if (consumer.handleMessage) {
      handled = new Array(messages.length);
      for (let i = 0; i < messages.length; i++) {
        const out = consumer.handleMessage(messages[i]!, ctx);
        handled[i] = out instanceof Promise ? await out : out;
      }
    }
    // a batch can come out empty: the rest of an aggregate already handled, or records of a sibling shard
    if (handled.length > 0) {
      // handleMessage may have taken a while
      const late = fenced(task);
      if (late) return late;
      await consumer.handleBatch(handled, task.info, ctx);
    }
    return { ok: true, lastSubSequenceNumber };
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  }
}
