// The start-up benchmark's consumer: a no-op that tells the main thread (BroadcastChannel, once per
// shard) when it handled the shard's first batch, on a clock every thread of the process shares.
const channel = new BroadcastChannel('bench:first-batch');
channel.unref();
const seen = new Set();

export default {
  handleBatch(messages) {
    const shardId = messages[0]?.shardId;
    if (shardId === undefined || seen.has(shardId)) return;
    seen.add(shardId);
    channel.postMessage({ shardId, at: performance.timeOrigin + performance.now() });
  },
};
