/** The demo's consumer: runs in the Piscina pool. Decoding JSON is per-record CPU work, so it lives here. */
import { defineConsumer } from '@kinesis-client/worker/consumer';

interface Order {
  orderId: number;
  customer: string;
  amountCents: number;
}

const decoder = new TextDecoder();

export default defineConsumer<Order>({
  handleMessage(message) {
    return JSON.parse(decoder.decode(message.data)) as Order;
  },
  async handleBatch(orders) {
    // a real consumer writes somewhere here; throwing would retry the batch
    let total = 0;
    for (const order of orders) total += order.amountCents;
    if (!Number.isFinite(total)) throw new Error('corrupt order amounts');
  },
});
