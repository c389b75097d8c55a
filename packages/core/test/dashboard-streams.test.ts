/**
 * The dashboard of a multi-stream application in a real headless browser: one section per
 * stream with its shards, owners, checkpoints and records/s (the same shard id in two streams
 * kept apart), leases per worker counted over all streams, a stream only the lease store names
 * said so. The first test drives the page from a lease table written as a Java multi-stream
 * application writes it (no engine needed); the second runs two workers of a system with
 * `streams: [...]` and compares the page with the store.
 */
import test from 'ava';
import { createSystem, type DashboardState } from '@kinesis-client/core';
import { holderOf, leaseAddress } from '@kinesis-client/worker/lease';
import { CountingProducer, createStream, putRecords, uniqueName, withLocalAws } from '@kinesis-client/examples/testing';
import { createEmitter } from '../src/events.js';
import { startHttpServer } from '../src/http/server.js';
import { StateSource } from '../src/http/state-source.js';
import { Monitor } from '../src/monitor.js';
import { launchChromium } from './helpers/browser.js';
import { multiStreamApplication, multiStreamLease } from './helpers/java-kcl.js';
import { Deliveries, fixture, jsonRecords } from './helpers/recording.js';

const aws = withLocalAws(test);
const S0 = 'shardId-000000000000';
const S1 = 'shardId-000000000001';

type Page = import('playwright-core').Page;

/** Per stream section: shard id -> owner shown. */
const ownersOnPage = (page: Page) =>
  page.$$eval('#streams section[data-stream]', (sections) =>
    Object.fromEntries(
      sections.map((s) => [
        s.getAttribute('data-stream'),
        Object.fromEntries([...s.querySelectorAll('tbody tr')].map((r) => [r.getAttribute('data-shard'), r.querySelector('td.owner')!.getAttribute('data-owner')])),
      ]),
    ),
  );

async function openPage(t: import('ava').ExecutionContext, url: string): Promise<{ page: Page; errors: string[] }> {
  const browser = await launchChromium(t);
  const page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  await page.goto(url);
  return { page, errors };
}

test.serial('a multi-stream lease table: a section per stream, the same shard id apart, workers over all streams, a stream only the store names', async (t) => {
  const { orders, payments, gone, app, java } = await multiStreamApplication(aws, 'dash');
  const table = aws.leaseTable(app);
  await java.put(multiStreamLease(orders, S0, 'java-w1', '111'));
  await java.put(multiStreamLease(orders, S1, 'me', '112'));
  await java.put(multiStreamLease(payments, S0, 'me', '221'));
  await java.put(multiStreamLease(payments, S1, undefined));
  await java.put(multiStreamLease(gone, S0, 'java-w1'));

  // the observability parts of a system of two streams, fed with events as the engine emits them
  const { events, open } = createEmitter();
  open();
  const monitor = new Monitor({ events, stallMs: 60_000, threads: 1, hosts: () => undefined, defaultStream: undefined });
  const tree = { id: 'root', kind: 'supervisor' as const, incarnation: 1, state: 'running' as const, restarts: 0, threadId: 0 };
  const source = new StateSource({ workerId: 'me', appName: app, streams: () => [orders, payments], kinesis: aws.kinesis, leases: table, inspect: async () => ({ workerId: 'me', tree, shards: [] }), monitor });
  const server = await startHttpServer({ port: 0, host: '127.0.0.1' }, { health: () => monitor.health(), state: () => source.read(), observer: monitor.observer, refreshMs: 500 });
  t.teardown(() => server.close());
  const handled = setInterval(() => events.emit('batch:handled', { shardId: S0, count: 50, attempt: 1, durationMs: 2, streamName: payments } as never), 100);
  t.teardown(() => clearInterval(handled));

  const { page, errors } = await openPage(t, server.url);
  await page.waitForFunction(() => document.querySelectorAll('#streams section[data-stream]').length === 3);
  t.deepEqual(await ownersOnPage(page), {
    [orders]: { [S0]: 'java-w1', [S1]: 'me' },
    [payments]: { [S0]: 'me', [S1]: '' },
    [gone]: { [S0]: 'java-w1' },
  }, 'each lease under its stream, by shard id');
  t.deepEqual(await page.$$eval('#streams section[data-stream]', (s) => s.map((x) => x.getAttribute('data-stream'))), [orders, payments, gone], 'the system’s streams in order, then the one only the store names');
  t.regex((await page.textContent(`#streams section[data-stream="${gone}"] h2`))!, /not in Kinesis.*not consumed by this application/);
  t.regex((await page.textContent('#title'))!, new RegExp(`streams ${orders}, ${payments}`));
  t.is(await page.textContent(`#streams section[data-stream="${orders}"] tr[data-shard="${S0}"] td.checkpoint`), '111');
  t.is(await page.textContent(`#streams section[data-stream="${payments}"] tr[data-shard="${S0}"] td.checkpoint`), '221');
  // records/s of the payments shard only, not of the orders shard of the same id
  const rate = (stream: string) => page.textContent(`#streams section[data-stream="${stream}"] tr[data-shard="${S0}"] td.num:nth-of-type(7)`);
  await page.waitForFunction((stream) => Number(document.querySelector(`#streams section[data-stream="${stream}"] tr[data-shard="shardId-000000000000"] td.num:nth-of-type(7)`)?.textContent?.replace(/,/g, '')) > 0, payments, { timeout: 15_000 });
  t.is(await rate(orders), '0');
  // leases per worker over all streams: me 2 (one of each stream), java-w1 2 (orders and the stream only the store names)
  const bars = await page.$$eval('#workers .bar[data-worker]', (rows) => rows.map((r) => [r.getAttribute('data-worker'), r.querySelector('.count')!.textContent]));
  t.deepEqual(bars, [['java-w1', '2'], ['me', '2']]);
  const state = (await (await fetch(`${server.url}state`)).json()) as DashboardState;
  t.deepEqual(state.streams.map((s) => [s.streamName, s.configured, s.inKinesis, s.leases, s.freeLeases]), [
    [orders, true, true, 2, 0],
    [payments, true, true, 2, 1],
    [gone, false, false, 1, 0],
  ]);
  t.deepEqual(errors, [], 'no script error, nothing refused by the content security policy');
});

test.serial('a system of two streams (streams option), two workers: the page shows each stream’s shards with the stored owners, leases per worker over both (needs the streams engine)', async (t) => {
  const orders = uniqueName('dash-orders');
  const payments = uniqueName('dash-payments');
  const app = uniqueName('dash-app');
  await createStream(aws.kinesis, orders, 2);
  await createStream(aws.kinesis, payments, 3);
  await putRecords(aws.kinesis, orders, jsonRecords(100));
  await putRecords(aws.kinesis, payments, jsonRecords(100));
  const deliveries = new Deliveries();
  t.teardown(() => deliveries.close());
  const start = async (workerId: string, http: boolean) => {
    const system = await createSystem({
      streams: [{ streamName: orders }, { streamName: payments }],
      appName: app,
      consumer: fixture('recording-consumer.mjs', { channel: deliveries.channelName }),
      ...aws.clientOptions,
      workerId,
      lease: { failoverMs: 3_000 },
      shardHosts: { threads: 1 },
      processors: { concurrency: 1 },
      ...(http ? { http: { port: 0 } } : {}),
    } as never);
    t.teardown(() => system.stop());
    return system;
  };
  await start('worker-a', false);
  const b = await start('worker-b', true);
  const producers = [orders, payments].map((s) => new CountingProducer(aws.kinesis, s, { perTick: 10, tickMs: 100 }));
  for (const p of producers) p.start();
  t.teardown(() => producers.forEach((p) => p.stop()));

  const { page, errors } = await openPage(t, b.http!.url);
  await page.waitForFunction(() => document.querySelectorAll('#streams section[data-stream]').length === 2, undefined, { timeout: 30_000 });
  // both workers hold leases once balanced over all five; the page agrees with the store, stream by stream
  const stored = async () => {
    const out: Record<string, Record<string, string>> = { [orders]: {}, [payments]: {} };
    for (const l of await aws.leaseTable(app).scan()) {
      const { streamName, shardId } = leaseAddress(l, orders);
      (out[streamName] ??= {})[shardId] = holderOf(l) ?? '';
    }
    return out;
  };
  let want = await stored();
  let shown = await ownersOnPage(page);
  const owners = (o: Record<string, Record<string, string>>) => new Set(Object.values(o).flatMap((s) => Object.values(s)));
  for (const until = Date.now() + 45_000; (JSON.stringify(want) !== JSON.stringify(shown) || !owners(want).has('worker-a') || !owners(want).has('worker-b')) && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 250));
    [want, shown] = [await stored(), await ownersOnPage(page)];
  }
  t.deepEqual(shown, want, 'every shard of each stream with its stored owner');
  t.deepEqual(Object.keys(shown[orders]!).sort(), [S0, S1]);
  t.is(Object.keys(shown[payments]!).length, 3);
  const bars = Object.fromEntries(await page.$$eval('#workers .bar[data-worker]', (rows) => rows.map((r) => [r.getAttribute('data-worker'), Number(r.querySelector('.count')!.textContent)])));
  t.is((bars['worker-a'] ?? 0) + (bars['worker-b'] ?? 0), 5, 'leases per worker counted over both streams');
  // records/s shows in each stream's section where worker-b (the page's worker) holds a shard
  const mine = Object.entries(shown).filter(([, shards]) => Object.values(shards).includes('worker-b')).map(([stream]) => stream);
  t.true(mine.length > 0);
  await page.waitForFunction(
    (streams) => streams.every((stream) => [...document.querySelectorAll(`#streams section[data-stream="${stream}"] tbody td.num`)].some((td) => Number(td.textContent!.replace(/,/g, '')) > 0)),
    mine,
    { timeout: 20_000 },
  );
  t.deepEqual(errors, [], 'no script error, nothing refused by the content security policy');
});
