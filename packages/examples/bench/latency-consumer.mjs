// The latency benchmark's consumer: reports, per record, how long ago its producer stamped it.
// performance.timeOrigin + performance.now() is wall-clock time with sub-millisecond resolution in every thread.
import { defineConsumer } from '@kinesis-client/worker/consumer';

const channel = new BroadcastChannel(new URL(import.meta.url).searchParams.get('channel') ?? 'latency');
channel.unref();
const decoder = new TextDecoder();

export default defineConsumer({
  handleBatch(messages) {
    const now = performance.timeOrigin + performance.now();
    channel.postMessage(
      messages.map((m) => {
        const { n, t } = JSON.parse(decoder.decode(m.data));
        return { n, latencyMs: now - t };
      }),
    );
  },
});
