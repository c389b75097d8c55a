/**
 * Error codes, pure: ErrorCodes and the one table in docs/errors.md list the same codes, and every
 * code is raised somewhere in the packages' source (a code nothing raises is a promise to users that
 * nothing keeps).
 */
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { ErrorCodes } from '../src/errors.js';

const root = new URL('../../../', import.meta.url);
const codes = Object.keys(ErrorCodes).sort();

/** The codes in the first column of docs/errors.md's table, in order, duplicates kept. */
function documentedCodes(): { tables: number; codes: string[] } {
  const lines = readFileSync(new URL('docs/errors.md', root), 'utf8').split('\n');
  return {
    tables: lines.filter((line) => /^\|\s*code\s*\|/.test(line)).length,
    codes: lines.flatMap((line) => /^\|\s*`([A-Z_]+)`\s*\|/.exec(line)?.[1] ?? []),
  };
}

function sourceFiles(dir: URL): URL[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(new URL(`${entry.name}/`, dir)) : entry.name.endsWith('.ts') ? [new URL(entry.name, dir)] : [],
  );
}

test('docs/errors.md has one table, and it lists exactly the codes of ErrorCodes, each once', (t) => {
  const doc = documentedCodes();
  t.is(doc.tables, 1);
  t.deepEqual([...doc.codes].sort(), codes, 'the table and ErrorCodes list the same codes');
  t.is(new Set(doc.codes).size, doc.codes.length, 'no code has two rows');
  for (const [code, description] of Object.entries(ErrorCodes)) t.true(description.length > 0, `${code} has a description`);
});

test('every code in ErrorCodes is raised by some source file', (t) => {
  const errorsFile = new URL('packages/worker/src/errors.ts', root).href;
  const sources = ['worker', 'core']
    .flatMap((name) => sourceFiles(new URL(`packages/${name}/src/`, root)))
    .filter((file) => file.href !== errorsFile)
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
  const unraised = codes.filter((code) => !sources.includes(`'${code}'`));
  t.deepEqual(unraised, []);
});
