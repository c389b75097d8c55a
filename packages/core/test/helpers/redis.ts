/**
 * A private Redis server for one test file: `redis-server` on an ephemeral loopback port with no
 * persistence and a password (so wrong credentials can be tested), torn down in `after.always`
 * and on process exit. The binary comes from the Debian package `redis-server`;
 * scripts/test-services.mjs installs it where it can. Missing, the tests fail with a message
 * naming the package: they are never skipped.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import type { TestFn } from 'ava';

const run = promisify(execFile);

export interface RedisServer {
  port: number;
  password: string;
  /** redis://:password@127.0.0.1:port (or with the credentials given). */
  url(credentials?: { user?: string; password?: string }): string;
  /** Runs one command with redis-cli (from the same package); resolves to its output. */
  command(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

const MISSING = '`redis-server` not found: install the Debian package `redis-server` (apt-get install -y redis-server), e.g. by running `node scripts/test-services.mjs` as root';

function redisBin(): string {
  const bin = process.env.REDIS_SERVER ?? 'redis-server';
  if (spawnSync(bin, ['--version'], { stdio: 'ignore' }).error) throw new Error(MISSING);
  return bin;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
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

export async function startRedis(): Promise<RedisServer> {
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

/** One server for the test file: started before its tests, always stopped after them. */
export function withRedis(test: TestFn): () => RedisServer {
  let server: RedisServer | undefined;
  test.before(async () => {
    server = await startRedis();
  });
  test.after.always(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('withRedis: the server is started in test.before');
    return server;
  };
}
