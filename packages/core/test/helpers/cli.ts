/**
 * The `kinesis-client` CLI as an operator runs it: a child process of the built bin, reaching the
 * local services only through the AWS SDK's own environment (AWS_ENDPOINT_URL_KINESIS,
 * AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, credentials): the CLI is given no endpoint of its own.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { putRecords, type LocalAws } from '@kinesis-client/examples/testing';

const bin = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The SDK's environment for the local services, and nothing else of the test's AWS settings. */
export function awsEnv(aws: LocalAws): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  return {
    ...env,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_KINESIS: aws.kinesisEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB: aws.dynamodbEndpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `count` records on each of the stream's keys; resolves to where each went. */
export function produce(aws: LocalAws, streamName: string, count: number, tag: string) {
  return putRecords(
    aws.kinesis,
    streamName,
    Array.from({ length: count }, (_, i) => ({ PartitionKey: `k${i}`, Data: new TextEncoder().encode(`${tag}-${i}`) })),
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds; throws with `what` after timeoutMs. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}
