/**
 * The soak's fault schedule: a pure function of the seed and the run's shape, so a printed seed
 * replays the same faults at the same offsets (what the faults then meet depends on timing).
 */
import { Prng } from './prng.js';

/** One `system.faults.failCalls` rule ('hang' and 'slow' are the call-deadline contract). */
export interface CallRule {
  command: string;
  times: number;
  mode?: 'throw' | 'hang' | 'slow';
  error?: string;
  delayMs?: number;
}

export type CallLabel = 'calls-throw' | 'calls-hang' | 'calls-slow' | 'throttle' | 'dynamodb-loss';
export type BatchLabel = 'slow-batches' | 'failing-batches';

/** `worker` is an index into the soak's workers; `pick` chooses among the shards that worker runs then. */
export type Fault = { at: number } & (
  | { kind: 'crashActor'; worker: number; pick: number; actor: 'lease' | 'reader' }
  | { kind: 'killThread'; worker: number; pick: number; how: 'terminate' | 'exit' | 'throw' }
  | { kind: 'calls'; label: CallLabel; worker: number; rules: CallRule[] }
  | { kind: 'batches'; label: BatchLabel; worker: number; forMs: number; slowP: number; slowMs: number; failP: number }
  | { kind: 'sigkill'; worker: number; restartAfterMs: number }
  | { kind: 'split'; pick: number }
  | { kind: 'merge'; pick: number }
);

/** The name a fault is counted under in the summary. */
export const faultLabel = (f: Fault): string =>
  f.kind === 'calls' || f.kind === 'batches' ? f.label : f.kind === 'crashActor' ? `crash-${f.actor}` : f.kind === 'killThread' ? 'kill-thread' : f.kind;

export interface ScheduleShape {
  chaosMs: number;
  workers: number;
  failoverMs: number;
}

const KINESIS_ERRORS = ['InternalFailureException', 'ServiceUnavailable'];
const DYNAMODB_ERRORS = ['InternalServerError', 'ServiceUnavailable'];
const isDynamo = (command: string) => /Item$|^Scan$|^Query$/.test(command);

function randomFault(rng: Prng, shape: ScheduleShape, at: number): Fault {
  const worker = rng.int(0, shape.workers - 1);
  const kind = rng.weighted({
    crashActor: 5,
    killThread: 2,
    'calls-throw': 3,
    'calls-hang': 2,
    'calls-slow': 2,
    throttle: 2,
    'slow-batches': 2,
    'failing-batches': 2,
  });
  switch (kind) {
    case 'crashActor':
      return { at, kind, worker, pick: rng.int(0, 99), actor: rng.pick(['lease', 'reader'] as const) };
    case 'killThread':
      return { at, kind, worker, pick: rng.int(0, 99), how: rng.pick(['terminate', 'exit', 'throw'] as const) };
    case 'calls-throw': {
      const command = rng.pick(['GetRecords', 'GetShardIterator', 'UpdateItem', 'ListShards', 'Scan']);
      const error = rng.pick(isDynamo(command) ? DYNAMODB_ERRORS : KINESIS_ERRORS);
      return { at, kind: 'calls', label: kind, worker, rules: [{ command, times: rng.int(1, 4), mode: 'throw', error }] };
    }
    case 'calls-hang': {
      const command = rng.pick(['GetRecords', 'GetShardIterator', 'UpdateItem']);
      return { at, kind: 'calls', label: kind, worker, rules: [{ command, times: rng.int(1, 2), mode: 'hang' }] };
    }
    case 'calls-slow': {
      const command = rng.pick(['GetRecords', 'UpdateItem', 'Scan']);
      return { at, kind: 'calls', label: kind, worker, rules: [{ command, times: rng.int(2, 8), mode: 'slow', delayMs: rng.int(300, 2_500) }] };
    }
    case 'throttle':
      return {
        at,
        kind: 'calls',
        label: kind,
        worker,
        rules: [{ command: 'GetRecords', times: rng.int(3, 15), mode: 'throw', error: 'ProvisionedThroughputExceededException' }],
      };
    case 'slow-batches':
      return { at, kind: 'batches', label: kind, worker, forMs: rng.int(3_000, 9_000), slowP: 0.2 + 0.5 * rng.next(), slowMs: Math.round(shape.failoverMs * (0.3 + 1.1 * rng.next())), failP: 0 };
    case 'failing-batches':
      return { at, kind: 'batches', label: kind, worker, forMs: rng.int(2_000, 6_000), slowP: 0, slowMs: 0, failP: 0.2 + 0.4 * rng.next() };
  }
}

/** A worker cut off from DynamoDB: every lease-table call hangs (until the call's deadline), long enough to lose its leases. */
function dynamodbLoss(rng: Prng, at: number, worker: number): Fault {
  const rules: CallRule[] = [
    { command: 'UpdateItem', times: rng.int(25, 50), mode: 'hang' },
    { command: 'Scan', times: rng.int(4, 8), mode: 'hang' },
    { command: 'GetItem', times: rng.int(4, 8), mode: 'hang' },
    { command: 'PutItem', times: rng.int(2, 4), mode: 'hang' },
  ];
  return { at, kind: 'calls', label: 'dynamodb-loss', worker, rules };
}

/**
 * Per cycle of at most a minute: one split, one merge, one SIGKILL-and-restart and one DynamoDB
 * loss at drawn offsets (so every run has each); a thread kill in the first second or so; and
 * random faults about every 0.6 to 2 s.
 */
export function drawSchedule(seed: number, shape: ScheduleShape): Fault[] {
  const rng = new Prng(seed);
  const cycles = Math.max(1, Math.ceil(shape.chaosMs / 60_000));
  const cycleMs = shape.chaosMs / cycles;
  const faults: Fault[] = [];
  for (let c = 0; c < cycles; c++) {
    const start = c * cycleMs;
    const at = (from: number, to: number) => Math.round(start + cycleMs * (from + (to - from) * rng.next()));
    const killed = rng.int(0, shape.workers - 1);
    faults.push({ at: at(0.15, 0.3), kind: 'split', pick: rng.int(0, 99) });
    faults.push({ at: at(0.35, 0.5), kind: 'sigkill', worker: killed, restartAfterMs: rng.int(1_000, 3_000) });
    faults.push({ at: at(0.55, 0.65), kind: 'merge', pick: rng.int(0, 99) });
    // another worker than the one killed, which may still be starting up again
    faults.push(dynamodbLoss(rng, at(0.68, 0.8), (killed + rng.int(1, Math.max(1, shape.workers - 1))) % shape.workers));
  }
  // a thread dying right after start-up, before its shards' first checkpoints: no record written meanwhile may be skipped
  faults.push({ at: rng.int(300, 1_200), kind: 'killThread', worker: rng.int(0, shape.workers - 1), pick: rng.int(0, 99), how: 'terminate' });
  for (let t = rng.int(1_500, 2_500); t < shape.chaosMs; t += rng.int(600, 2_000)) faults.push(randomFault(rng, shape, t));
  return faults.sort((a, b) => a.at - b.at);
}
