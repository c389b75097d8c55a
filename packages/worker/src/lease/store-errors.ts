/**
 * What the PostgreSQL and Redis adapters throw: every client error becomes a KinesisClientError
 * whose message, stack and cause carry no credential (the client's own error objects are never
 * passed on, since their fields may echo the connection settings), and every call has a deadline.
 */
import { callTimeoutError } from '../deadlines.js';
import { KinesisClientError, isKinesisClientError, type ErrorCode } from '../errors.js';
import { redactor, storeTarget, type StoreConfig } from './store-config.js';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);

/** Why a store could not be used at start, from the client's error. */
export function failureKind(error: unknown): 'unreachable' | 'auth' | 'other' {
  const e = error as { code?: unknown; message?: unknown; name?: unknown; errors?: unknown[] } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  // PostgreSQL: invalid_password, invalid_authorization_specification; Redis: ACL and requirepass replies
  if (code === '28P01' || code === '28000' || /^(WRONGPASS|NOAUTH)\b|invalid password|AUTH.*without any password/i.test(message)) return 'auth';
  if (NETWORK_CODES.has(code) || code === 'CALL_TIMEOUT') return 'unreachable';
  if (/timeout|timed out|Connection terminated|Socket closed|connect E[A-Z]+/i.test(message) || e?.name === 'ConnectionTimeoutError') return 'unreachable';
  if (Array.isArray(e?.errors) && e.errors.some((inner) => failureKind(inner) === 'unreachable')) return 'unreachable';
  return 'other';
}

/** A plain copy of a client error with credentials removed: safe as a `cause`. */
function sanitized(error: unknown, redact: (s: string) => string): Error {
  const e = error instanceof Error ? error : new Error(String(error));
  const copy = new Error(redact(e.message || (e as { code?: string }).code || e.name));
  copy.name = e.name;
  copy.stack = redact(e.stack ?? copy.stack ?? '');
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') Object.assign(copy, { code });
  return copy;
}

/** A failed call while running: retried by its caller (a renewal, a checkpoint, the next take cycle). */
export function callError(config: StoreConfig, command: string, error: unknown): KinesisClientError {
  if (isKinesisClientError(error)) return error;
  const redact = redactor(config);
  const cause = sanitized(error, redact);
  return new KinesisClientError('STORE_CALL_FAILED', `${command} on the ${storeTarget(config)} failed: ${cause.message}`, {
    cause,
    details: { command, store: config.type },
  });
}

const FIX: Record<'unreachable' | 'auth', { code: ErrorCode; what: string; fix: string }> = {
  unreachable: {
    code: 'STORE_UNREACHABLE',
    what: 'could not be reached',
    fix: 'check that the server runs and that the host and port of the connection string are right',
  },
  auth: {
    code: 'STORE_AUTH_FAILED',
    what: 'refused the credentials',
    fix: 'fix the user name and password in the connection string',
  },
};

/** A failure of `ensure()`: its own code when the server is unreachable or refuses the credentials. */
export function startError(config: StoreConfig, error: unknown): KinesisClientError {
  if (isKinesisClientError(error) && error.code !== 'CALL_TIMEOUT' && error.code !== 'STORE_CALL_FAILED') return error;
  const redact = redactor(config);
  const cause = sanitized(isKinesisClientError(error) && error.cause ? error.cause : error, redact);
  const kind = failureKind(isKinesisClientError(error) && error.code === 'CALL_TIMEOUT' ? { code: 'CALL_TIMEOUT' } : cause);
  const option = config.type === 'redis' ? 'store.url' : 'store.connectionString';
  if (kind === 'other') {
    return new KinesisClientError('LEASE_TABLE_FAILED', `the ${storeTarget(config)} could not be prepared: ${cause.message}`, { cause, details: { store: config.type } });
  }
  const { code, what, fix } = FIX[kind];
  return new KinesisClientError(code, `the ${storeTarget(config)} ${what} (${cause.message}): ${fix} (${option})`, {
    cause,
    details: { store: config.type, option },
  });
}

/** The table or key prefix exists but holds something this library cannot use. */
export function shapeError(config: StoreConfig, problem: string, fix: string): KinesisClientError {
  return new KinesisClientError('STORE_SHAPE_MISMATCH', `the ${storeTarget(config)} ${problem}: ${fix}`, { details: { store: config.type } });
}

/**
 * `call`, or CALL_TIMEOUT after `ms` (0: no deadline); `onTimeout` discards the connection the
 * call was on, so a half-open socket is never used again.
 */
export function withDeadline<T>(call: Promise<T>, ms: number, command: string, onTimeout: () => void): Promise<T> {
  if (!ms) return call;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(callTimeoutError(command, ms));
    }, ms);
    call.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error: unknown) => (clearTimeout(timer), reject(error)),
    );
  });
}
