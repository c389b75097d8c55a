/** Local DynamoDB: dynalite (npm), tables created and deleted at once. */
import type { TestFn } from 'ava';
import { startEmulator, type LocalEndpoint } from './emulator.js';
import { withService } from './service.js';

export const startDynalite = (): Promise<LocalEndpoint> => startEmulator('dynalite');

/** dynalite for one test file. */
export const withDynalite = <C>(test: TestFn<C>) => withService(test, 'dynalite', startDynalite);
