/**
 * Imported first by each thread entry (host-entry.ts, pool-entry.ts), so that warnings emitted
 * while the entry's own imports load are forwarded too (see thread-warnings.ts).
 */
import { forwardThreadWarnings } from './thread-warnings.js';

forwardThreadWarnings();
