/**
 * Human-readable output: a summary first, then one row per worker and per shard, in aligned
 * columns (as kafka-consumer-groups and rpk print theirs). `--json` prints the report itself.
 */
import type { ShardRow, StatusReport } from './status.js';

/** Aligned columns; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1_000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function renewal(row: ShardRow): string {
  if (!row.owner) return '-';
  const still = row.unchangedForMs === undefined ? '' : ` (${duration(row.unchangedForMs)})`;
  switch (row.renewal) {
    case 'live':
      return 'live';
    case 'expired':
      return `EXPIRED${still}`;
    case 'stalled':
      return `stalled${still}`;
    default:
      return '?';
  }
}

function checkpoint(row: ShardRow): string {
  if (row.checkpoint === undefined) return '(no lease)';
  if (row.checkpointTimestamp) return `${row.checkpoint} ${row.checkpointTimestamp}`;
  return row.checkpointSubSequenceNumber ? `${row.checkpoint}/${row.checkpointSubSequenceNumber}` : row.checkpoint;
}

function behind(row: ShardRow): [string, string] {
  const lag = row.lag;
  if (lag === undefined) return ['-', '-'];
  if (typeof lag === 'string') return [lag, '-'];
  if (lag.error) return [`? (${lag.error.split(':')[0]})`, '-'];
  return [lag.millisBehindLatest === undefined ? '?' : duration(lag.millisBehindLatest), lag.oldestUnreadAgeMs === undefined ? 'none' : duration(lag.oldestUnreadAgeMs)];
}

export function renderStatus(report: StatusReport): string {
  const s = report.summary;
  const out = [
    `application ${report.application}   stream ${report.stream}   ${report.store}`,
    `shards ${s.shards} (${s.open} open, ${s.closed} closed)   leases ${s.leases}: ${s.held} held, ${s.free} free, ${s.expired} expired   workers ${s.workers}` +
      (s.maxMillisBehindLatest === undefined ? '' : `   max behind ${duration(s.maxMillisBehindLatest)}`),
    `at ${report.at}; owners watched for ${duration(report.observedMs)} (failover ${duration(report.failoverMs)})`,
    '',
  ];
  if (report.workers.length > 0) {
    out.push(table(['WORKER', 'LEASES', 'EXPIRED'], report.workers.map((w) => [w.workerId, String(w.leases), String(w.expired)])), '');
  }
  out.push(
    table(
      ['SHARD', 'STATE', 'PARENTS', 'OWNER', 'RENEWAL', 'COUNTER', 'BEHIND', 'OLDEST UNREAD', 'CHECKPOINT'],
      report.shards.map((r) => [
        r.shardId,
        r.state,
        r.parentShardIds.join(',') || '-',
        r.owner ? `${r.owner}${r.handingTo ? ` → ${r.handingTo}` : ''}` : '-',
        renewal(r),
        r.leaseCounter === undefined ? '-' : String(r.leaseCounter),
        ...behind(r),
        checkpoint(r),
      ]),
    ),
  );
  if (report.expired.length > 0) out.push('', `expired (any worker may take them): ${report.expired.join(', ')}`);
  return out.join('\n');
}
