/**
 * `pnpm soak --minutes N [--seed S]`: the chaos soak for longer than CI runs it, printing its
 * summary; exits 1 when a verdict fails. The seed defaults to SOAK_SEED, else a fresh one (printed).
 */
import { parseArgs } from 'node:util';
import { drawSeed, parseSeed } from './prng.js';
import { runSoak } from './run.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '5' }, seed: { type: 'string' } }, allowPositionals: true });
const minutes = Number(values.minutes);
if (!(minutes > 0)) throw new Error(`--minutes must be a positive number (got ${values.minutes})`);
const seed = parseSeed(values.seed) ?? parseSeed(process.env.SOAK_SEED) ?? drawSeed();
console.log(`chaos soak: seed ${seed}, ${minutes} min of faults`);
const summary = await runSoak({
  seed,
  chaosMs: Math.round(minutes * 60_000),
  drainMs: 120_000,
  stallLimitMs: 60_000,
  log: (line) => console.log(line),
}).catch((error: unknown) => {
  console.error(`chaos soak with seed ${seed} crashed:`, error);
  process.exit(1);
});
console.log(summary.text);
process.exitCode = summary.ok ? 0 : 1;
