/**
 * The AWS SDK as this package loads it: through `require`, as the CommonJS modules it is published
 * as. Imported by name from an ES module, Node first scans each CommonJS file for its exports
 * (cjs-module-lexer), which about doubles what the two clients cost to load (measured here: 241 ms
 * of CPU against 124 ms), and every shard-host thread pays it again as it starts. Types still come
 * from `import type` of the packages themselves.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const kinesisSdk = require('@aws-sdk/client-kinesis') as typeof import('@aws-sdk/client-kinesis');
export const dynamodbSdk = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
export const httpHandlers = require('@smithy/node-http-handler') as typeof import('@smithy/node-http-handler');
