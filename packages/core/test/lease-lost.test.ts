import test from 'ava';
import { eventually, jsonRecords, putRecords, startRecordingSystem, startServices, type Services } from './helpers/local.js';

let services: Services;
test.before(async () => {
  services = await startServices();
});
test.after.always(async () => {
  await services?.stop();
});

// what a worker that does not hand over (or a Java KCL worker) does: take the lease on its counter
test.serial('a lease taken from under its owner: the reader stops, nothing is handled until it is ours again, lease:lost, and it is taken back later', async (t) => {
  const run = await startRecordingSystem(services, 1, { lease: { failoverMs: 3_000 }, polling: { idleMs: 200 } });
  const lost: { reason: string; at: number }[] = [];
  const acquired: { workerId: string; at: number }[] = [];
  const stopped: string[] = [];
  run.system.events.on('lease:lost', (e) => lost.push({ reason: e.reason, at: Date.now() }));
  run.system.events.on('lease:acquired', (e) => acquired.push({ workerId: e.workerId, at: Date.now() }));
  run.system.events.on('shard:stopped', (e) => stopped.push(e.reason));
  const table = services.leaseTable(run.app);
  try {
    const first = await putRecords(services.kinesis, run.stream, jsonRecords(200));
    const last = first.at(-1)!.sequenceNumber;
    await eventually(async () => ((await table.scan())[0]?.checkpoint === last ? true : undefined), 20_000, 'the first checkpoint');

    // the take races the owner's renewals; retry on a fresh read until it lands
    const row = await eventually(async () => {
      const lease = (await table.scan())[0]!;
      return (await table.take(lease, 'intruder')) ? lease : undefined;
    });
    await eventually(async () => (lost.length > 0 ? true : undefined), 10_000, 'lease:lost');
    t.deepEqual(stopped, ['lost'], 'the shard stopped at once');
    const second = await putRecords(services.kinesis, run.stream, jsonRecords(100, { offset: 200 }));
    // the intruder never renews: the owner takes the lease back once it expires, and reads on from the last checkpoint
    await eventually(async () => (acquired.length === 2 ? true : undefined), 20_000, 'the lease taken back');
    const between = run.deliveries.batches.filter((b) => b.startedAt > lost[0]!.at && b.startedAt < acquired[1]!.at);
    t.deepEqual(between, [], 'nothing was handled while the lease was not ours');
    t.regex(lost[0]!.reason, /condition failed/);
    t.is((await table.scan())[0]!.leaseOwner, run.system.workerId);
    t.true((await table.scan())[0]!.leaseCounter > row.leaseCounter + 1);
    await run.deliveries.waitFor(() => run.deliveries.byShard().get(second[0]!.shardId)!.includes(second.at(-1)!.sequenceNumber));
    t.deepEqual(
      acquired.map((a) => a.workerId),
      [run.system.workerId, run.system.workerId],
    );
  } finally {
    await run.stop();
  }
});
