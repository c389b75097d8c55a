import { KinesisClientError } from '@kinesis-client/worker';
import { redactUrls } from '@kinesis-client/worker/lease';

/** INVALID_OPTION and what its message shows of the bad value. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (value instanceof Date) return `Date(${value.toString()})`;
  try {
    const s = JSON.stringify(value);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(value);
  }
}

export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const key of path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

export function invalid(option: string, expected: string, got: unknown): KinesisClientError {
  // a connection string's credentials never reach a message
  const shown = option.startsWith('store') ? redactUrls(describeValue(got)) : describeValue(got);
  return new KinesisClientError('INVALID_OPTION', `createSystem: option "${option}" ${expected} (got ${shown})`, {
    details: { option },
  });
}

/** A method's bad argument at run time: INVALID_ARGUMENT, naming the method and showing the value. */
export function invalidArgument(method: string, message: string, got: unknown): KinesisClientError {
  return new KinesisClientError('INVALID_ARGUMENT', `${method}: ${message} (got ${describeValue(got)})`, { details: { method } });
}
