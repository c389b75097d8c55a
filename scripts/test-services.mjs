#!/usr/bin/env node
/**
 * The servers the lease-store tests start (PostgreSQL and Redis) and the browser the dashboard
 * test drives (Chromium, through playwright-core) come from the operating system's packages. Run
 * before the tests (`pnpm test` and .ci/run do): when one is missing, it installs the Debian
 * packages as root with apt-get; where it cannot, it fails naming the package to install. The
 * tests themselves fail the same way: they are never skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const postgresInstalled = () =>
  !!process.env.PG_BIN || (existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`)));
const redisInstalled = () => !spawnSync(process.env.REDIS_SERVER ?? 'redis-server', ['--version'], { stdio: 'ignore' }).error;
const chromiumInstalled = () => existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium');

const missing = () => [...(postgresInstalled() ? [] : ['postgresql']), ...(redisInstalled() ? [] : ['redis-server']), ...(chromiumInstalled() ? [] : ['chromium'])];

let packages = missing();
if (packages.length === 0) process.exit(0);

const canInstall = process.getuid?.() === 0 && !spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).error;
if (canInstall) {
  console.error(`test-services: installing ${packages.join(' ')} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
  } catch {
    // a machine whose package lists were never fetched
    execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
  }
  packages = missing();
}
if (packages.length > 0) {
  console.error(
    `test-services: the lease-store tests need PostgreSQL and Redis servers and the dashboard test Chromium; missing: ${packages.join(', ')}.\n` +
      `Install the Debian package(s) ${packages.map((p) => `\`${p}\``).join(' and ')} (as root: apt-get install -y ${packages.join(' ')}) and run the tests again.`,
  );
  process.exit(1);
}
