// The kinesis-client dashboard: one page, no build step, nothing from the internet. It reads the
// system's server-sent events (/events): `state` (everything, from the lease store and this
// worker) and `lease` (a lease moved on this worker, shown at once, before the next state).
// One section per stream (its shards, owners, checkpoints, lag, records/s and shard graph); the
// workers' leases are counted over all streams. Shard ids repeat across streams, so a shard is
// always found by its stream and id.
// Every value is written as text (never as HTML): worker ids and errors come from outside.

const SVG = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);

/** An element with attributes and children (strings become text nodes). */
function h(tag, attrs = {}, ...children) {
  const el = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    // through the CSSOM: the page's content security policy refuses style attributes
    if (k === 'style') el.style.cssText = String(v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** A stable colour per worker id. */
function colour(workerId) {
  // FNV-1a, then the golden ratio: ids that differ in one character still get far-apart hues
  let n = 2166136261;
  for (const ch of workerId) n = Math.imul(n ^ ch.charCodeAt(0), 16777619) >>> 0;
  return `hsl(${Math.round(((n * 0.618033988749895) % 1) * 360)} 55% 40%)`;
}

const short = (shardId) => shardId.replace(/^shardId-0*(\d)/, 's$1');
const fmt = (n) => (n === undefined || n === null ? '–' : Math.round(n).toLocaleString('en-US'));

function ownerChip(owner) {
  return owner ? h('span', { class: 'owner-chip', style: `background:${colour(owner)}` }, owner) : h('span', { class: 'owner-chip free' }, 'free');
}

/** A polyline chart of `values` in an SVG of viewBox width x height. */
function line(svg, values, width, height, stroke) {
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(' ');
  svg.append(h('svg:polyline', { points, fill: 'none', stroke, 'stroke-width': 1.5, 'vector-effect': 'non-scaling-stroke' }));
  return max;
}

let state;
/** Shards (`stream/shardId`) whose lease just moved on this worker. */
const flashed = new Set();
const keyOf = (s) => `${s.streamName}/${s.shardId}`;
const several = () => state.streams.length > 1;

function renderHeader() {
  const streams = several() ? `streams ${state.streams.map((s) => s.streamName).join(', ')}` : `stream ${state.streamName}`;
  $('title').textContent = `${state.appName} · ${streams} · worker ${state.workerId}`;
  const badge = $('health');
  badge.className = `badge ${state.health.ready ? 'ready' : 'not-ready'}`;
  badge.textContent = state.health.ready ? 'ready' : `not ready: ${state.health.reasons.map((r) => r.code).join(', ')}`;
  badge.title = state.health.reasons.map((r) => r.message).join('\n');
  $('connection').textContent = `updated ${new Date(state.at).toLocaleTimeString()}`;
}

function renderThroughput() {
  const svg = $('throughput');
  svg.replaceChildren();
  const series = Object.values(state.series.perShard);
  const total = series.length ? series[0].map((_, i) => series.reduce((sum, s) => sum + (s[i] ?? 0), 0)) : [];
  const max = total.length ? line(svg, total, 600, 120, '#2563eb') : 0;
  const perStream = several() ? ` · ${state.streams.map((s) => `${s.streamName} ${fmt(s.recordsPerSecond)}/s`).join(' · ')} (5 s)` : '';
  $('throughput-legend').textContent = total.length ? `now ${fmt(total.at(-1))}/s · peak ${fmt(max)}/s${perStream}` : 'no batch handled yet';
}

function renderWorkers() {
  const most = Math.max(1, ...state.workers.map((w) => w.leases));
  const rows = state.workers.map((w) =>
    h('div', { class: 'bar', 'data-worker': w.workerId },
      h('span', { class: 'name', title: w.workerId }, w.self ? `${w.workerId} (this)` : w.workerId),
      h('span', { class: 'fill', style: `width:${(w.leases / most) * 50}%;background:${colour(w.workerId)}` }),
      h('span', { class: 'count' }, String(w.leases))),
  );
  if (state.freeLeases) rows.push(h('div', { class: 'bar' }, h('span', { class: 'name' }, 'free'), h('span', { class: 'count' }, String(state.freeLeases))));
  $('workers').replaceChildren(...rows);
}

/** The shard table of one stream. */
function shardTable(shards) {
  const rows = shards.map((s) => {
    const spark = h('svg:svg', { class: 'spark', viewBox: '0 0 120 22', preserveAspectRatio: 'none' });
    const values = state.series.perShard[keyOf(s)];
    if (values) line(spark, values, 120, 22, '#2563eb');
    return h('tr', { 'data-shard': s.shardId, class: [s.open === false ? 'closed' : '', flashed.has(keyOf(s)) ? 'flash' : ''].join(' ').trim() || undefined },
      h('td', { class: 'shard', title: s.shardId }, s.shardId),
      h('td', {}, h('span', { class: s.open === false ? 'state-closed' : 'state-open' }, s.open === undefined ? 'not listed' : s.open ? 'open' : 'closed')),
      h('td', { class: 'family' }, `${s.parentShardIds.map(short).join(' + ') || '–'} → ${s.childShardIds.map(short).join(' + ') || '–'}`),
      h('td', { class: 'owner', 'data-owner': s.owner ?? '' }, ownerChip(s.owner), s.handoffTo ? ` → ${s.handoffTo}` : ''),
      h('td', { class: 'checkpoint', title: s.checkpoint ?? '' }, s.checkpoint ?? 'no lease yet'),
      h('td', { class: 'num' }, fmt(s.millisBehindLatest)),
      h('td', { class: 'num' }, fmt(s.recordsPerSecond)),
      h('td', {}, spark));
  });
  return h('table', { class: 'shards' },
    h('thead', {}, h('tr', {}, ['shard', 'state', 'parents → children', 'owner', 'checkpoint', 'ms behind', 'records/s', 'last 60 s'].map((c) => h('th', {}, c)))),
    h('tbody', {}, rows));
}

/** What is unusual about a stream: gone from Kinesis, or no longer consumed by this application. */
function streamNotes(stream) {
  return [stream.inKinesis ? '' : 'not in Kinesis (deleted): its leases only', stream.configured ? '' : 'not consumed by this application: leases left in the store'].filter(Boolean).join(' · ');
}

/** One card per stream: its shards and their graph. */
function renderStreams() {
  const sections = state.streams.map((stream) => {
    const shards = state.shards.filter((s) => s.streamName === stream.streamName);
    const notes = streamNotes(stream);
    return h('section', { class: `card full stream${notes ? ' unusual' : ''}`, 'data-stream': stream.streamName },
      h('h2', {}, 'Stream ', h('span', { class: 'name' }, stream.streamName),
        h('span', { class: 'muted summary' }, `${stream.shards} shards · ${stream.leases} leases, ${stream.freeLeases} free · ${fmt(stream.recordsPerSecond)} records/s here`),
        notes ? h('span', { class: 'note' }, ` ${notes}`) : ''),
      h('div', { class: 'stream-body' }, shardTable(shards), graph(shards)));
  });
  flashed.clear();
  $('streams').replaceChildren(...sections);
}

/** The shard graph of one stream: columns by generation (a shard one right of its parents), rows by position. */
function graph(shards) {
  const svg = h('svg:svg', { class: 'graph', role: 'img', 'aria-label': 'shard parent and child graph' });
  const byId = new Map(shards.map((s) => [s.shardId, s]));
  const depth = new Map();
  const depthOf = (id, seen = new Set()) => {
    if (depth.has(id)) return depth.get(id);
    if (seen.has(id)) return 0;
    seen.add(id);
    const parents = (byId.get(id)?.parentShardIds ?? []).filter((p) => byId.has(p));
    const d = parents.length ? 1 + Math.max(...parents.map((p) => depthOf(p, seen))) : 0;
    depth.set(id, d);
    return d;
  };
  const columns = [];
  for (const s of shards) (columns[depthOf(s.shardId)] ??= []).push(s);
  const W = 130, H = 30, GX = 50, GY = 8;
  const at = new Map();
  columns.forEach((col, c) => col.forEach((s, r) => at.set(s.shardId, { x: 10 + c * (W + GX), y: 10 + r * (H + GY) })));
  const rows = Math.max(1, ...columns.map((c) => c.length));
  svg.setAttribute('viewBox', `0 0 ${20 + columns.length * (W + GX)} ${20 + rows * (H + GY)}`);
  svg.style.height = `${Math.min(480, 20 + rows * (H + GY))}px`;
  for (const s of shards) {
    for (const p of s.parentShardIds) {
      const from = at.get(p), to = at.get(s.shardId);
      if (from && to) svg.append(h('svg:line', { x1: from.x + W, y1: from.y + H / 2, x2: to.x, y2: to.y + H / 2, stroke: '#9ca3af', 'stroke-width': 1.5 }));
    }
  }
  for (const s of shards) {
    const { x, y } = at.get(s.shardId);
    const fill = s.open === false ? '#e5e7eb' : s.owner ? colour(s.owner) : '#9ca3af';
    svg.append(h('svg:g', { 'data-node': s.shardId },
      h('svg:rect', { x, y, width: W, height: H, rx: 5, fill, stroke: '#374151', 'stroke-width': 0.5 }),
      h('svg:text', { x: x + 8, y: y + 13, 'font-size': 11, fill: s.open === false ? '#374151' : '#fff' }, short(s.shardId) + (s.open === false ? ' (closed)' : '')),
      h('svg:text', { x: x + 8, y: y + 25, 'font-size': 9, fill: s.open === false ? '#6b7280' : '#f3f4f6' }, s.owner ?? 'free')));
  }
  return svg;
}

/** Shard actors are named `<stream>/<shardId>/<role>`: with one stream, it is in the header already. */
const nodeName = (id) => (!several() && id.startsWith(`${state.streamName}/`) ? id.slice(state.streamName.length + 1) : id);

function treeNode(n) {
  const label = h('span', { title: n.id },
    h('strong', {}, nodeName(n.id)), ` ${n.kind}`, n.strategy ? ` ${n.strategy}` : '', ' · ',
    h('span', { class: `st-${n.state}` }, n.state), ` · incarnation ${n.incarnation}`,
    n.restarts ? h('span', { class: 'restarts' }, ` · ${n.restarts} restart${n.restarts === 1 ? '' : 's'}`) : ' · 0 restarts',
    n.lastError ? h('span', { class: 'muted', title: n.lastError.message }, ` · last: ${n.lastError.code ?? n.lastError.name}`) : '');
  return h('li', { 'data-node': n.id }, label, n.children?.length ? h('ul', {}, n.children.map(treeNode)) : null);
}

function renderTree() {
  $('tree').replaceChildren(h('ul', {}, treeNode(state.tree)));
}

function renderErrors() {
  const items = state.errors.map((e) =>
    h('li', {}, `${new Date(e.at).toLocaleTimeString()} `, h('code', {}, e.fatal ? `FATAL ${e.code ?? ''}` : e.code ?? 'error'), e.shardId ? ` ${several() && e.streamName ? `${e.streamName}/` : ''}${e.shardId}` : '', ` ${e.message}`));
  $('errors').replaceChildren(...(items.length ? items : [h('li', { class: 'muted' }, 'none')]));
}

function render() {
  renderHeader();
  renderThroughput();
  renderWorkers();
  renderStreams();
  renderTree();
  renderErrors();
  document.body.dataset.updated = String(state.at);
}

const source = new EventSource('events');
source.addEventListener('state', (e) => {
  state = JSON.parse(e.data);
  render();
});
// a lease moved on this worker: show it now; the next state (read from the store) confirms it
source.addEventListener('lease', (e) => {
  const change = JSON.parse(e.data);
  const shard = state?.shards.find((s) => s.streamName === change.streamName && s.shardId === change.shardId);
  if (!shard) return;
  if (change.type === 'lease:acquired') shard.owner = change.workerId;
  else if (change.type === 'lease:released') shard.owner = change.to;
  else if (change.type === 'lease:lost' && shard.owner === state.workerId) shard.owner = undefined;
  flashed.add(keyOf(change));
  renderStreams();
});
source.addEventListener('unavailable', (e) => {
  $('connection').textContent = `cannot read the state now: ${JSON.parse(e.data).message}`;
});
source.onerror = () => {
  $('connection').textContent = 'disconnected; retrying…';
};
