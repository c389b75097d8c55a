// The drain benchmark's tables: figures with the bare GetRecords loop beside them, and ratios.
import { median } from './drain-parts.mjs';

const fix = (n, d = 2) => n.toFixed(d);
const fmt = (n) => Math.round(n).toLocaleString('en-US');

function table(header, rows, left = 1) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `  ${cells.map((c, i) => (i < left ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')}`;
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log('');
}

export function printDrains(drains, startup, floorMs) {
  console.log("cold drain: createSystem call -> last checkpoint; bare loop: first call -> last page (medians; the bare loop's of its runs beside the system's)");
  console.log('CPU: this process (all threads), minus the start-up CPU measured below; kinesalite and dynalite excluded');
  const rows = drains.map(({ total, name, system, bare }) => {
    const bareMs = bare.ms;
    const bareUs = ((bare.cpuMs - startup.get('bare')) * 1000) / total;
    const perRecord = (cpu) => ((cpu - startup.get(name).cpuMs) * 1000) / total;
    const systemUs = perRecord(system.cpuMs);
    return [
      fmt(total),
      name,
      fix(bareMs / 1000),
      fix(system.ms / 1000),
      fix(system.lastHandledMs / 1000),
      fix(bareMs / system.ms),
      fix(bareUs, 1),
      fix(systemUs, 1),
      system.cpuRange.map((cpu) => fix(perRecord(cpu), 1)).join(' – '),
      fix(systemUs / bareUs),
    ];
  });
  table(['records', 'system config', 'bare s', 'system s', '(last handled s)', 'rate ratio', 'bare µs/rec', 'system µs/rec', '(its range)', 'CPU ratio'], rows, 2);
  if (floorMs !== undefined) printCeiling(drains, floorMs);
  printSteadyState(drains);
}

/**
 * What a fresh thread costs before any reader in it can call GetRecords (fresh-thread-read.mjs),
 * and the rate ratio that leaves at most: the emulator serves the records in the same time from
 * the first call on, so a drain read from a new thread takes at least the bare loop's time plus
 * the floor minus the bare loop's own wait for its first call.
 */
function printCeiling(drains, floorMs) {
  const sizes = [...new Set(drains.map((d) => d.total))];
  const ceilings = sizes.map((total) => {
    const { ms, firstCallMs } = drains.find((d) => d.total === total).bare;
    return `${fmt(total)}: ${fix(ms / (ms + floorMs - firstCallMs))}`;
  });
  const bareFirst = median(drains.map((d) => d.bare.firstCallMs));
  console.log(`fresh-thread floor: ${fmt(floorMs)} ms from starting a thread that loads only the Kinesis client until its first GetRecords can go out (the bare loop's first goes out after ${fmt(bareFirst)} ms)`);
  console.log(`  so no reader in a thread its system starts drains faster than a rate ratio of ${ceilings.join(', ')} here`);
  console.log('');
}

/**
 * CPU per record between the smallest and the largest drain of each configuration: whatever a
 * drain pays once (start-up, and the warming-up of new threads that the start-up run does not
 * reach) cancels out, what is left is what each further record costs.
 */
function printSteadyState(drains) {
  const rows = [];
  for (const name of new Set(drains.map((d) => d.name))) {
    const sized = drains.filter((d) => d.name === name).sort((a, b) => a.total - b.total);
    if (sized.length < 2) continue;
    const [small, large] = [sized[0], sized[sized.length - 1]];
    const records = large.total - small.total;
    const bareUs = ((large.bare.cpuMs - small.bare.cpuMs) * 1000) / records;
    const systemUs = ((large.system.cpuMs - small.system.cpuMs) * 1000) / records;
    rows.push([`${fmt(small.total)} -> ${fmt(large.total)}`, name, fix(bareUs, 1), fix(systemUs, 1), fix(systemUs / bareUs)]);
  }
  if (rows.length === 0) return;
  console.log('steady state: CPU of each further record, from the difference between the two drain sizes (medians)');
  table(['records', 'system config', 'bare µs/rec', 'system µs/rec', 'CPU ratio'], rows, 2);
}

export function printStartup(configs, startup, shards) {
  console.log(`start-up, ${shards} shards holding 40 records (median of runs): ms from the createSystem call; CPU ms until every shard's first batch`);
  const rows = configs.map(([name]) => {
    const s = startup.get(name);
    return [name, fmt(s.resolvedMs), fmt(s.firstMs), fmt(s.allMs), fmt(s.cpuMs)];
  });
  rows.push(['bare loop (until every first page)', '', '', '', fmt(startup.get('bare'))]);
  table(['system config', 'resolved ms', 'first batch ms', 'every shard ms', 'CPU ms'], rows);
}

export function printIdle({ perShardSecond, bare, shards, seconds }) {
  console.log(`idle: ${shards} empty shards, ${seconds} s window once every shard has started; CPU ms per shard per second`);
  table(
    ['', 'CPU ms / shard / s', 'ratio'],
    [
      ['createSystem (defaults)', fix(perShardSecond, 3), fix(perShardSecond / bare)],
      ['bare loop (GetRecords every 1 s per shard)', fix(bare, 3), '1.00'],
    ],
  );
}
