/**
 * The packages as a user gets them (run by .ci/run with `node --test`): `pnpm pack` makes the
 * tarballs `pnpm publish` would upload (workspace versions filled in), `npm publish --dry-run`
 * must accept each without a warning, and npm installs them into an empty application in a
 * temporary directory, outside the workspace, with the install command of the core package's
 * README. That application then runs the README's own example files (taken from the README here,
 * so the two cannot drift) against a local Kinesis and DynamoDB from the testing module: the
 * producer writes ten records, the app prints each from its pool threads, and after Ctrl-C
 * (SIGINT) it stops and exits by itself. Also: every `exports` entry loads, the types check with
 * TypeScript as a user's project would, and the `kinesis-client` command runs. A broken exports
 * map or a file missing from a tarball fails here, not for a user.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { startLocalAws, uniqueName } from '@kinesis-client/examples/testing';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = { '@kinesis-client/core': 'packages/core', '@kinesis-client/worker': 'packages/worker' };
const work = mkdtempSync(join(tmpdir(), 'kc-packed-'));
const packs = join(work, 'packs');
const app = join(work, 'app');
const tarballs = {};
let aws;

/** The files of a README marked `<!-- example: NAME -->` before their code block, by name. */
function examples(readme) {
  const found = {};
  for (const [, name, code] of readFileSync(join(root, readme), 'utf8').matchAll(/<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)```/g)) found[name] = code;
  return found;
}

before(async () => {
  await run('npx', ['-y', 'pnpm@12.4.2', 'pack', '--pack-destination', packs, ...Object.keys(PACKAGES).flatMap((name) => ['--filter', name])], { cwd: root });
  for (const file of readdirSync(packs)) {
    const name = Object.keys(PACKAGES).find((n) => file === `${n.slice(1).replace('/', '-')}-${JSON.parse(readFileSync(join(root, PACKAGES[n], 'package.json'), 'utf8')).version}.tgz`);
    if (name) tarballs[name] = join(packs, file);
  }
  assert.deepEqual(Object.keys(tarballs).sort(), Object.keys(PACKAGES).sort(), 'a tarball per published package');
  // the README's install command, the packages taken from the tarballs instead of the registry
  const install = /^npm install (.+)$/m.exec(readFileSync(join(root, 'packages/core/README.md'), 'utf8'))?.[1].split(/\s+/);
  assert.ok(install, 'the core README has an npm install command');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'packed-app', private: true }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...install.map((name) => tarballs[name] ?? name)], { cwd: app });
  for (const [name, code] of Object.entries(examples('packages/core/README.md'))) writeFileSync(join(app, name), code);
  aws = await startLocalAws();
});

after(async () => {
  await aws?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('npm publish --dry-run accepts each tarball without a warning', async () => {
  for (const tarball of Object.values(tarballs)) {
    const { stderr } = await run('npm', ['publish', '--dry-run', '--ignore-scripts', tarball], { cwd: work });
    // a dry run outside a login says so; anything else npm warns about is a defect of the package
    const warnings = stderr.split('\n').filter((line) => /\bwarn\b/i.test(line) && !/requires you to be logged in/.test(line));
    assert.deepEqual(warnings, [], tarball);
  }
});

test("the worker README's consumer is the core README's", () => {
  assert.equal(examples('packages/worker/README.md')['consumer.mjs'], examples('packages/core/README.md')['consumer.mjs']);
});

test("every entry of each package's exports map loads from the installed tarball, and the command runs", async () => {
  for (const name of Object.keys(PACKAGES)) {
    const { exports } = JSON.parse(readFileSync(join(app, 'node_modules', name, 'package.json'), 'utf8'));
    for (const subpath of Object.keys(exports).filter((s) => !/entry$/.test(s))) {
      const specifier = subpath === '.' ? name : `${name}${subpath.slice(1)}`;
      await run(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(specifier)})`], { cwd: app });
    }
  }
  const { stdout } = await run(join(app, 'node_modules', '.bin', 'kinesis-client'), ['--help'], { cwd: app });
  assert.match(stdout, /status/);
});

test('the types check as in a user project (TypeScript, NodeNext, strict)', async () => {
  writeFileSync(
    join(app, 'check.ts'),
    [
      "import { createSystem, KinesisClientError, type System, type SystemOptions } from '@kinesis-client/core';",
      "import { defineConsumer, type Message } from '@kinesis-client/worker/consumer';",
      "import { aggregate } from '@kinesis-client/worker';",
      'const consumer = defineConsumer({ async handleBatch(messages: Message[]) { void messages.length; } });',
      "const options: SystemOptions = { streamName: 's', appName: 'a', consumer: new URL('file:///c.mjs') };",
      'export const started: Promise<System> = createSystem(options);',
      'export const all = [consumer, aggregate, KinesisClientError];',
      '',
    ].join('\n'),
  );
  // a user's project has @types/node, as the AWS SDK's types need it: the workspace's serves
  const compilerOptions = { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(root, 'node_modules', '@types')] };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['check.ts'] }));
  await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { cwd: app }).catch((error) => assert.fail(`${error.stdout}${error.stderr}`));
});

test('the README example consumes a local stream and, on SIGINT, stops and exits by itself', async () => {
  const env = {
    ...process.env,
    STREAM_NAME: uniqueName('packed'),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_KINESIS: aws.kinesisEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB: aws.dynamodbEndpoint,
  };
  const produced = await run(process.execPath, ['produce.mjs'], { cwd: app, env, timeout: 120_000 });
  assert.match(produced.stdout, /wrote 10 records/);

  const child = spawn(process.execPath, ['app.mjs'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const handled = () => new Set([...stdout.matchAll(/shardId-\d+ (order-\d+) \{"order":\d+\}/g)].map((m) => m[1]));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not every record printed within 60 s:\n${stdout}\n${stderr}`)), 60_000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (handled().size === 10) resolve(clearTimeout(timer));
    });
    void exited.then(() => reject(new Error(`the app exited early:\n${stdout}\n${stderr}`)));
  });
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  const { code, signal } = await exited;
  clearTimeout(timer);
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, `exits by itself after stop():\n${stdout}\n${stderr}`);
  assert.match(stdout, /stopped, 0 batches abandoned/);
  assert.equal(handled().size, 10);
});
