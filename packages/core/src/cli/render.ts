/**
 * Human-readable output: a summary first, then one row per worker and per shard, in aligned
 * columns (as kafka-consumer-groups and rpk print theirs); with several streams, the workers over
 * all of them, then one section per stream. `--json` prints the report itself.
 */
import type { ShardRow, StatusReport, StreamStatus, Summary } from './status.js';

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

const counts = (s: Summary) =>
  `shards ${s.shards} (${s.open} open, ${s.closed} closed)   leases ${s.leases}: ${s.held} held, ${s.free} free, ${s.expired} expired   workers ${s.workers}` +
  (s.maxMillisBehindLatest === undefined ? '' : `   max behind ${duration(s.maxMillisBehindLatest)}`);

function shardTable(rows: readonly ShardRow[]): string {
  return table(
    ['SHARD', 'STATE', 'PARENTS', 'OWNER', 'RENEWAL', 'COUNTER', 'BEHIND', 'OLDEST UNREAD', 'CHECKPOINT'],
    rows.map((r) => [
      r.shardId,
      r.state,
      r.parentShardIds.join(',') || '-',
      r.owner ? `${r.owner}${r.handingTo ? ` → ${r.handingTo}` : ''}` : '-',
      renewal(r),
      r.leaseCounter === undefined ? '-' : String(r.leaseCounter),
      ...behind(r),
      checkpoint(r),
    ]),
  );
}

/** What is unusual about a stream: not in Kinesis, no lease yet, or leased but not given. */
function streamNotes(s: StreamStatus): string {
  const notes = [
    s.inKinesis ? '' : 'NOT IN KINESIS (deleted, or a wrong name): its leases show as unlisted',
    s.summary.leases === 0 ? 'no lease in the store yet (not consumed, or not started)' : '',
    s.configured ? '' : 'not given (--stream / config): its leases are in the store',
  ].filter(Boolean);
  return notes.length ? `   ${notes.join('; ')}` : '';
}

export function renderStatus(report: StatusReport): string {
  const s = report.summary;
  const several = report.streams.length > 1;
  const out = [
    several
      ? `application ${report.application}   streams ${report.streams.length} (${report.streams.map((x) => x.streamName).join(', ')})   ${report.store}`
      : `application ${report.application}   stream ${report.stream}   ${report.store}`,
    counts(s),
    `at ${report.at}; owners watched for ${duration(report.observedMs)} (failover ${duration(report.failoverMs)})`,
    '',
  ];
  if (report.workers.length > 0) {
    out.push(table(['WORKER', 'LEASES', 'EXPIRED'], report.workers.map((w) => [w.workerId, String(w.leases), String(w.expired)])), '');
  }
  if (!several) {
    out.push(shardTable(report.shards));
    if (report.expired.length > 0) out.push('', `expired (any worker may take them): ${report.expired.join(', ')}`);
    return out.join('\n');
  }
  for (const stream of report.streams) {
    out.push(`stream ${stream.streamName}   ${counts(stream.summary)}${streamNotes(stream)}`);
    const rows = report.shards.filter((r) => r.streamName === stream.streamName);
    if (rows.length > 0) out.push(shardTable(rows));
    if (stream.expired.length > 0) out.push(`expired (any worker may take them): ${stream.expired.join(', ')}`);
    out.push('');
  }
  return out.join('\n').trimEnd();
}
