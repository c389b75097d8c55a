/**
 * A private PostgreSQL server for the tests and the demo (`--store postgres`): `initdb` in a
 * temporary directory, `postgres` on an ephemeral loopback port, password authentication over TCP
 * (so wrong credentials can be tested), stopped by `stop()` and on process exit. The binaries come
 * from the Debian package `postgresql` (scripts/test-services.mjs installs it where it can);
 * missing, it fails with a message naming the package.
 *
 * PostgreSQL refuses to run as root: as root, it runs as the `postgres` user the package creates.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestFn } from 'ava';
import { freePort } from './free-port.js';
import { withService } from './service.js';

const run = promisify(execFile);

export interface LocalPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** postgres://user:password@127.0.0.1:port/database (default database `postgres`). */
  url(database?: string, credentials?: { user?: string; password?: string }): string;
  /** Runs SQL as the superuser with psql; resolves to its output. */
  sql(text: string, database?: string): Promise<string>;
  stop(): Promise<void>;
}

const MISSING = 'PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package `postgresql` (apt-get install -y postgresql), e.g. with `node scripts/test-services.mjs` as root';

/** The newest installed server's bin directory, or PG_BIN. */
export function postgresBin(): string {
  const candidates = [process.env.PG_BIN, ...(existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)).map((v) => `/usr/lib/postgresql/${v}/bin`) : [])];
  const bin = candidates.find((dir) => dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  if (!bin) throw new Error(MISSING);
  return bin;
}

/** As root, commands run as `postgres` through runuser; otherwise as this user. */
async function asServerUser(): Promise<{ prefix: string[]; uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return { prefix: [] };
  try {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    return { prefix: ['runuser', '-u', 'postgres', '--'], uid, gid };
  } catch {
    throw new Error('running as root, PostgreSQL needs the `postgres` user that the Debian package `postgresql` creates: apt-get install -y postgresql');
  }
}

export async function startLocalPostgres(): Promise<LocalPostgres> {
  const bin = postgresBin();
  const as = await asServerUser();
  const dir = await mkdtemp(join(tmpdir(), 'kc-postgres-'));
  const data = join(dir, 'data');
  const user = 'kc';
  const password = `pw-${Math.random().toString(36).slice(2, 10)}`;
  const argv = (file: string, args: string[]) => [...as.prefix, join(bin, file), ...args] as [string, ...string[]];
  const exec = (file: string, args: string[]) => {
    const [cmd, ...rest] = argv(file, args);
    return run(cmd, rest, { cwd: dir });
  };
  if (as.uid !== undefined) await chown(dir, as.uid, as.gid!);
  await chmod(dir, 0o700);
  const pwfile = join(dir, 'pw');
  await writeFile(pwfile, `${password}\n`);
  if (as.uid !== undefined) await chown(pwfile, as.uid, as.gid!);
  await exec('initdb', ['-D', data, '-U', user, `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '-N']);
  let port = 0;
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    try {
      const [cmd, ...rest] = argv('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      execFileSync(cmd, rest, { stdio: 'ignore' });
    } catch {
      // not running
    }
  };
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const options = `-p ${port} -h 127.0.0.1 -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
    try {
      await exec('pg_ctl', ['-D', data, '-o', options, '-w', '-t', '60', '-l', join(dir, 'log'), 'start']);
      break;
    } catch (error) {
      // the port was taken between our probe and the server's bind: try another
      if (attempt >= 3) {
        await rm(dir, { recursive: true, force: true });
        throw new Error(`PostgreSQL did not start: ${(error as Error).message}`);
      }
    }
  }
  process.once('exit', stopSync);
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    url: (database = 'postgres', credentials = {}) =>
      `postgres://${encodeURIComponent(credentials.user ?? user)}:${encodeURIComponent(credentials.password ?? password)}@127.0.0.1:${port}/${database}`,
    async sql(text, database = 'postgres') {
      const { stdout } = await run(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', database, '-v', 'ON_ERROR_STOP=1', '-Atc', text], {
        env: { ...process.env, PGPASSWORD: password },
      });
      return stdout;
    },
    async stop() {
      if (stopped) return;
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
      stopped = true;
      process.removeListener('exit', stopSync);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A private PostgreSQL for one test file. */
export const withPostgres = <C>(test: TestFn<C>) => withService(test, 'postgres', startLocalPostgres);
