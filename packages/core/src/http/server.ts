import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { KinesisClientError } from '@kinesis-client/worker';
import type { Health } from '../health.js';
import type { SystemObserver } from '../observer.js';
import { EventStream } from './event-stream.js';
import type { DashboardState } from './state.js';

export interface HttpOptions {
  port: number;
  host: string;
}

export interface HttpEndpoint {
  /** e.g. http://127.0.0.1:9464/ */
  readonly url: string;
  readonly port: number;
  /** SSE clients connected now. */
  readonly listeners: number;
  close(): Promise<void>;
}

export interface HttpDeps {
  health(): Health;
  /** Undefined until createSystem has resolved. */
  state(): Promise<DashboardState> | undefined;
  observer: SystemObserver;
  refreshMs?: number;
}

/** The dashboard's files, shipped in the package beside dist/ (no build step, nothing from the internet). */
const ASSETS = new URL('../../assets/dashboard/', import.meta.url);
const FILES: Record<string, [file: string, type: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/dashboard.js': ['dashboard.js', 'text/javascript; charset=utf-8'],
  '/dashboard.css': ['dashboard.css', 'text/css; charset=utf-8'],
};

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
};

/**
 * The optional HTTP endpoint (`http` option): `/healthz` (live), `/readyz` (ready; 503 with the
 * reasons when not), `/state` (JSON), `/events` (server-sent events) and the dashboard at `/`.
 * node:http alone: five GET routes and static files need no framework. Listens before the system
 * starts, so a port in use rejects createSystem (HTTP_LISTEN_FAILED) before any work begins.
 */
export async function startHttpServer(options: HttpOptions, deps: HttpDeps): Promise<HttpEndpoint> {
  const files = new Map(await Promise.all(Object.entries(FILES).map(async ([path, [file, type]]) => [path, { body: await readFile(new URL(file, ASSETS)), type }] as const)));
  let stream: EventStream | undefined;
  const events = () =>
    (stream ??= new EventStream({
      observer: deps.observer,
      read: () => deps.state() ?? Promise.reject(new Error('the system is starting')),
      refreshMs: deps.refreshMs ?? 2_000,
    }));

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    switch (path) {
      case '/healthz':
      case '/readyz': {
        const health = deps.health();
        const ok = path === '/healthz' ? health.live : health.ready;
        return json(res, ok ? 200 : 503, health);
      }
      case '/state': {
        const state = deps.state();
        if (!state) return json(res, 503, { error: 'the system is starting' });
        return void state.then(
          (s) => json(res, 200, s),
          (error: unknown) => json(res, 503, { error: error instanceof Error ? error.message : String(error) }),
        );
      }
      case '/events':
        return events().add(res);
      case '/favicon.ico':
        // browsers ask for one; nothing to show
        return void res.writeHead(204).end();
    }
    const file = files.get(path);
    if (!file) return json(res, 404, { error: `no ${path} here: try /, /healthz, /readyz, /state or /events` });
    // the page loads nothing but its own files and its own /events
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'self'" });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'is already in use' : error.code === 'EACCES' ? 'needs privileges this process lacks' : `cannot be listened on (${error.code ?? error.message})`;
      reject(
        new KinesisClientError('HTTP_LISTEN_FAILED', `http: port ${options.port} on ${options.host} ${why}; choose another http.port (0 picks a free one)`, {
          cause: error,
          details: { option: 'http.port', port: options.port, host: options.host, reason: error.code },
        }),
      );
    });
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/`,
    port,
    get listeners() {
      return stream?.size ?? 0;
    },
    close: async () => {
      stream?.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
