import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

// Runs the demo as a user would (plain node, built output) and checks that it consumes, stops
// cleanly after --duration and that the process then exits by itself: no handle left open.
test('the demo consumes, stops after --duration, releases its leases and exits by itself', async (t) => {
  const child = spawn(process.execPath, [new URL('../dist/demo.js', import.meta.url).pathname, '--duration', '5', '--rate', '1000'], {
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code, signal] = await once(child, 'exit');
  clearTimeout(killer);
  t.is(signal, null, `the demo exited on its own\n${out}`);
  t.is(code, 0, out);
  t.regex(out, /\[\s+\d+s\]\s+[\d,]+ rec\/s \| handled [\d,]+ of [\d,]+ \| leases 4 \| behind /, 'progress lines');
  const handled = Number(/handled\s+([\d,]+) records in/.exec(out)?.[1]?.replace(/,/g, '') ?? 0);
  t.true(handled > 0, 'records were handled');
  t.regex(out, /leases held after stop: 0/);
  t.regex(out, /errors\s+0/);
});
