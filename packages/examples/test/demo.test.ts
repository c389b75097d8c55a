import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** Runs the demo as a user would (plain node, built output); resolves to its exit and output. */
async function runDemo(args: string[], onOutput?: (out: string) => void) {
  const child = spawn(process.execPath, [new URL('../dist/demo.js', import.meta.url).pathname, ...args], {
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    onOutput?.(out);
  });
  child.stderr.on('data', (d) => (out += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code, signal] = await once(child, 'exit');
  clearTimeout(killer);
  return { code, signal, out };
}

// it must consume, stop cleanly after --duration, and then exit by itself: no handle left open
test('the demo consumes, stops after --duration, releases its leases and exits by itself', async (t) => {
  const { code, signal, out } = await runDemo(['--duration', '5', '--rate', '1000']);
  t.is(signal, null, `the demo exited on its own\n${out}`);
  t.is(code, 0, out);
  t.regex(out, /\[\s+\d+s\]\s+[\d,]+ rec\/s \| handled [\d,]+ of [\d,]+ \| leases 4 \| behind /, 'progress lines');
  t.regex(out, /dashboard: http:\/\/127\.0\.0\.1:\d+\//, 'the dashboard URL');
  const handled = Number(/handled\s+([\d,]+) records in/.exec(out)?.[1]?.replace(/,/g, '') ?? 0);
  t.true(handled > 0, 'records were handled');
  t.regex(out, /leases held after stop: 0/);
  t.regex(out, /errors\s+0/);
});

test('--reshard: a split and a merge while producing, and the progress line follows the shard graph', async (t) => {
  const { code, signal, out } = await runDemo(['--duration', '12', '--rate', '1000', '--reshard']);
  t.is(signal, null, out);
  t.is(code, 0, out);
  t.regex(out, /reshard: split s0 into s4 \+ s5/, out);
  t.regex(out, /reshard: merged s4 \+ s5 into s6/, out);
  t.regex(out, /\| open s0,s1,s2,s3\n/, 'the graph before any reshard');
  t.regex(out, /\| open s1,s2,s3,s4,s5 \| reshards s0>s4\+s5( \| ended s0)?\n/, 'the graph after the split');
  t.regex(out, /\| reshards s0>s4\+s5( s4\+s5>s6)? \| ended s0/, 's0 drained to SHARD_END');
  t.regex(out, /\| open s1,s2,s3,s6 \| reshards s0>s4\+s5 s4\+s5>s6/, 'the graph after the merge');
  t.regex(out, /leases held after stop: 0/);
  t.regex(out, /errors\s+0/);
});

test('--workers 3 --kill-after: three worker processes share the shards, the survivors take over a killed one, 0 leases left', async (t) => {
  // the first worker's dashboard shows all three, from the lease store
  let seen: Promise<string[]> | undefined;
  const { code, signal, out } = await runDemo(['--workers', '3', '--kill-after', '6', '--duration', '25', '--rate', '500'], (sofar) => {
    const url = /dashboard: (http:\S+)/.exec(sofar)?.[1];
    if (!url || seen || !/worker-3 started/.test(sofar)) return;
    seen = (async () => {
      for (let i = 0; i < 20; i++) {
        const state = (await (await fetch(`${url}state`)).json()) as { workers: { workerId: string; leases: number }[] };
        const holding = state.workers.filter((w) => w.leases > 0).map((w) => w.workerId);
        if (holding.length === 3) return holding;
        await new Promise((r) => setTimeout(r, 250));
      }
      return [];
    })();
  });
  t.deepEqual(await seen, ['worker-1', 'worker-2', 'worker-3'], 'the dashboard shows every worker holding leases');
  t.is(signal, null, out);
  t.is(code, 0, out);
  t.regex(out, /stream demo-orders: 12 shards; .* 3 worker processes/);
  t.regex(out, /\| worker-1: [s\d -]+ \| worker-2: [s\d -]+ \| worker-3: [s\d -]+\n/, 'the ownership map, per worker');
  t.regex(out, /killed worker-3 with SIGKILL/);
  t.regex(out, /failover: the survivors hold all 12 shards/, out);
  t.regex(out, /leases held after stop: 0/);
  t.regex(out, /errors\s+0/);
});
