// Status: what /healthz says (version, uptime, config file and its last reload, rule counts), and
// small live charts computed from GET /admin/stats (the server's own counters), sampled every 2 s.
import { call, health } from './api.js';
import { byId, h, replace } from './dom.js';

const SAMPLE_MS = 2000;
const POINTS = 60;
const SVG = 'http://www.w3.org/2000/svg';

/** @type {any | null} */
let previous = null;
/** @type {{ at: number, rates: Record<string, number>, streams: number, p50: number | null, p99: number | null }[]} */
const samples = [];

/**
 * The q-quantile (seconds) of the requests between two cumulative histograms, interpolated within
 * its bucket as Prometheus' histogram_quantile does.
 * @param {{le: number | null, count: number}[]} now @param {{le: number | null, count: number}[]} before @param {number} q
 */
function quantile(now, before, q) {
  const counts = now.map((b, i) => b.count - (before[i]?.count ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] >= rank) {
      const upper = now[i].le ?? now[i - 1]?.le ?? 0;
      const lower = i === 0 ? 0 : now[i - 1].le ?? 0;
      const below = i === 0 ? 0 : counts[i - 1];
      const inBucket = counts[i] - below;
      return inBucket <= 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
    }
  }
  return null;
}

/** @param {string} name @param {Record<string, string | number>} attrs */
function svg(name, attrs) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/**
 * @param {HTMLElement} box
 * @param {{ name: string, values: (number | null)[] }[]} series
 * @param {(v: number) => string} format
 */
function chart(box, series, format) {
  const width = 300;
  const height = 90;
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values.filter((v) => v !== null)));
  const root = svg('svg', { viewBox: `0 0 ${width} ${height + 12}`, role: 'img', class: 'plot' });
  root.appendChild(svg('line', { x1: 0, y1: height, x2: width, y2: height, class: 'axis' }));
  series.forEach((s, index) => {
    const step = width / (POINTS - 1);
    const offset = POINTS - s.values.length;
    let d = '';
    s.values.forEach((v, i) => {
      if (v === null) return;
      const x = (offset + i) * step;
      const y = height - (v / max) * (height - 4);
      d += `${d === '' || s.values[i - 1] === null ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)} `;
    });
    if (d) root.appendChild(svg('path', { d, class: `line series-${index % 6}` }));
  });
  const label = svg('text', { x: 2, y: height + 11, class: 'tick' });
  const now = series.length === 1 ? series[0].values.at(-1) : undefined;
  label.textContent = `${now === undefined || now === null ? '' : `now ${format(now)} · `}max ${format(max === 1e-9 ? 0 : max)}`;
  root.appendChild(label);
  const title = svg('title', {});
  title.textContent = series.map((s) => `${s.name}: ${s.values.at(-1) === null || s.values.at(-1) === undefined ? '—' : format(/** @type {number} */ (s.values.at(-1)))}`).join(', ');
  root.appendChild(title);
  replace(box, root);
}

/** @param {HTMLElement} box @param {string[]} names */
function legend(box, names) {
  replace(box, ...names.map((name, i) => h('span', { class: `key series-${i % 6}` }, name)));
}

async function sample() {
  const stats = await call('GET', 'stats');
  const at = Date.parse(stats.at);
  if (previous) {
    const seconds = Math.max(0.001, (at - previous.at) / 1000);
    /** @type {Record<string, number>} */
    const rates = {};
    for (const [provider, count] of Object.entries(stats.responsesByProvider)) rates[provider] = Math.max(0, (/** @type {number} */ (count) - (previous.responsesByProvider[provider] ?? 0)) / seconds);
    const p50 = quantile(stats.latencySeconds.buckets, previous.latencySeconds.buckets, 0.5);
    const p99 = quantile(stats.latencySeconds.buckets, previous.latencySeconds.buckets, 0.99);
    samples.push({ at, rates, streams: stats.activeStreams, p50: p50 === null ? null : p50 * 1000, p99: p99 === null ? null : p99 * 1000 });
    if (samples.length > POINTS) samples.shift();
  }
  previous = { ...stats, at };
  draw();
}

function draw() {
  if (byId('status-panel').hidden) return;
  const providers = [...new Set(samples.flatMap((s) => Object.keys(s.rates)))].sort();
  chart(byId('chart-rate'), providers.map((p) => ({ name: p, values: samples.map((s) => s.rates[p] ?? 0) })), (v) => `${v.toFixed(1)}/s`);
  legend(byId('legend-rate'), providers.length ? providers : ['no provider requests yet']);
  chart(byId('chart-streams'), [{ name: 'active streams', values: samples.map((s) => s.streams) }], (v) => String(Math.round(v)));
  chart(byId('chart-latency'), [{ name: 'p50', values: samples.map((s) => s.p50) }, { name: 'p99', values: samples.map((s) => s.p99) }], (v) => `${v.toFixed(1)} ms`);
  legend(byId('legend-latency'), ['p50', 'p99']);
}

/** @param {number} seconds */
function duration(seconds) {
  const h_ = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h_ ? `${h_} h ${m} min` : m ? `${m} min ${seconds % 60} s` : `${seconds} s`;
}

export async function refreshStatus() {
  const report = await health();
  const config = report.config ?? {};
  /** @type {[string, string | HTMLElement][]} */
  const facts = [
    ['Version', report.version],
    ['Uptime', duration(report.uptimeSeconds)],
    ['Config file', config.path ?? '(inline config)'],
    ['Loaded', config.loadedAt ?? '—'],
    ['Last reload', config.lastReloadAt ?? 'none since start'],
    ['Last reload result', config.lastReloadError ? h('span', { class: 'error' }, config.lastReloadError) : 'ok'],
    ['Rules', `${report.entries.file} from the file, ${report.entries.admin} from the admin API`],
  ];
  replace(byId('status'), ...facts.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
  draw();
}

export function startStatus() {
  void sample().catch(() => {});
  setInterval(() => void sample().catch(() => {}), SAMPLE_MS);
  setInterval(() => {
    if (!byId('status-panel').hidden) void refreshStatus().catch(() => {});
  }, 5000);
}
