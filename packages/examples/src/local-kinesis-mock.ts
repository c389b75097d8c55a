import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface KinesisMock {
  /** Plain HTTP/1.1: every call but SubscribeToShard. */
  endpoint: string;
  /** HTTP/2 over TLS, with a self-signed certificate: SubscribeToShard. */
  http2Endpoint: string;
  /** Ready to spread into createSystem's `retrieval` with `mode: 'fanout'`. */
  fanout: { endpoint: string; tls: { rejectUnauthorized: false } };
  stop(): Promise<void>;
}

/**
 * Starts kinesis-mock (enhanced fan-out included) in a child process on free loopback ports and
 * resolves once both of its ports answer. In memory: every start is a clean slate. Node only: no
 * Java, no Docker. Start-up takes about a second.
 */
export async function startKinesisMock(): Promise<KinesisMock> {
  const script = fileURLToPath(import.meta.url).replace(/local-kinesis-mock\.(ts|js)$/, 'local-kinesis-mock-server.$1');
  for (let attempt = 1; ; attempt++) {
    // its logs (and the broken pipes it reports when a client cancels a subscription) are noise,
    // except when it fails to start
    const child = fork(script, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    const collect = (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000));
    child.stderr!.on('data', collect);
    const started = (await Promise.race([
      once(child, 'message').then(([ports]) => ports as { plainPort: number; tlsPort: number }),
      once(child, 'exit').then(([code]) => code as number | null),
    ])) as { plainPort: number; tlsPort: number } | number | null;
    if (typeof started === 'object' && started !== null) {
      child.stderr!.off('data', collect);
      child.stderr!.resume();
      const endpoint = `http://127.0.0.1:${started.plainPort}`;
      const http2Endpoint = `https://127.0.0.1:${started.tlsPort}`;
      let stopped: Promise<void> | undefined;
      return {
        endpoint,
        http2Endpoint,
        fanout: { endpoint: http2Endpoint, tls: { rejectUnauthorized: false } },
        stop() {
          stopped ??= (async () => {
            if (child.exitCode !== null || child.signalCode !== null) return;
            const exited = once(child, 'exit');
            child.kill('SIGTERM');
            await exited;
          })();
          return stopped;
        },
      };
    }
    // 75: a chosen port was taken before kinesis-mock could bind it (or it never answered); anything else is a real failure
    if ((started !== 75 && !/EADDRINUSE/.test(stderr)) || attempt >= 3) throw new Error(`kinesis-mock exited during start-up (code ${started}): ${stderr}`);
  }
}
