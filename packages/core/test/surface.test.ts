/**
 * The packages' public surface, pure (no services; needs the build): what each index exports at
 * run time, and that every `exports` entry of every package.json points at a built file that the
 * package ships. Adding to a public index is a decision: this test makes it a visible one.
 */
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';

const packages = new URL('../../', import.meta.url);

test('@kinesis-client/core exports createSystem, the errors, the KPL helpers and the loopback proxy, nothing else', async (t) => {
  const names = Object.keys(await import('@kinesis-client/core')).sort();
  t.deepEqual(names, ['ErrorCodes', 'KinesisClientError', 'aggregate', 'createSystem', 'deaggregate', 'isKinesisClientError', 'startLoopbackProxy']);
});

test("@kinesis-client/worker exports a consumer module's API and the KPL helpers, nothing else", async (t) => {
  const names = Object.keys(await import('@kinesis-client/worker')).sort();
  t.deepEqual(names, ['ErrorCodes', 'KinesisClientError', 'aggregate', 'deaggregate', 'defineConsumer', 'isKinesisClientError']);
  const consumer = Object.keys(await import('@kinesis-client/worker/consumer')).sort();
  t.deepEqual(consumer, ['ErrorCodes', 'KinesisClientError', 'defineConsumer', 'isKinesisClientError']);
});

test('the public entries share one error class with the internals', async (t) => {
  const core = await import('@kinesis-client/core');
  const worker = await import('@kinesis-client/worker');
  const consumer = await import('@kinesis-client/worker/consumer');
  const { deserializeError } = await import('@kinesis-client/worker/internal');
  t.is(core.KinesisClientError, worker.KinesisClientError);
  t.is(consumer.KinesisClientError, worker.KinesisClientError);
  t.true(deserializeError({ name: 'KinesisClientError', message: 'm', code: 'BATCH_FAILED' }) instanceof core.KinesisClientError);
});

for (const name of ['worker', 'core', 'examples']) {
  test(`every exports entry of @kinesis-client/${name} is built and shipped`, (t) => {
    const dir = new URL(`${name}/`, packages);
    const manifest = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as {
      exports: Record<string, Record<string, string>>;
      bin?: Record<string, string>;
      files?: string[];
      private?: boolean;
    };
    const shipped = (path: string) => manifest.private || (manifest.files ?? []).some((f) => path.replace(/^\.\//, '').startsWith(`${f.replace(/\/$/, '')}/`));
    for (const [subpath, conditions] of Object.entries(manifest.exports)) {
      t.truthy(conditions.default, `${subpath} has a default`);
      for (const [condition, target] of Object.entries(conditions)) {
        t.true(existsSync(new URL(target, dir)), `${subpath} (${condition}): ${target} exists`);
        t.true(shipped(target), `${subpath} (${condition}): ${target} is in "files"`);
      }
      if (conditions.types) t.is(conditions.types.replace(/\.d\.ts$/, '.js'), conditions.default, `${subpath}: its types sit beside its code`);
    }
    for (const [command, target] of Object.entries(manifest.bin ?? {})) {
      t.true(existsSync(new URL(target, dir)), `bin ${command}: ${target} exists`);
      t.true(shipped(target), `bin ${command}: ${target} is in "files"`);
      t.true(readFileSync(new URL(target, dir), 'utf8').startsWith('#!/usr/bin/env node\n'), `bin ${command}: ${target} starts with a shebang`);
    }
  });
}
