/**
 * Failover and handoff benchmark (issue 5). Three worker processes (demo-workers.js in worker
 * mode, no-op consumer) share a 6-shard stream under a steady producer. For failoverMs 3 000 and
 * 10 000 (takeIntervalMs its default, 2 x failoverMs), it measures:
 *
 * - DynamoDB writes per lease per minute in steady state, with the producer running and then
 *   idle, from a counting proxy in front of the local DynamoDB: every UpdateItem and PutItem of
 *   every process and thread, by kind (renewal, checkpoint, take, handoff...). Real DynamoDB
 *   bills each of them, failed conditions included.
 * - Failover: one worker is killed with SIGKILL; the time from the kill to the last of its leases
 *   acquired by a survivor, next to the bound failoverMs + takeIntervalMs and their ratio.
 * - Handoff: another worker is stopped gracefully; the time from each lease's release (after its
 *   final checkpoint) to its acquisition by the last worker, next to the bound of one take
 *   interval and their ratio.
 *
 * Times come from the workers' lease events (one machine clock). One kill and one stop per
 * configuration: a failover lands anywhere in the range its timers allow, so run it a few times
 * before comparing. Asserts nothing.
 *
 *   pnpm bench:failover  (node packages/examples/bench/failover.mjs)
 */
import http from 'node:http';
import { SHARD_END } from '@kinesis-client/worker/lease';
import { demoWorkers } from '@kinesis-client/examples/demo-workers';
import { createStream, putRecords, startLocalAws } from '@kinesis-client/examples/testing';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const SHARDS = 6;
const RATE = 300;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmt = (n) => Math.round(n).toLocaleString('en-US');

/** What a lease-table write does, from its UpdateExpression (see lease-table.ts). */
function kindOf(target, body) {
  if (target.endsWith('.PutItem')) return 'create';
  const expression = JSON.parse(body).UpdateExpression ?? '';
  if (expression.includes('checkpoint = :cp')) return 'checkpoint';
  if (expression === 'SET leaseCounter = :next') return 'renewal';
  if (expression.startsWith('SET leaseOwner = :me')) return 'take';
  if (expression.startsWith('SET leaseOwner = :to, checkpointOwner')) return 'handoff start';
  if (expression.startsWith('REMOVE checkpointOwner')) return 'handoff';
  if (expression.startsWith('SET leaseOwner = :owner REMOVE checkpointOwner')) return 'handoff cancel';
  if (expression.startsWith('REMOVE leaseOwner')) return 'release';
  return 'other';
}

/** An HTTP proxy in front of the local DynamoDB that counts writes by kind. */
async function countingProxy(upstream) {
  const to = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true });
  const counts = new Map();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target.endsWith('.UpdateItem') || target.endsWith('.PutItem')) {
        const kind = kindOf(target, body.toString());
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
      }
      const forward = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers, agent }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      forward.on('error', (error) => res.destroy(error));
      forward.end(body);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    counts,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve), agent.destroy())),
  };
}

const aws = await startLocalAws();
const proxy = await countingProxy(aws.dynamodbEndpoint);
const clientOptions = { ...aws.clientOptions, dynamodb: { ...aws.clientOptions.dynamodb, endpoint: proxy.endpoint } };
const { kinesis } = aws;

async function run(failoverMs) {
  const takeIntervalMs = 2 * failoverMs;
  const streamName = `bench-failover-${failoverMs}`;
  const appName = `${streamName}-app`;
  const table = aws.leaseTable(appName);
  await createStream(kinesis, streamName, SHARDS);
  let producing = true;
  let paused = false;
  const producer = (async () => {
    const encoder = new TextEncoder();
    for (let n = 0; producing; n++) {
      if (paused) {
        await sleep(100);
        continue;
      }
      const entries = Array.from({ length: RATE / 10 }, (_, i) => ({ PartitionKey: `k-${n}-${i}`, Data: encoder.encode(`{"n":${n}}`) }));
      await putRecords(kinesis, streamName, entries);
      await sleep(100);
    }
  })();

  const events = [];
  const workers = demoWorkers((workerId, m) => m.type === 'lease' && events.push({ worker: workerId, ...m }));
  const consumer = new URL('./noop-consumer.mjs', import.meta.url).href;
  await Promise.all(['w1', 'w2', 'w3'].map((workerId) => workers.start(workerId, { workerId, streamName, appName, clientOptions, failoverMs, consumer })));
  const running = () => {
    const held = new Map();
    for (const e of events) {
      const set = held.get(e.worker) ?? new Set();
      held.set(e.worker, set);
      if (e.event === 'acquired') set.add(e.shardId);
      else set.delete(e.shardId);
    }
    return held;
  };
  const ownersNow = async () => (await table.scan()).filter((l) => l.checkpoint !== SHARD_END);
  const waitUntil = async (check, what) => {
    const deadline = Date.now() + 10 * takeIntervalMs + 30_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  };
  const balanced = (ids, each) => async () => {
    const leases = await ownersNow();
    const held = running();
    return ids.every((w) => leases.filter((l) => l.leaseOwner === w).length === each && held.get(w)?.size === each);
  };
  await waitUntil(balanced(['w1', 'w2', 'w3'], SHARDS / 3), 'a balanced start');

  // steady state, busy then idle: renewals and checkpoints only
  const windowMs = Math.max(15_000, 2 * failoverMs);
  const perLeaseMinute = (n) => (n / SHARDS) * (60_000 / windowMs);
  const measureWrites = async () => {
    proxy.counts.clear();
    await sleep(windowMs);
    const writes = new Map(proxy.counts);
    return { writes, total: [...writes.values()].reduce((a, b) => a + b, 0) };
  };
  const busy = await measureWrites();
  paused = true;
  await sleep(2_000);
  const idle = await measureWrites();
  paused = false;

  // failover: SIGKILL, then wait until the survivors run every lease
  const victimLeases = (await ownersNow()).filter((l) => l.leaseOwner === 'w3').map((l) => l.leaseKey);
  const killedAt = Date.now();
  void workers.kill('w3');
  await waitUntil(balanced(['w1', 'w2'], SHARDS / 2), 'the survivors to take over');
  const takenAt = (shardId, by, after) => events.find((e) => e.event === 'acquired' && e.shardId === shardId && by.includes(e.worker) && e.at >= after)?.at;
  const failover = Math.max(...victimLeases.map((s) => takenAt(s, ['w1', 'w2'], killedAt))) - killedAt;

  // graceful handoff: stop w2, its leases go to w1
  const stoppedAt = Date.now();
  await workers.stop('w2');
  await waitUntil(balanced(['w1'], SHARDS), 'w1 to take the released leases');
  const released = events.filter((e) => e.worker === 'w2' && e.event === 'released' && e.at >= stoppedAt);
  const handoffs = released.map((r) => takenAt(r.shardId, ['w1'], r.at) - r.at);

  await workers.stop('w1');
  producing = false;
  await producer;
  const left = (await ownersNow()).filter((l) => l.leaseOwner).length;

  const bound = failoverMs + takeIntervalMs;
  console.log(`\nfailoverMs ${fmt(failoverMs)}, takeIntervalMs ${fmt(takeIntervalMs)} (renewals every ${fmt(failoverMs / 3)} ms)`);
  for (const [name, { writes, total }] of [[`${RATE} records/s`, busy], ['idle', idle]]) {
    console.log(
      `  steady state, ${name}: ${perLeaseMinute(total).toFixed(1)} DynamoDB writes per lease per minute over ${windowMs / 1000} s (` +
        [...writes].map(([k, n]) => `${k} ${perLeaseMinute(n).toFixed(1)}`).join(', ') +
        ')',
    );
  }
  console.log(`  failover after SIGKILL: ${fmt(failover)} ms for the last of ${victimLeases.length} leases; bound failoverMs + takeIntervalMs ${fmt(bound)} ms; ratio ${(failover / bound).toFixed(2)}`);
  console.log(
    `  handoff after stop(): release -> taken ${fmt(Math.min(...handoffs))}..${fmt(Math.max(...handoffs))} ms over ${handoffs.length} leases; bound takeIntervalMs ${fmt(takeIntervalMs)} ms; ratio ${(Math.max(...handoffs) / takeIntervalMs).toFixed(2)}`,
  );
  console.log(`  leases held after the last stop: ${left}`);
  return { failoverMs, busy: perLeaseMinute(busy.total), idle: perLeaseMinute(idle.total), failover, bound, handoff: Math.max(...handoffs) };
}

console.log(`failover benchmark: 3 worker processes, ${SHARDS} shards, ${RATE} records/s, no-op consumer, kinesalite + dynalite on loopback`);
const results = [];
for (const failoverMs of [3_000, 10_000]) results.push(await run(failoverMs));
console.log(`\nfailoverMs | writes/lease/min busy, idle | failover (bound, ratio) | handoff (bound, ratio)`);
for (const r of results) {
  console.log(
    `${fmt(r.failoverMs).padStart(10)} | ${r.busy.toFixed(1).padStart(9)}, ${r.idle.toFixed(1).padStart(5)} | ${fmt(r.failover)} ms (${fmt(r.bound)}, ${(r.failover / r.bound).toFixed(2)}) | ${fmt(r.handoff)} ms (${fmt(2 * r.failoverMs)}, ${(r.handoff / (2 * r.failoverMs)).toFixed(2)})`,
  );
}

await proxy.close();
await aws.stop();
