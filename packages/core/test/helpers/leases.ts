import type { LeaseSnapshot } from '@kinesis-client/worker/lease';

/** A lease row for the pure decision tests: free, at TRIM_HORIZON, unless `over` says otherwise. */
export const lease = (leaseKey: string, over: Partial<LeaseSnapshot> = {}): LeaseSnapshot => ({
  leaseKey,
  leaseOwner: undefined,
  leaseCounter: 0,
  checkpoint: 'TRIM_HORIZON',
  checkpointSubSequenceNumber: 0,
  ownerSwitchesSinceCheckpoint: 0,
  parentShardIds: [],
  childShardIds: [],
  startingHashKey: undefined,
  endingHashKey: undefined,
  ...over,
});
