/**
 * A private Redis server for the tests and the demo (`--store redis`): `redis-server` on an
 * ephemeral loopback port with no persistence and a password (so wrong credentials can be
 * tested), stopped by `stop()` and on process exit. The binary comes from the Debian package
 * `redis-server` (scripts/test-services.mjs installs it where it can); missing, it fails with a
 * message naming the package.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import type { TestFn } from 'ava';
import { freePort } from './free-port.js';
import { withService } from './service.js';

const run = promisify(execFile);

export interface LocalRedis {
  port: number;
  password: string;
  /** redis://:password@127.0.0.1:port (or with the credentials given). */
  url(credentials?: { user?: string; password?: string }): string;
  /** Runs one command with redis-cli (from the same package); resolves to its output. */
  command(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

const MISSING = '`redis-server` not found: install the Debian package `redis-server` (apt-get install -y redis-server), e.g. with `node scripts/test-services.mjs` as root';

function redisBin(): string {
  const bin = process.env.REDIS_SERVER ?? 'redis-server';
  if (spawnSync(bin, ['--version'], { stdio: 'ignore' }).error) throw new Error(MISSING);
  return bin;
}

/** Resolves once the server says it accepts connections; rejects if it exits first. */
function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`)));
  });
}

export async function startLocalRedis(): Promise<LocalRedis> {
  const bin = redisBin();
  const password = `pw-${Math.random().toString(36).slice(2, 10)}`;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', password, '--loglevel', 'notice'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await ready(child);
    } catch (error) {
      // the port was taken between our probe and the server's bind: try another
      if (attempt >= 3) throw error;
      continue;
    }
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    return {
      port,
      password,
      url: (credentials = {}) => `redis://${encodeURIComponent(credentials.user ?? '')}:${encodeURIComponent(credentials.password ?? password)}@127.0.0.1:${port}`,
      async command(...args) {
        const { stdout } = await run(process.env.REDIS_CLI ?? 'redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--no-auth-warning', '-a', password, ...args]);
        return stdout.trim();
      },
      async stop() {
        process.removeListener('exit', kill);
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      },
    };
  }
}

/** A private Redis for one test file. */
export const withRedis = <C>(test: TestFn<C>) => withService(test, 'redis', startLocalRedis);
