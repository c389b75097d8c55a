/**
 * A TCP proxy on loopback for testing consumers against a half-open connection: the kind of
 * failure a dead NAT, a failed zone or a paused VM causes, where the sockets stay open but no
 * byte and no reset ever arrives. Point a client's endpoint at `url`; `blackhole()` stops every
 * byte in both directions without closing or resetting anything (new connections are accepted
 * and held silent too), `restore()` lets them flow again, as TCP would after a partition heals.
 */
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';

export interface LoopbackProxy {
  /** The proxy's address with the target's scheme, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  readonly port: number;
  /** Connections open now (client side). */
  readonly connections: number;
  readonly blackholed: boolean;
  /** Stops passing bytes both ways; nothing is closed or reset. */
  blackhole(): void;
  /** Passes bytes again, held ones first, and closes what was closed meanwhile. */
  restore(): void;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

export interface LoopbackProxyOptions {
  /** Where connections go: a URL such as http://127.0.0.1:8000, or { host, port }. */
  target: string | { host: string; port: number };
  /** Listening port; default: an ephemeral one. */
  port?: number;
}

/** One direction of a connection: forwards while open; holds chunks, the end and a close while silent. */
class Pipe {
  private held: Buffer[] = [];
  private ended = false;

  constructor(
    private readonly from: Socket,
    private readonly to: () => Socket | undefined,
    private readonly silent: () => boolean,
  ) {
    from.on('data', (chunk: Buffer) => {
      const out = this.to();
      if (this.silent() || !out) {
        // left unread, the rest stays in the kernel's buffers, as on a path that drops packets
        this.held.push(chunk);
        from.pause();
      } else if (!out.write(chunk)) from.pause();
    });
    from.on('end', () => {
      this.ended = true;
      this.flush();
    });
  }

  /** When the other side can take more, or the proxy passes bytes again. */
  flush(): void {
    const out = this.to();
    if (this.silent() || !out || out.destroyed) return;
    for (const chunk of this.held.splice(0)) out.write(chunk);
    if (this.ended) out.end();
    else if (!out.writableNeedDrain) this.from.resume();
  }
}

/** Both directions of one accepted connection; it dials the target only while the proxy passes bytes. */
class Connection {
  private upstream: Socket | undefined;
  private readonly up: Pipe;
  private down: Pipe | undefined;
  private closed = false;

  constructor(
    private readonly client: Socket,
    private readonly target: { host: string; port: number },
    private readonly silent: () => boolean,
    private readonly onClosed: (c: Connection) => void,
  ) {
    this.up = new Pipe(client, () => this.upstream, silent);
    client.on('drain', () => this.down?.flush());
    client.on('error', () => undefined);
    client.on('close', () => this.closeBoth());
    if (!silent()) this.resume();
  }

  /** Dials if not yet, passes held bytes, and tells each side a close the other made while silent. */
  resume(): void {
    if (this.closed) return this.closeBoth();
    if (!this.upstream) {
      const upstream = connect(this.target.port, this.target.host);
      this.upstream = upstream;
      this.down = new Pipe(upstream, () => this.client, this.silent);
      upstream.on('drain', () => this.up.flush());
      upstream.on('error', () => undefined);
      upstream.on('close', () => this.closeBoth());
    }
    this.up.flush();
    this.down?.flush();
  }

  /** A close crosses the proxy only while it passes bytes; while silent it waits for restore(). */
  closeBoth(): void {
    this.closed = true;
    if (this.silent()) return;
    this.client.destroy();
    this.upstream?.destroy();
    this.onClosed(this);
  }

  destroy(): void {
    this.client.destroy();
    this.upstream?.destroy();
  }
}

function parseTarget(target: LoopbackProxyOptions['target']): { host: string; port: number; scheme: string } {
  if (typeof target !== 'string') return { ...target, scheme: 'http' };
  const url = new URL(target);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port, scheme: url.protocol.replace(/:$/, '') };
}

/** Starts the proxy on 127.0.0.1; resolves once it listens. */
export async function startLoopbackProxy(options: LoopbackProxyOptions): Promise<LoopbackProxy> {
  const target = parseTarget(options.target);
  let silent = false;
  const connections = new Set<Connection>();
  const server = createServer((client) => {
    connections.add(new Connection(client, target, () => silent, (c) => connections.delete(c)));
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;

  return {
    url: `${target.scheme}://127.0.0.1:${port}`,
    port,
    get connections() {
      return connections.size;
    },
    get blackholed() {
      return silent;
    },
    blackhole() {
      silent = true;
    },
    restore() {
      silent = false;
      for (const c of [...connections]) c.resume();
    },
    async close() {
      silent = false;
      for (const c of connections) c.destroy();
      connections.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
