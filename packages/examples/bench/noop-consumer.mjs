// The benchmark's consumer: does nothing, so the drain rate measures the library alone.
export default {
  handleBatch() {},
};
