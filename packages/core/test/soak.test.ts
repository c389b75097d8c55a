import test from 'ava';
import { parseSeed, drawSeed } from './soak/prng.js';
import { runSoak } from './soak/run.js';

/**
 * The seeded chaos soak (issue 10), about 90 s: 3 worker processes, 8 shards, faults drawn from
 * the seed (40 s of faults). The default seed is fixed so CI replays one schedule; SOAK_SEED=<n> replays another,
 * SOAK_SEED=random draws one (printed either way). Longer runs: `pnpm soak --minutes N`.
 */
const DEFAULT_SEED = 20261206;
const seed = process.env.SOAK_SEED === 'random' ? drawSeed() : (parseSeed(process.env.SOAK_SEED) ?? DEFAULT_SEED);

test('chaos soak: every record handled, per-key order, one worker per shard, duplicates explained, no long stall', async (t) => {
  t.timeout(175_000, `chaos soak with seed ${seed} did not finish`);
  t.log(`seed ${seed} (SOAK_SEED=${seed} replays it)`);
  const summary = await runSoak({ seed, chaosMs: 40_000, drainMs: 30_000, stallLimitMs: 45_000, log: (line) => t.log(line) });
  t.log(summary.text);
  for (const v of summary.verdicts) t.true(v.ok, `${v.name} (seed ${seed}): ${v.detail}`);
});
