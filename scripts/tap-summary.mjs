#!/usr/bin/env node
/**
 * Counts TAP test points: `countTap()` for a runner that reads several TAP streams (scripts/ci.mjs),
 * and, run as a filter, reads one TAP stream on stdin, passes it through and ends with the one
 * plain line CI reads: "N passed, N failed, N skipped", counted from the test points themselves.
 * Exits non-zero when any test failed, none ran, or the runner ended without a plan.
 */
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A fresh tally for `countTap`. */
export const newTally = () => ({ passed: 0, failed: 0, skipped: 0, planned: false });

/** Counts one line of TAP into the tally: top-level test points and the plan. */
export function countTap(line, tally) {
  if (/^1\.\.\d+/.test(line)) tally.planned = true;
  const point = /^(not ok|ok)\b/.exec(line);
  if (!point) return;
  if (/#\s*(SKIP|TODO)\b/i.test(line)) tally.skipped++;
  else if (point[1] === 'ok') tally.passed++;
  else tally.failed++;
}

export const summaryLine = ({ passed, failed, skipped }) => `${passed} passed, ${failed} failed, ${skipped} skipped`;

/** Whether the tally is a clean run: something passed, nothing failed, the runner finished. */
export const clean = (tally) => tally.failed === 0 && tally.passed > 0 && tally.planned;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tally = newTally();
  for await (const line of createInterface({ input: process.stdin })) {
    process.stdout.write(`${line}\n`);
    countTap(line, tally);
  }
  console.log(summaryLine(tally));
  process.exit(clean(tally) ? 0 : 1);
}
