// The benchmark's consumer: does nothing, so the drain rate measures the library alone. It imports
// the light entry as a user's consumer does, so pool threads start as they would in production.
import { defineConsumer } from '@kinesis-client/worker/consumer';

export default defineConsumer({
  handleBatch() {},
});
