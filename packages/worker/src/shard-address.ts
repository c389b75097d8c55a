/**
 * A shard actor's address: its stream and its shard. Shard ids repeat across streams (every
 * stream has a shardId-000000000000), so a system hosting several streams needs both to tell
 * their actors apart.
 */
export interface ShardAddress {
  readonly streamName: string;
  readonly shardId: string;
}

/**
 * The one string form of an address, for map keys, placement and actor ids. Stream names are
 * `[a-zA-Z0-9_.-]+`, so the `/` cannot be ambiguous.
 */
export function shardKey(address: ShardAddress): string {
  return `${address.streamName}/${address.shardId}`;
}
