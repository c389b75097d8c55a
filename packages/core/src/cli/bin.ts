#!/usr/bin/env node
/** The `kinesis-client` command (the package's `bin`); everything it does is in main.ts. */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
