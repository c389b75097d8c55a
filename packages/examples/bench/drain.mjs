/**
 * Drain benchmark (issues 2 and 11). Against one set of local services (kinesalite + dynalite, each
 * in a child process, so their CPU is not in this process's), in one run, createSystem with a no-op
 * consumer beside a bare SDK GetRecords loop over the same streams:
 * - drain: cold drains of preloaded 4-shard streams (from the createSystem call to the last
 *   checkpoint) and the process's CPU per record once start-up is taken off, as ratios to the loop;
 * - the fresh-thread floor: a new thread's time to its first GetRecords answer, loading only the
 *   Kinesis client, and the highest drain ratio it leaves any reader in a new thread;
 * - startup: ms until createSystem resolves and until the first batch is handled, and its CPU;
 * - idle: CPU per idle shard per second with 200 idle shards.
 * Prints tables; asserts nothing.
 *
 *   pnpm bench [--records 40000,100000] [--only drain,startup,idle] [--idle-shards 200] [--idle-seconds 10] [--startup-runs 3]
 *            [--rounds 3]   (drains per size and configuration; medians are printed)
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { createStream, startLocalAws } from '@kinesis-client/examples/testing';
import { systemDrain, systemIdle } from './bench-system.mjs';
import { freshThreadFloor, measureDrains, measureStartup } from './drain-parts.mjs';
import { bareDrain, bareIdle, preload, settle } from './measure.mjs';
import { printDrains, printIdle, printStartup } from './drain-report.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '40000,100000' },
    only: { type: 'string', default: 'drain,startup,idle' },
    'idle-shards': { type: 'string', default: '200' },
    'idle-seconds': { type: 'string', default: '10' },
    'startup-runs': { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
  },
});
const sizes = values.records.split(',').map(Number);
const only = new Set(values.only.split(','));
const SHARDS = 4;
const idleShards = Number(values['idle-shards']);
const fmt = (n) => Math.round(n).toLocaleString('en-US');
// the default places a shard-host thread per two cores; one per core (the earlier default) is
// measured beside it
const configs = [
  ['defaults', {}],
  [`shardHosts.threads: ${availableParallelism()}`, { shardHosts: { threads: availableParallelism() } }],
];

console.log(`drain benchmark: ${SHARDS}-shard streams of ~200-byte records, kinesalite + dynalite in child processes on loopback`);
const aws = await startLocalAws({ shardLimit: idleShards + 100 });
const kinesis = aws.kinesisClient();
let apps = 0;
const app = () => `bench-app-${++apps}`; // a fresh lease table: each system reads its stream from TRIM_HORIZON

// warm-up: the main thread's code paths (SDK, createSystem) and the emulators, once, unmeasured
const needStartup = only.has('startup') || only.has('drain');
if (needStartup) {
  const warm = await preload(kinesis, 'bench-warm', SHARDS, 4_000);
  await bareDrain(aws, 'bench-warm', 4_000);
  await systemDrain(aws, 'bench-warm', app(), warm, {});
  await preload(kinesis, 'bench-startup', SHARDS, 40);
  console.log('  warmed up');
}

const startup = needStartup ? await measureStartup(aws, 'bench-startup', SHARDS, configs, Number(values['startup-runs']), app) : new Map();
const drains = only.has('drain') ? await measureDrains(aws, kinesis, SHARDS, sizes, configs, Number(values.rounds), app) : [];
const floorMs = only.has('drain') ? await freshThreadFloor(aws, 'bench-startup') : undefined;

let idle;
if (only.has('idle')) {
  await createStream(kinesis, 'bench-idle', idleShards);
  await settle();
  const system = await systemIdle(aws, 'bench-idle', idleShards, Number(values['idle-seconds']));
  await settle();
  idle = { ...system, bare: await bareIdle(aws, 'bench-idle', Number(values['idle-seconds'])), shards: idleShards, seconds: Number(values['idle-seconds']) };
  console.log(`  idle measured (${idleShards} shards started in ${fmt(system.startedMs)} ms)`);
}

console.log('');
if (drains.length) printDrains(drains, startup, floorMs);
if (needStartup) printStartup(configs, startup, SHARDS);
if (idle) printIdle(idle);

kinesis.destroy();
await aws.stop();
