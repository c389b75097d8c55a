/**
 * The dashboard in a real headless browser: two workers of one application on one stream (with a
 * split, so the graph has a parent and two children); the page of one of them loads, shows every
 * shard and its owner as the lease store has it, and follows a lease move: the other worker stops
 * gracefully, this one takes its leases, and the page shows the new owner. With
 * KC_UPDATE_SCREENSHOT=1 it saves the page as docs/dashboard.png (the README's picture); otherwise a
 * test run leaves the checkout as it was.
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import type { DashboardState } from '@kinesis-client/core';
import { holderOf } from '@kinesis-client/worker/lease';
import { CountingProducer, createStream, putRecords, splitShard, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { launchChromium } from './helpers/browser.js';
import { jsonRecords, startRecordingSystem } from './helpers/recording.js';

const aws = withLocalAws(test);
const SCREENSHOT = process.env.KC_UPDATE_SCREENSHOT === '1' ? fileURLToPath(new URL('../../../docs/dashboard.png', import.meta.url)) : undefined;

const ownersOnPage = (page: import('playwright-core').Page) =>
  page.$$eval('#streams tbody tr', (rows) => Object.fromEntries(rows.map((r) => [r.getAttribute('data-shard'), r.querySelector('td.owner')!.getAttribute('data-owner')])));

test.serial('the dashboard shows every shard and owner, and follows a lease move', async (t) => {
  const stream = uniqueName('stream');
  const app = uniqueName('app');
  await createStream(aws.kinesis, stream, 3);
  await putRecords(aws.kinesis, stream, jsonRecords(300));
  await splitShard(aws.kinesis, stream, 'shardId-000000000000');
  const options = { lease: { failoverMs: 3_000 }, shardHosts: { threads: 1 }, processors: { concurrency: 1 } };
  const a = await startRecordingSystem(t, aws, { stream, app }, { ...options, workerId: 'worker-a' });
  const b = await startRecordingSystem(t, aws, { stream, app }, { ...options, workerId: 'worker-b', http: { port: 0 } });
  const producer = new CountingProducer(aws.kinesis, stream, { perTick: 20, tickMs: 100 });
  producer.start();
  t.teardown(() => producer.stop());

  const browser = await launchChromium(t);
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && pageErrors.push(message.text()));
  await page.goto(b.system.http!.url);
  await page.waitForSelector('#streams tbody tr');

  const state = (await (await fetch(`${b.system.http!.url}state`)).json()) as DashboardState;
  t.is(state.shards.length, 5, 'three shards, one split into two');
  t.deepEqual(state.shards.find((s) => s.shardId === 'shardId-000000000000')!.childShardIds, ['shardId-000000000003', 'shardId-000000000004']);
  await page.waitForFunction((n) => document.querySelectorAll('#streams tbody tr').length === n, state.shards.length);
  const ids = await page.$$eval('#streams tbody tr', (rows) => rows.map((r) => r.getAttribute('data-shard')));
  t.deepEqual(ids.sort(), state.shards.map((s) => s.shardId).sort(), 'every shard has a row');

  // both workers hold open shards once a take cycle or two has balanced them; the page shows both
  await page.waitForFunction(
    () => {
      const owners = [...document.querySelectorAll('#streams tbody tr:not(.closed) td.owner')].map((td) => td.getAttribute('data-owner'));
      return owners.length === 4 && owners.includes('worker-a') && owners.includes('worker-b');
    },
    undefined,
    { timeout: 30_000 },
  );
  // the page shows who processes each shard: during a handoff still the old owner (holderOf). Balancing
  // may move a lease between the store read and the page read, so they are compared until they agree
  const storedHolders = async () => new Map((await aws.leaseTable(app).scan()).map((l) => [l.leaseKey, holderOf(l) ?? '']));
  let stored = await storedHolders();
  let shown = await ownersOnPage(page);
  const disagreeing = () => Object.entries(shown).filter(([shardId, owner]) => stored.has(shardId) && stored.get(shardId) !== owner);
  for (const until = Date.now() + 10_000; disagreeing().length > 0 && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 250));
    [stored, shown] = [await storedHolders(), await ownersOnPage(page)];
  }
  t.deepEqual(disagreeing(), [], 'the page shows the stored owner of every shard');
  t.true(await page.isVisible('#tree [data-node="coordinator"]'), 'the supervision tree');
  t.true(await page.isVisible('#workers [data-worker="worker-a"]'), 'the other worker, from the store');

  // a restart shows in the supervision tree with its count
  // a shard worker-b runs at the moment of the crash (balancing may still be moving one away)
  let mine: string | undefined;
  for (const until = Date.now() + 10_000; mine === undefined && Date.now() < until; ) {
    for (const { shardId } of await b.system.status()) if (mine === undefined && (await b.system.faults.crashActor(shardId, 'reader'))) mine = shardId;
    if (mine === undefined) await new Promise((r) => setTimeout(r, 250));
  }
  t.truthy(mine, "a reader of worker-b's crashed");
  await page.waitForSelector(`#tree [data-node="${stream}/${mine}/reader"] .restarts`, { timeout: 15_000 });
  t.regex((await page.textContent(`#tree [data-node="${stream}/${mine}/reader"] .restarts`))!, /1 restart\b/);
  await page.waitForFunction(() => [...document.querySelectorAll('#streams tbody td.num')].some((td) => Number(td.textContent!.replace(/,/g, '')) > 0), undefined, { timeout: 15_000 });
  if (SCREENSHOT) {
    await new Promise((r) => setTimeout(r, 6_000)); // a few seconds of records/s for the screenshot's charts
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  }

  // worker-a stops gracefully: worker-b takes its leases and the page shows it
  const acquired: number[] = [];
  b.system.events.on('lease:acquired', () => acquired.push(Date.now()));
  await a.system.stop();
  await page.waitForFunction(
    () => {
      const owners = [...document.querySelectorAll('#streams tbody tr:not(.closed) td.owner')].map((td) => td.getAttribute('data-owner'));
      return owners.length === 4 && owners.every((o) => o === 'worker-b');
    },
    undefined,
    { timeout: 30_000 },
  );
  t.log(`page showed the last move ${Date.now() - Math.max(...acquired)} ms after worker-b's last lease:acquired`);
  await page.waitForSelector('#workers [data-worker="worker-a"]', { state: 'detached' });
  t.deepEqual(pageErrors, [], 'no script error, nothing refused by the content security policy');
});
