/** Local Kinesis for polling: kinesalite (npm), streams created, resharded and deleted at once. */
import type { TestFn } from 'ava';
import { startEmulator, type LocalEndpoint } from './emulator.js';
import { withService } from './service.js';

export interface KinesaliteOptions {
  /** Shards the emulator allows over all streams (200 unless told otherwise). */
  shardLimit?: number;
}

export const startKinesalite = ({ shardLimit = 200 }: KinesaliteOptions = {}): Promise<LocalEndpoint> => startEmulator('kinesalite', { shardLimit });

/** kinesalite for one test file. */
export const withKinesalite = <C>(test: TestFn<C>, options: KinesaliteOptions = {}) => withService(test, 'kinesalite', () => startKinesalite(options));
