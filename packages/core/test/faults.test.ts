import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Inspection, SupervisionNode, SystemOptions } from '@kinesis-client/core';
import { putRecords, withLocalAws } from '@kinesis-client/examples/testing';
import { Deliveries, eventually, isAscending, jsonRecords, sortedSeqs, startRecordingSystem } from './helpers/recording.js';
import { withStores, type StoreKind } from './helpers/stores.js';

const aws = withLocalAws(test);
const stores = withStores(test, aws, ['postgres', 'redis']);

const fast = {
  batchers: { batchSize: 100, backoff: { baseMs: 5, maxMs: 20 } },
  supervision: { shard: { maxRestarts: 100, backoff: { baseMs: 5, maxMs: 20 } }, shardHosts: { backoff: { baseMs: 10, maxMs: 50 } } },
  retrieval: { idleMs: 100 },
} satisfies Partial<SystemOptions>;

const start = (t: ExecutionContext, shards: number, options: Partial<SystemOptions> = {}, consumerQuery: Record<string, string | number> = {}) =>
  startRecordingSystem(t, aws, shards, { ...fast, ...options }, consumerQuery);

function find(node: SupervisionNode, id: string): SupervisionNode | undefined {
  if (node.id === id) return node;
  for (const child of node.children ?? []) {
    const hit = find(child, id);
    if (hit) return hit;
  }
  return undefined;
}

const threadOf = (view: Inspection, shardId: string) => view.shards.find((s) => s.shardId === shardId)?.threadId;

/** Every shard's deliveries: all put records present, first deliveries in sequence order. */
function checkComplete(t: { true: Function; deepEqual: Function }, deliveries: Deliveries, put: { shardId: string; sequenceNumber: string }[]) {
  const byShard = deliveries.byShard();
  for (const [shardId, seqs] of byShard) {
    const firsts = seqs.filter((s, i) => seqs.indexOf(s) === i);
    t.true(isAscending(firsts), `${shardId}: first deliveries in shard order`);
  }
  const handled = new Set([...byShard.values()].flat());
  t.deepEqual(sortedSeqs(handled), sortedSeqs(put.map((p) => p.sequenceNumber)), 'every record handled');
}

test.serial('inspect() shows the live tree; crashActor restarts the reader alone, or the lease actor and its reader', async (t) => {
  const run = await start(t, 2, { shardHosts: { threads: 1 } });
  const crashed: string[] = [];
  const restarted: string[] = [];
  run.system.events.on('actor:crashed', (e) => crashed.push(e.id));
  run.system.events.on('actor:restarted', (e) => restarted.push(e.id));
  try {
    await putRecords(aws.kinesis, run.stream, jsonRecords(200));
    await run.deliveries.waitFor(() => run.deliveries.count >= 200);
    const before = await run.system.inspect();
    t.is(before.tree.id, 'root');
    t.deepEqual(before.tree.children!.map((c) => c.id), ['shard-hosts', 'coordinator', 'consumer-pool']);
    const host = find(before.tree, 'shard-host-0')!;
    t.is(host.kind, 'thread');
    t.true(host.threadId > 0, 'shard actors live in a worker thread');
    const shardId = before.shards[0]!.shardId;
    t.is(before.shards[0]!.streamName, run.stream);
    t.deepEqual((await run.system.status()).map((s) => `${s.streamName}/${s.shardId}`).sort(), before.shards.map((s) => `${run.stream}/${s.shardId}`).sort());
    // shard actors are addressed by stream and shard: their ids carry both
    const shard = `${run.stream}/${shardId}`;
    const shardNode = find(before.tree, shard)!;
    t.is(shardNode.strategy, 'rest_for_one');
    t.deepEqual(shardNode.children!.map((c) => c.id), [`${shard}/lease`, `${shard}/reader`]);
    t.true(before.shards.every((s) => s.leaseOwner === run.system.workerId && s.threadId === host.threadId));
    const lease0 = find(before.tree, `${shard}/lease`)!;
    const reader0 = find(before.tree, `${shard}/reader`)!;

    t.true(await run.system.faults.crashActor(shardId, 'reader'));
    await eventually(async () => (restarted.includes(`${shard}/reader`) ? true : undefined), 10_000, 'reader restart');
    const afterReader = await run.system.inspect();
    const reader1 = find(afterReader.tree, `${shard}/reader`)!;
    t.is(reader1.incarnation, reader0.incarnation + 1, 'same id, next incarnation');
    t.is(reader1.restarts, 1);
    t.is(reader1.lastError?.name, 'ActorCrashInjected');
    t.is(find(afterReader.tree, `${shard}/lease`)!.incarnation, lease0.incarnation, 'rest_for_one: the lease actor before the reader is untouched');

    t.true(await run.system.faults.crashActor({ streamName: run.stream, shardId }, 'lease'), 'by address');
    await eventually(async () => (restarted.includes(`${shard}/lease`) && restarted.filter((r) => r === `${shard}/reader`).length === 2 ? true : undefined), 10_000, 'lease restart');
    const afterLease = await run.system.inspect();
    t.is(find(afterLease.tree, `${shard}/lease`)!.incarnation, lease0.incarnation + 1);
    t.is(find(afterLease.tree, `${shard}/reader`)!.incarnation, reader0.incarnation + 2, 'a lease actor crash restarts the reader after it');
    t.deepEqual(crashed, [`${shard}/reader`, `${shard}/lease`]);

    const put = await putRecords(aws.kinesis, run.stream, jsonRecords(200, { offset: 200 }));
    await run.deliveries.waitFor(() => new Set(run.deliveries.byShard().get(shardId)).size >= put.filter((p) => p.shardId === shardId).length + 1);
    t.false(await run.system.faults.crashActor('shardId-999999999999', 'reader'), 'no such shard here');
    t.false(await run.system.faults.crashActor({ streamName: `${run.stream}-other`, shardId }, 'reader'), 'that shard id, of another stream');
    await t.throwsAsync(() => run.system.faults.crashActor({ shardId } as never, 'reader'), { message: /shard id or a \{ streamName, shardId \} address/ });
    await t.throwsAsync(() => run.system.faults.killThread(42 as never), { message: /shard id or a \{ streamName, shardId \} address/ });
    await t.throwsAsync(() => run.system.faults.crashActor(shardId, 'writer' as never), { message: /actor must be one of/ });
  } finally {
    await run.stop();
  }
});

for (const how of ['terminate', 'exit', 'throw', 'oom'] as const) {
  test.serial(`a shard-host thread that dies (${how}) is replaced; its shards resume from their checkpoints on the new thread`, async (t) => {
    const run = await start(t, 2, { shardHosts: { threads: 1, resourceLimits: { maxOldGenerationSizeMb: 128 } } });
    try {
      const first = await putRecords(aws.kinesis, run.stream, jsonRecords(400));
      await run.deliveries.waitFor(() => run.deliveries.count >= 400);
      const before = await run.system.inspect();
      const shardId = first[0]!.shardId;
      const oldThread = threadOf(before, shardId)!;
      await eventually(async () => ((await run.system.inspect()).shards.every((s) => s.checkpoint !== 'TRIM_HORIZON') ? true : undefined));
      const killedAt = Date.now();
      t.true(await run.system.faults.killThread(shardId, how));
      const second = await putRecords(aws.kinesis, run.stream, jsonRecords(400, { offset: 400 }));
      await run.deliveries.waitFor(() => new Set(run.deliveries.byShard().get(shardId)).size > first.filter((p) => p.shardId === shardId).length, 30_000);
      t.log(`${how}: first record on the new thread ${Date.now() - killedAt} ms after the kill`);
      await run.deliveries.waitFor(() => new Set([...run.deliveries.byShard().values()].flat()).size >= 800, 30_000);
      const after = await run.system.inspect();
      t.not(threadOf(after, shardId), oldThread, 'the shard runs on a fresh thread');
      t.is(find(after.tree, 'shard-host-0')!.restarts, 1);
      t.true(run.errors.some((e) => (e as { code?: string }).code === 'HOST_THREAD_DIED'));
      checkComplete(t, run.deliveries, [...first, ...second]);
    } finally {
      await run.stop();
    }
  });
}

test.serial('a consumer pool thread that dies mid-batch fails that batch only; it is retried and nothing is lost', async (t) => {
  const marker = join(mkdtempSync(join(tmpdir(), 'kc-')), 'exited');
  const run = await start(t, 2, {}, { exitMarker: marker });
  const died: boolean[] = [];
  run.system.events.on('batch:failed', (e) => died.push(e.poolDied));
  try {
    const put = await putRecords(aws.kinesis, run.stream, jsonRecords(1_000));
    await run.deliveries.waitFor(() => new Set([...run.deliveries.byShard().values()].flat()).size >= 1_000);
    t.true(died.includes(true), 'batch:failed with poolDied');
    const diedOn = readFileSync(marker, 'utf8');
    t.true(run.deliveries.batches.some((b) => b.sequenceNumbers[0] === diedOn && b.attempt === 2), 'the batch that killed its thread succeeded on attempt 2');
    checkComplete(t, run.deliveries, put);
    t.is([...run.deliveries.byShard().values()].flat().length, 1_000, 'no record handled twice');
  } finally {
    await run.stop();
  }
});

/** On PostgreSQL and Redis the same command names reach the store's operations (STORE_COMMANDS); the failure is their STORE_CALL_FAILED. */
const failedWith = (kind: StoreKind, name: string) => (e: Error) =>
  kind === 'dynamodb' ? e.name === name : (e as { code?: string }).code === 'STORE_CALL_FAILED' && e.message.endsWith(`failed with ${name}`);

const throttledCheckpoints = test.macro(async (t, kind: StoreKind) => {
  // a slightly slow consumer spreads the checkpoints out, so the watcher sees many of them
  const run = await start(t, 2, { lease: { checkpointIntervalMs: 0 }, ...stores.options(kind, '') }, { delayMs: 10 });
  const lost: string[] = [];
  run.system.events.on('lease:lost', (e) => lost.push(e.shardId));
  try {
    const leases = await stores.leases(kind, run.app);
    // both leases taken first: a failed take restarts its actor (no error event), a failed renewal or checkpoint is reported
    await eventually(async () => ((await leases.scan()).filter((l) => l.leaseOwner === run.system.workerId).length === 2 ? true : undefined), 20_000, 'leases taken');
    const rule = await run.system.faults.failCalls({ command: 'UpdateItem', error: 'ProvisionedThroughputExceededException', times: 15 });
    const producing = putRecords(aws.kinesis, run.stream, jsonRecords(3_000));
    const violations: string[] = [];
    const observed = new Set<string>();
    let done = false;
    const watcher = (async () => {
      while (!done) {
        // the handled set is read after the scan: a checkpoint the scan sees was written after its records were reported
        const scanned = await leases.scan();
        const handled = run.deliveries.byShard();
        for (const lease of scanned) {
          if (!/^\d+$/.test(lease.checkpoint)) continue;
          observed.add(lease.checkpoint);
          const seqs = handled.get(lease.leaseKey) ?? [];
          if (!seqs.includes(lease.checkpoint)) violations.push(`${lease.leaseKey} checkpointed ${lease.checkpoint} before it was handled`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const put = await producing;
    await run.deliveries.waitFor(() => new Set([...run.deliveries.byShard().values()].flat()).size >= 3_000);
    const last = new Map(put.map((p) => [p.shardId, p.sequenceNumber]));
    await eventually(async () => ((await leases.scan()).every((l) => l.checkpoint === last.get(l.leaseKey)) ? true : undefined), 20_000, 'final checkpoints');
    done = true;
    await watcher;
    t.is(rule.remaining, 0, 'every injected failure was consumed');
    t.true(run.errors.filter(failedWith(kind, 'ProvisionedThroughputExceededException')).length >= 15, 'the failures were seen and reported');
    t.true(observed.size >= 4, `the table was watched while checkpoints were written (${observed.size} distinct seen)`);
    t.deepEqual(violations, []);
    t.deepEqual(lost, [], 'throttled writes do not cost the lease');
    checkComplete(t, run.deliveries, put);
  } finally {
    await run.stop();
  }
});

for (const kind of ['dynamodb', 'postgres', 'redis'] as const) {
  const title = 'failCalls on UpdateItem during checkpoints: retried, the lease is kept, no checkpoint ever passes unhandled records';
  test.serial(kind === 'dynamodb' ? title : `${title} (${kind} store)`, throttledCheckpoints, kind);
}

test.serial('failCalls on GetRecords: the reader backs off and carries on; arguments are checked', async (t) => {
  const run = await start(t, 1);
  try {
    const rule = await run.system.faults.failCalls({ command: 'GetRecords', error: 'ProvisionedThroughputExceededException', times: 4 });
    const put = await putRecords(aws.kinesis, run.stream, jsonRecords(300));
    await run.deliveries.waitFor(() => run.deliveries.count >= 300);
    t.is(rule.remaining, 0);
    checkComplete(t, run.deliveries, put);
    await t.throwsAsync(() => run.system.faults.failCalls({ command: 'GetRecords', error: 'X', times: 0 }), { message: /times must be a positive integer/ });
    await t.throwsAsync(() => run.system.faults.failCalls({ command: 'get records', error: 'X', times: 1 }), { message: /command must be/ });
  } finally {
    await run.stop();
  }
});

test.serial('escalation past the root stops the system gracefully, leases released, with a fatal event', async (t) => {
  const run = await start(t, 2, {
    shardHosts: { threads: 1 },
    supervision: { shardHosts: { maxRestarts: 0 }, root: { maxRestarts: 0 } },
  });
  const escalated: string[] = [];
  const fatal: Error[] = [];
  let stopped = false;
  run.system.events.on('supervisor:escalated', (e) => escalated.push(`${e.supervisor}/${e.child}`));
  run.system.events.on('fatal', (e) => fatal.push(e.error));
  run.system.events.on('stopped', () => (stopped = true));
  try {
    await putRecords(aws.kinesis, run.stream, jsonRecords(100));
    await run.deliveries.waitFor(() => run.deliveries.count >= 100);
    const shardId = (await run.system.inspect()).shards[0]!.shardId;
    t.true(await run.system.faults.killThread(shardId));
    await eventually(async () => (stopped ? true : undefined), 15_000, 'the system to stop itself');
    t.deepEqual(escalated, ['shard-hosts/shard-host-0', 'root/shard-hosts']);
    t.is(fatal.length, 1);
    t.is((fatal[0] as { code?: string }).code, 'RESTART_LIMIT_EXCEEDED');
    const leases = await aws.leaseTable(run.app).scan();
    t.true(leases.every((l) => l.leaseOwner === undefined), 'no lease is left owned');
  } finally {
    await run.stop();
  }
});

test.serial('a reader restarted while its batch is still in the pool waits for it: a shard never has two batches running', async (t) => {
  const run = await start(t, 1, { processors: { concurrency: 2 }, batchers: { batchSize: 50, backoff: { baseMs: 5, maxMs: 20 } } }, { delayMs: 600 });
  try {
    const put = await putRecords(aws.kinesis, run.stream, jsonRecords(300));
    await run.deliveries.waitFor(() => run.deliveries.batches.length >= 1);
    // the second batch is in the pool now, for 600 ms
    await new Promise((r) => setTimeout(r, 200));
    t.true(await run.system.faults.crashActor(put[0]!.shardId, 'reader'));
    await run.deliveries.waitFor(() => new Set([...run.deliveries.byShard().values()].flat()).size >= 300, 30_000);
    const batches = [...run.deliveries.batches].sort((a, b) => a.startedAt - b.startedAt);
    for (let i = 1; i < batches.length; i++) {
      t.true(batches[i]!.startedAt >= batches[i - 1]!.endedAt, `batch ${i} started after batch ${i - 1} ended`);
    }
    checkComplete(t, run.deliveries, put);
  } finally {
    await run.stop();
  }
});

test.serial('more shards with a batch in flight than the pool has threads: batches wait their turn, none is rejected', async (t) => {
  const run = await start(t, 6, { processors: { concurrency: 1 } }, { delayMs: 100 });
  const failed: string[] = [];
  run.system.events.on('batch:failed', (e) => failed.push(e.error.message));
  try {
    const put = await putRecords(aws.kinesis, run.stream, jsonRecords(1_200));
    await run.deliveries.waitFor(() => new Set([...run.deliveries.byShard().values()].flat()).size >= 1_200, 60_000);
    t.deepEqual(failed, []);
    t.is([...run.deliveries.byShard().values()].flat().length, 1_200, 'each once');
    checkComplete(t, run.deliveries, put);
  } finally {
    await run.stop();
  }
});
