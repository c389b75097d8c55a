/**
 * The npm emulators that run as a plain server (kinesalite, dynalite), each in a child process of
 * its own (emulator-server.ts) on an ephemeral loopback port: both are single-threaded, and
 * DynamoDB checkpoint writes must not queue behind Kinesis reads; and their CPU is then not the
 * caller's (the benchmarks measure the process's own).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { endChild, readyOf } from './child.js';
import { onlyOnce, type Service } from './service.js';

export type EmulatorName = 'kinesalite' | 'dynalite';

export interface LocalEndpoint extends Service {
  /** http://127.0.0.1:PORT */
  endpoint: string;
}

/** Starts `name` with the given settings (see emulator-server.ts); resolves once it listens. */
export async function startEmulator(name: EmulatorName, settings: Record<string, number> = {}): Promise<LocalEndpoint> {
  const script = fileURLToPath(import.meta.url).replace(/emulator\.(ts|js)$/, 'emulator-server.$1');
  const child = fork(script, [name], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, EMULATOR_SETTINGS: JSON.stringify(settings) } });
  const { port } = await readyOf<{ port: number }>(child, { what: `local ${name}`, isReady: (m) => typeof m?.port === 'number' });
  return { endpoint: `http://127.0.0.1:${port}`, stop: onlyOnce(() => endChild(child)) };
}
