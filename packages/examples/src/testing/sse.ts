/**
 * A server-sent-events client for tests and benchmarks (the `http` option's `/events`): every
 * frame with its arrival time on performance.now(), and a wait for the first frame of a name.
 */
export interface SseFrame {
  at: number;
  event: string;
  data: unknown;
}

export interface SseClient {
  readonly frames: SseFrame[];
  /** The first frame named `event` (already received, or the next one). */
  first(event: string): Promise<SseFrame>;
  /** Disconnects; resolves once the reading has ended. */
  close(): Promise<void>;
}

export function listenEvents(url: string): SseClient {
  const frames: SseFrame[] = [];
  const waiters: (() => void)[] = [];
  const abort = new AbortController();
  let ended = false;
  const done = (async () => {
    const res = await fetch(url, { signal: abort.signal });
    let buffer = '';
    for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event && data) frames.push({ at: performance.now(), event, data: JSON.parse(data) });
      }
      for (const wake of waiters.splice(0)) wake();
    }
  })()
    // ended by close() or by the server (the system's stop())
    .catch(() => undefined)
    .finally(() => {
      ended = true;
      for (const wake of waiters.splice(0)) wake();
    });
  return {
    frames,
    async first(event) {
      for (;;) {
        const hit = frames.find((f) => f.event === event);
        if (hit) return hit;
        if (ended) throw new Error(`the event stream ended without a "${event}" frame`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    close: async () => {
      abort.abort();
      await done;
    },
  };
}
