/**
 * The Redis adapter's writes, each one Lua script: Redis runs a script alone, so its condition
 * and its update are one atomic step, as a DynamoDB conditional write is. A lease is a hash at
 * `<prefix>lease:<leaseKey>` with the DynamoDB table's attribute names (sets as JSON arrays);
 * `<prefix>leases` is the set of lease keys; `<prefix>meta` marks the prefix as ours.
 * KEYS[1] is always the lease's hash. Holder writes answer { 1, the worker a pending handoff
 * goes to or '' } when they held, 0 when not. A `handoffTo` field left by an earlier version (its
 * own handoff request) is never read, and removed by the next take, release or handoff.
 */

/** The counter condition: the row's leaseCounter is exactly ARGV's (a non-number never matches). */
const COUNTER_IS = (arg: string) => `local counter = tonumber(redis.call('HGET', KEYS[1], 'leaseCounter') or 'x')
if counter == nil or counter ~= tonumber(${arg}) then return 0 end`;

const OWNER_IS = (arg: string) => `if redis.call('HGET', KEYS[1], 'leaseOwner') ~= ${arg} then return 0 end`;

/** The holder's condition: the checkpointOwner, or the leaseOwner while no handoff is pending (lease.ts holderOf). */
const HOLDER_IS = (arg: string) => `local cpo = redis.call('HGET', KEYS[1], 'checkpointOwner')
local lo = redis.call('HGET', KEYS[1], 'leaseOwner')
if not lo or (cpo and cpo ~= ${arg}) or (not cpo and lo ~= ${arg}) then return 0 end`;

/** A pending handoff from ARGV[1] to ARGV[2]. */
const PENDING = `if redis.call('HGET', KEYS[1], 'leaseOwner') ~= ARGV[2] or redis.call('HGET', KEYS[1], 'checkpointOwner') ~= ARGV[1] then return 0 end`;

/** Adds the JSON array ARGV[i] to the set field `field`, in the order first seen. */
const ADD_TO_SET = `local function addToSet(field, json)
  local have = cjson.decode(redis.call('HGET', KEYS[1], field) or '[]')
  local seen = {}
  for _, v in ipairs(have) do seen[v] = true end
  for _, v in ipairs(cjson.decode(json)) do
    if not seen[v] then seen[v] = true; table.insert(have, v) end
  end
  if #have > 0 then redis.call('HSET', KEYS[1], field, cjson.encode(have)) end
end`;

const HELD_REPLY = `if cpo then return { 1, lo } end
return { 1, '' }`;

export const SCRIPTS = {
  /** KEYS: lease, index. ARGV: leaseKey, checkpoint, parents JSON, children JSON, startingHashKey, endingHashKey. */
  create: `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'leaseKey', ARGV[1], 'leaseCounter', 0, 'checkpoint', ARGV[2], 'checkpointSubSequenceNumber', 0, 'ownerSwitchesSinceCheckpoint', 0)
if ARGV[3] ~= '[]' then redis.call('HSET', KEYS[1], 'parentShardId', ARGV[3]) end
if ARGV[4] ~= '[]' then redis.call('HSET', KEYS[1], 'childShardIds', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'startingHashKey', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'endingHashKey', ARGV[6]) end
redis.call('SADD', KEYS[2], ARGV[1])
return 1`,

  /** ARGV: counter seen, owner, '1' when the holder changes, anchor ('' for none). */
  take: `${COUNTER_IS('ARGV[1]')}
redis.call('HSET', KEYS[1], 'leaseOwner', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'leaseCounter', 1)
redis.call('HDEL', KEYS[1], 'checkpointOwner', 'handoffTo')
if ARGV[3] == '1' then redis.call('HINCRBY', KEYS[1], 'ownerSwitchesSinceCheckpoint', 1) end
if ARGV[4] ~= '' then redis.call('HSETNX', KEYS[1], 'checkpointTimestamp', ARGV[4]) end
return 1`,

  /** ARGV: counter, owner. */
  renew: `${COUNTER_IS('ARGV[1]')}
${HOLDER_IS('ARGV[2]')}
redis.call('HINCRBY', KEYS[1], 'leaseCounter', 1)
${HELD_REPLY}`,

  /** ARGV: counter, owner, checkpoint, sub-sequence number, children JSON. */
  checkpoint: `${ADD_TO_SET}
${COUNTER_IS('ARGV[1]')}
${HOLDER_IS('ARGV[2]')}
redis.call('HINCRBY', KEYS[1], 'leaseCounter', 1)
redis.call('HSET', KEYS[1], 'checkpoint', ARGV[3], 'checkpointSubSequenceNumber', ARGV[4], 'ownerSwitchesSinceCheckpoint', 0)
redis.call('HDEL', KEYS[1], 'checkpointTimestamp')
if ARGV[5] ~= '[]' then addToSet('childShardIds', ARGV[5]) end
${HELD_REPLY}`,

  /** ARGV: children JSON. The counter is left alone: the owner is not fenced out. */
  addChildShardIds: `${ADD_TO_SET}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
addToSet('childShardIds', ARGV[1])
return 1`,

  /** ARGV: owner. A plain owner frees the lease; a checkpointOwner lets it go to the worker it is handed to. */
  release: `${HOLDER_IS('ARGV[1]')}
if cpo then
  redis.call('HDEL', KEYS[1], 'checkpointOwner', 'handoffTo')
  redis.call('HINCRBY', KEYS[1], 'ownerSwitchesSinceCheckpoint', 1)
else
  redis.call('HDEL', KEYS[1], 'leaseOwner', 'handoffTo')
end
redis.call('HINCRBY', KEYS[1], 'leaseCounter', 1)
return 1`,

  /** ARGV: owner, receiver. Only with no handoff pending; the counter is left alone. */
  initiateHandoff: `${OWNER_IS('ARGV[1]')}
if redis.call('HEXISTS', KEYS[1], 'checkpointOwner') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'leaseOwner', ARGV[2], 'checkpointOwner', ARGV[1])
return 1`,

  /** ARGV: owner, receiver. The holder lets go: never free in between. */
  completeHandoff: `${PENDING}
redis.call('HDEL', KEYS[1], 'checkpointOwner', 'handoffTo')
redis.call('HINCRBY', KEYS[1], 'leaseCounter', 1)
redis.call('HINCRBY', KEYS[1], 'ownerSwitchesSinceCheckpoint', 1)
return 1`,

  /** ARGV: owner, receiver. Back to the owner; the counter is left alone. */
  cancelHandoff: `${PENDING}
redis.call('HSET', KEYS[1], 'leaseOwner', ARGV[1])
redis.call('HDEL', KEYS[1], 'checkpointOwner', 'handoffTo')
return 1`,

  /** KEYS: lease, index. ARGV: leaseKey. Only a lease nobody holds. */
  deleteReleased: `if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'leaseOwner') == 1 then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1`,

  /** KEYS: lease, index. ARGV: leaseKey, SHARD_END. */
  deleteFinished: `if redis.call('HGET', KEYS[1], 'checkpoint') ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1`,

  /**
   * KEYS: index. ARGV: the prefix of lease hashes. Every lease as { leaseKey, type, fields }, read
   * in one step, so a scan is a consistent snapshot as DynamoDB's consistent scan is per page.
   */
  scan: `local out = {}
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local name = ARGV[1] .. key
  local kind = redis.call('TYPE', name).ok
  if kind == 'hash' then table.insert(out, { key, kind, redis.call('HGETALL', name) })
  elseif kind ~= 'none' then table.insert(out, { key, kind, {} }) end
end
return out`,
} as const;

export type ScriptName = keyof typeof SCRIPTS;
