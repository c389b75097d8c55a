/**
 * Child process that serves one npm emulator, as argv[2] names it (see emulator.ts), on an
 * ephemeral loopback port, with the settings in EMULATOR_SETTINGS (JSON). It reports the port
 * over IPC and exits when its parent goes away, so a killed test run never leaves servers behind.
 * Run by hand (`node emulator-server.js kinesalite`), it prints its address instead.
 */
import { createRequire } from 'node:module';
import type { AddressInfo, Server } from 'node:net';

const require = createRequire(import.meta.url);
const settings = JSON.parse(process.env.EMULATOR_SETTINGS ?? '{}') as { shardLimit?: number };

/** Every delay the emulators simulate is off: a test waits for what it tests, not for them. */
const emulators: Record<string, () => Server> = {
  kinesalite: () =>
    (require('kinesalite') as (options: object) => Server)({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: settings.shardLimit ?? 200 }),
  dynalite: () => (require('dynalite') as (options: object) => Server)({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }),
};

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

const name = process.argv[2] ?? '';
const create = emulators[name];
if (!create) throw new Error(`usage: emulator-server ${Object.keys(emulators).join('|')} (got ${name})`);
const port = await listen(create());

if (process.send) {
  process.send({ port });
  process.on('disconnect', () => process.exit(0));
} else {
  console.log(`${name} http://127.0.0.1:${port}`);
}
process.on('SIGTERM', () => process.exit(0));
// a Ctrl-C reaches the whole process group: under a parent, it stops us (SIGTERM or disconnect)
// once it has stopped its workers, which still need us to checkpoint and release their leases
process.on('SIGINT', () => (process.send ? undefined : process.exit(0)));
