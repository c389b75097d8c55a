/**
 * Every failure the library reports is a KinesisClientError with a stable `code`.
 * The table of codes lives in docs/errors.md; test/error-codes.test.ts holds the two in step and
 * fails on a code that nothing raises.
 */
export const ErrorCodes = {
  INVALID_OPTION: 'Invalid option passed to createSystem',
  INVALID_ARGUMENT: 'A method of the system was called with an invalid argument',
  STREAM_NOT_FOUND: 'The stream does not exist',
  CONSUMER_LOAD_FAILED: 'The consumer module could not be imported',
  CONSUMER_INVALID: 'The consumer module does not export handleBatch',
  LEASE_TABLE_FAILED: 'The lease table could not be created or read',
  STORE_UNREACHABLE: 'The PostgreSQL or Redis lease store could not be reached at start',
  STORE_AUTH_FAILED: 'The PostgreSQL or Redis lease store refused the credentials at start',
  STORE_SHAPE_MISMATCH: 'The lease store table (PostgreSQL) or key prefix (Redis) exists but holds something else',
  STORE_CALL_FAILED: 'A PostgreSQL or Redis call of the lease store failed',
  STREAM_CONSUMER_FAILED: 'The enhanced fan-out stream consumer could not be registered or did not become ACTIVE',
  LEASE_ROW_INVALID: 'A lease table row cannot be read (a field missing or of the wrong type); it is left alone',
  LEASE_EXPIRED: 'A batch was not started: the lease was not renewed within failoverMs minus lease.safetyMarginMs',
  BATCH_FAILED: 'handleBatch failed after every attempt and the consumer has no handleFailed',
  POOL_WORKER_DIED: 'A consumer pool thread died while handling a batch',
  BATCH_TIMEOUT: 'handleBatch or handleFailed did not settle within batchers.timeoutMs; its pool thread was replaced',
  LISTENER_FAILED: 'A listener of system.events threw; the system carried on',
  HOST_THREAD_DIED: 'A shard-host thread exited unexpectedly',
  RESTART_LIMIT_EXCEEDED: 'The root supervisor passed its restart limit; the system stopped',
  AWS_CALL_FAILED: 'A Kinesis or DynamoDB call failed',
  CALL_TIMEOUT: 'A Kinesis or lease-store call did not answer within its deadline (callTimeouts); it was aborted',
  SYSTEM_STOPPED: 'The system is stopping or stopped',
  APPLICATION_NOT_FOUND: 'kinesis-client CLI: the application has no leases in the store (no table, or never started)',
  LEASE_HELD: 'kinesis-client CLI: reset refused, a live worker holds the lease (use --force to take it)',
  LEASE_CHANGED: 'kinesis-client CLI: another worker wrote the lease between the read and the write; nothing more was written',
  HTTP_LISTEN_FAILED: 'The http option names a port that cannot be listened on (in use, or privileged)',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class KinesisClientError extends Error {
  override readonly name = 'KinesisClientError';
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** Errors cross threads as plain data: structured clone keeps neither the class nor `code`. */
  toJSON(): SerializedError {
    return serializeError(this);
  }
}

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  details?: Record<string, unknown>;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const out: SerializedError = { name: error.name, message: error.message };
    if (error.stack) out.stack = error.stack;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') out.code = code;
    if (error instanceof KinesisClientError) out.details = { ...error.details };
    return out;
  }
  return { name: 'Error', message: String(error) };
}

export function deserializeError(e: SerializedError): Error {
  if (e.code && e.code in ErrorCodes) {
    const err = new KinesisClientError(e.code as ErrorCode, e.message, { details: e.details ?? {} });
    if (e.stack) err.stack = e.stack;
    return err;
  }
  const err = new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  if (e.code) (err as Error & { code?: string }).code = e.code;
  return err;
}

export function isKinesisClientError(error: unknown, code?: ErrorCode): error is KinesisClientError {
  return error instanceof KinesisClientError && (code === undefined || error.code === code);
}
