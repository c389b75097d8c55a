#!/usr/bin/env node
/**
 * Reads ava's TAP output on stdin, passes it through, and ends with the one plain line CI reads:
 * "N passed, N failed, N skipped", counted from the TAP test points themselves.
 * Exits non-zero when any test failed, none ran, or the runner ended without a plan.
 */
import { createInterface } from 'node:readline';

let passed = 0;
let failed = 0;
let skipped = 0;
let planned = false;
for await (const line of createInterface({ input: process.stdin })) {
  process.stdout.write(`${line}\n`);
  const point = /^(not ok|ok)\b.*?(#\s*(SKIP|TODO)\b)?/i.exec(line);
  if (/^1\.\.\d+/.test(line)) planned = true;
  if (!point) continue;
  if (point[3]) skipped++;
  else if (point[1] === 'ok') passed++;
  else failed++;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 || !planned ? 1 : 0);
