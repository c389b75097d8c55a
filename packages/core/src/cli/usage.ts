import { KinesisClientError } from '@kinesis-client/worker';

/** A wrong command line: INVALID_ARGUMENT, printed with the short usage, exit 2. */
export const usageError = (message: string) => new KinesisClientError('INVALID_ARGUMENT', message, { details: { usage: true } });
