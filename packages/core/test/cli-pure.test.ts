/**
 * The CLI's decisions, pure: what `reset --to` becomes, and how `status` judges shards and owners
 * from what it read (the lease expiry rule of the takers, with time passed in).
 */
import test from 'ava';
import type { Shard } from '@aws-sdk/client-kinesis';
import type { LeaseSnapshot } from '@kinesis-client/worker/lease';
import { lease } from './helpers/leases.js';
import { LeaseExpiry } from '../src/lease-taker.js';
import { lagStart } from '../src/cli/lag.js';
import { statusReport, type StatusInput } from '../src/cli/status.js';
import { findLease } from '../src/cli/find.js';
import { renderStatus } from '../src/cli/render.js';
import { parseTarget } from '../src/cli/target.js';

test('parseTarget: sentinels (any case), sequence numbers, ISO times as AT_TIMESTAMP; anything else or a future time is a usage error', (t) => {
  const now = Date.parse('2026-12-06T12:00:00Z');
  t.deepEqual(parseTarget('trim_horizon', now), { checkpoint: 'TRIM_HORIZON' });
  t.deepEqual(parseTarget('LATEST', now), { checkpoint: 'LATEST' });
  t.deepEqual(parseTarget('49680894100275555213536933098546368190726096984670732290', now), { checkpoint: '49680894100275555213536933098546368190726096984670732290' });
  t.deepEqual(parseTarget('2026-12-06T08:00:00Z', now), { checkpoint: 'AT_TIMESTAMP', timestamp: Date.parse('2026-12-06T08:00:00Z') });
  t.deepEqual(parseTarget('2026-12-06', now), { checkpoint: 'AT_TIMESTAMP', timestamp: Date.parse('2026-12-06') });
  for (const bad of ['yesterday', '-5', '12ab', '2026-13-45T00:00:00Z', '2027-01-01T00:00:00Z', 'SHARD_END']) {
    t.throws(() => parseTarget(bad, now), { code: 'INVALID_ARGUMENT' } as never, bad);
  }
});

const shard = (id: string, extra: Partial<Shard> = {}): Shard => ({
  ShardId: id,
  HashKeyRange: { StartingHashKey: '0', EndingHashKey: '1' },
  SequenceNumberRange: { StartingSequenceNumber: '1' },
  ...extra,
});

test('statusReport: shard states, owner renewal by the takers’ expiry rule, workers and the summary', (t) => {
  const failoverMs = 10_000;
  const first = [
    lease('s0', { leaseOwner: 'w1', leaseCounter: 5, checkpoint: 'SHARD_END' }),
    lease('s1', { leaseOwner: 'w1', leaseCounter: 7, parentShardIds: ['s0'] }),
    lease('s2', { leaseOwner: 'w2', leaseCounter: 3 }),
    lease('s3', { leaseOwner: 'w3', leaseCounter: 9, parentShardIds: ['s2'] }),
    lease('s4'),
  ];
  const expiry = new LeaseExpiry();
  expiry.observe(first, 0);
  const input = (now: number, leases: LeaseSnapshot[]): StatusInput => {
    expiry.observe(leases, now);
    return {
      application: 'app',
      streams: [
        {
          streamName: 'st',
          shards: [shard('s0', { SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: '9' } }), shard('s1', { ParentShardId: 's0' }), shard('s2'), shard('s3', { ParentShardId: 's2' })],
        },
      ],
      store: 'DynamoDB table "app"',
      leases,
      lags: new Map([['st/s2', { millisBehindLatest: 1_500, oldestUnreadArrival: 1_000 }]]),
      expiry,
      watchedSince: 0,
      now,
      wallNow: 5_000,
      failoverMs,
      renewIntervalMs: 3_333,
    };
  };
  // w1 renewed s1; w2 and w3 did not, for 4 s: stalled
  const early = statusReport(input(4_000, first.map((l) => (l.leaseKey === 's1' ? { ...l, leaseCounter: 8 } : l))));
  t.deepEqual(
    early.shards.map((s) => [s.shardId, s.state, s.renewal]),
    [
      ['s0', 'ended', 'stalled'],
      ['s1', 'open', 'live'],
      ['s2', 'open', 'stalled'],
      ['s3', 'waiting', 'stalled'],
      ['s4', 'unlisted', undefined],
    ],
  );
  t.deepEqual(early.expired, []);
  t.deepEqual(early.shards[2]!.lag, { millisBehindLatest: 1_500, oldestUnreadAgeMs: 4_000 });
  // 10 s without a change: expired; a finished lease counts for no worker and is never expired
  const late = statusReport(input(10_000, first.map((l) => (l.leaseKey === 's1' ? { ...l, leaseCounter: 8 } : l))));
  t.deepEqual(late.expired, ['s2', 's3']);
  t.deepEqual(late.workers, [
    { workerId: 'w1', leases: 1, expired: 0 },
    { workerId: 'w2', leases: 1, expired: 1 },
    { workerId: 'w3', leases: 1, expired: 1 },
  ]);
  t.like(late.summary, { shards: 4, open: 3, closed: 1, leases: 5, held: 3, free: 1, expired: 2, workers: 3, maxMillisBehindLatest: 1_500 });
  // not watched at all: unknown, never "live"
  const fresh = new LeaseExpiry();
  fresh.observe(first, 50);
  t.is(statusReport({ ...input(50, first), expiry: fresh, watchedSince: 50 }).shards[1]!.renewal, 'unknown');
});

test('lagStart: after the checkpoint; a sentinel from its anchor; nothing to read at SHARD_END or at a LATEST never taken', (t) => {
  t.deepEqual(lagStart(lease('s', { checkpoint: '123' })), { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: '123' });
  t.deepEqual(lagStart(lease('s')), { ShardIteratorType: 'TRIM_HORIZON' });
  t.deepEqual(lagStart(lease('s', { checkpoint: 'AT_TIMESTAMP', checkpointTimestamp: 7 })), { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(7) });
  t.is(lagStart(lease('s', { checkpoint: 'LATEST' })), 'not started');
  t.is(lagStart(lease('s', { checkpoint: 'SHARD_END' })), 'at shard end');
});

test('statusReport of a multi-stream table: leases under their streams by their keys (the same shard id in two streams apart), workers over all streams, a stream missing from Kinesis or from the store said so', (t) => {
  const key = (stream: string, shardId: string) => `123456789012:${stream}:1700000000:${shardId}`;
  const leases = [
    lease(key('orders', 'shardId-000000000000'), { leaseOwner: 'w1', leaseCounter: 4, checkpoint: '11' }),
    lease(key('orders', 'shardId-000000000001'), { leaseOwner: 'w2', leaseCounter: 4 }),
    lease(key('payments', 'shardId-000000000000'), { leaseOwner: 'w2', leaseCounter: 4, checkpoint: '22' }),
    lease(key('gone', 'shardId-000000000000'), { leaseOwner: 'w1', leaseCounter: 4 }),
  ];
  const expiry = new LeaseExpiry();
  expiry.observe(leases, 0);
  const report = statusReport({
    application: 'app',
    streams: [
      { streamName: 'orders', shards: [shard('shardId-000000000000'), shard('shardId-000000000001')] },
      { streamName: 'payments', shards: [shard('shardId-000000000000')] },
      { streamName: 'new', shards: [shard('shardId-000000000000')] },
    ],
    store: 'DynamoDB table "app"',
    leases,
    lags: new Map([['payments/shardId-000000000000', { millisBehindLatest: 700 }]]),
    expiry,
    watchedSince: 0,
    now: 10_000,
    wallNow: 10_000,
    failoverMs: 10_000,
    renewIntervalMs: 3_333,
  });
  t.deepEqual(
    report.shards.map((s) => [s.streamName, s.shardId, s.owner, s.checkpoint, s.state]),
    [
      ['orders', 'shardId-000000000000', 'w1', '11', 'open'],
      ['orders', 'shardId-000000000001', 'w2', 'TRIM_HORIZON', 'open'],
      ['payments', 'shardId-000000000000', 'w2', '22', 'open'],
      ['new', 'shardId-000000000000', undefined, undefined, 'open'],
      ['gone', 'shardId-000000000000', 'w1', 'TRIM_HORIZON', 'unlisted'],
    ],
  );
  t.deepEqual(report.shards[2]!.lag, { millisBehindLatest: 700 }, 'the lag of the payments shard, not of the orders shard of the same id');
  t.deepEqual(
    report.streams.map((s) => [s.streamName, s.configured, s.inKinesis, s.summary.shards, s.summary.leases, s.summary.workers]),
    [
      ['orders', true, true, 2, 2, 2],
      ['payments', true, true, 1, 1, 1],
      ['new', true, true, 1, 0, 0],
      ['gone', false, false, 0, 1, 1],
    ],
  );
  t.deepEqual(report.workers, [
    { workerId: 'w1', leases: 2, expired: 2 },
    { workerId: 'w2', leases: 2, expired: 2 },
  ], 'leases of every stream count toward a worker');
  t.deepEqual(report.expired, ['orders/shardId-000000000000', 'orders/shardId-000000000001', 'payments/shardId-000000000000', 'gone/shardId-000000000000']);
  t.like(report.summary, { shards: 4, leases: 4, held: 4, workers: 2 });
  const text = renderStatus(report);
  t.regex(text, /^application app {3}streams 4 \(orders, payments, new, gone\)/);
  t.regex(text, /^stream new {3}shards 1 .*no lease in the store yet/m);
  t.regex(text, /^stream gone {3}shards 0 .*NOT IN KINESIS.*not given/m);
  t.regex(text, /^stream payments .*\nSHARD .*\nshardId-000000000000\s+open\s+-\s+w2\s/m);
});

test('findLease: by address, never by key; a shard id in two streams needs --stream (a usage error), a shard of no stream given is named', (t) => {
  const key = (stream: string, shardId: string) => `123456789012:${stream}:1700000000:${shardId}`;
  const leases = [lease(key('orders', 'shardId-000000000000')), lease(key('payments', 'shardId-000000000000')), lease(key('payments', 'shardId-000000000001'))];
  t.is(findLease(leases, ['payments'], 'shardId-000000000000', 'app').lease.leaseKey, key('payments', 'shardId-000000000000'));
  t.deepEqual(findLease(leases, ['orders', 'payments'], 'shardId-000000000001', 'app').address, { streamName: 'payments', shardId: 'shardId-000000000001' });
  t.throws(() => findLease(leases, ['orders', 'payments'], 'shardId-000000000000', 'app'), {
    code: 'INVALID_ARGUMENT',
    message: 'shard "shardId-000000000000" is in 2 streams of application "app" (orders, payments): name one with --stream',
  } as never);
  t.throws(() => findLease(leases, ['orders'], 'shardId-000000000001', 'app'), { code: 'INVALID_ARGUMENT', message: /has no lease in application "app"/ } as never);
  // a single-stream table: bare shard ids are the given stream's
  t.is(findLease([lease('shardId-000000000003')], ['orders'], 'shardId-000000000003', 'app').lease.leaseKey, 'shardId-000000000003');
});
