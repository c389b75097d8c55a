/**
 * Local Kinesis with enhanced fan-out: kinesis-mock (npm `kinesis-local`, the engine LocalStack
 * uses) in a child process (kinesis-mock-server.ts) on free loopback ports. In memory: every start
 * is a clean slate. Node only: no Java, no Docker. Start-up takes about a second.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestFn } from 'ava';
import { ExitedDuringStartup, endChild, readyOf } from './child.js';
import { onlyOnce, withService, type Service } from './service.js';

export interface KinesisMock extends Service {
  /** Plain HTTP/1.1: every call but SubscribeToShard. */
  endpoint: string;
  /** HTTP/2 over TLS, with a self-signed certificate: SubscribeToShard. */
  http2Endpoint: string;
  /** Ready to spread into createSystem's `retrieval` with `mode: 'fanout'`. */
  fanout: { endpoint: string; tls: { rejectUnauthorized: false } };
}

/** Resolves once both of kinesis-mock's ports answer. */
export async function startKinesisMock(): Promise<KinesisMock> {
  const script = fileURLToPath(import.meta.url).replace(/kinesis-mock\.(ts|js)$/, 'kinesis-mock-server.$1');
  for (let attempt = 1; ; attempt++) {
    // its logs (and the broken pipes it reports when a client cancels a subscription) are noise,
    // except when it fails to start
    const child = fork(script, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    const collect = (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000));
    child.stderr!.on('data', collect);
    try {
      const ports = await readyOf<{ plainPort: number; tlsPort: number }>(child, { what: 'kinesis-mock', isReady: (m) => typeof m?.plainPort === 'number' });
      child.stderr!.off('data', collect);
      child.stderr!.resume();
      const http2Endpoint = `https://127.0.0.1:${ports.tlsPort}`;
      return {
        endpoint: `http://127.0.0.1:${ports.plainPort}`,
        http2Endpoint,
        fanout: { endpoint: http2Endpoint, tls: { rejectUnauthorized: false } },
        stop: onlyOnce(() => endChild(child)),
      };
    } catch (error) {
      const code = error instanceof ExitedDuringStartup ? error.code : undefined;
      // 75: a chosen port was taken before kinesis-mock could bind it (or it never answered); anything else is a real failure
      if ((code !== 75 && !/EADDRINUSE/.test(stderr)) || attempt >= 3) throw new Error(`kinesis-mock exited during start-up (code ${code}): ${stderr}`);
    }
  }
}

/** kinesis-mock for one test file. */
export const withKinesisMock = <C>(test: TestFn<C>) => withService(test, 'kinesis-mock', startKinesisMock);
