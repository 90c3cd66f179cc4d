// The per-request tallies (src/observability/tallies.ts) stand in for prom-client's Counter and
// Histogram on the request path: what a scrape or /admin/stats reads must be exactly what
// prom-client's own metrics would give for the same updates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import { SEPARATOR, TalliedCounter, TalliedHistogram } from '../../src/observability/tallies.ts';

const prom = createRequire(import.meta.url)('prom-client') as typeof PromClient;
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const SERIES = [
  ['POST', '/v1/chat/completions'],
  ['POST', '/v1/messages'],
  ['GET', '/v1/models'],
] as const;

/** The same observations, deterministic: every bound exactly, between bounds, zero, above the last bound. */
function observations(): [number, number][] {
  const out: [number, number][] = [];
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (const bound of BUCKETS) out.push([0, bound]);
  out.push([1, 0], [1, 60.0001], [2, 1e6]);
  for (let i = 0; i < 500; i++) out.push([Math.floor(random() * SERIES.length), random() ** 4 * 90]);
  return out;
}

test('the tallied histogram writes the exposition prom-client\'s Histogram writes for the same observations', async () => {
  const ours = new prom.Registry();
  const theirs = new prom.Registry();
  const tallied = new TalliedHistogram('x_duration_seconds', 'How long.', ['method', 'route'], BUCKETS, ours);
  const reference = new prom.Histogram({ name: 'x_duration_seconds', help: 'How long.', labelNames: ['method', 'route'], buckets: BUCKETS, registers: [theirs] });
  for (const [series, value] of observations()) {
    const [method, route] = SERIES[series]!;
    tallied.observe(method + SEPARATOR + route, value);
    reference.observe({ method, route }, value);
  }
  const text = await ours.metrics();
  assert.equal(text, await theirs.metrics());
  assert.match(text, /x_duration_seconds_bucket\{le="\+Inf",method="POST",route="\/v1\/messages"\} \d+/);
  // /admin/stats reads get(): the same samples, every label on the sample.
  const expected = await reference.get();
  assert.deepEqual(tallied.get(), { ...expected, values: expected.values.map(({ labels, value, metricName }) => ({ labels: { ...labels }, value, metricName })) });
  tallied.reset();
  reference.reset();
  assert.equal(await ours.metrics(), await theirs.metrics());
});

test('a tallied counter shows every increment at each read, once, whether read by the registry or by get()', async () => {
  const registry = new prom.Registry();
  const counter = new prom.Counter({ name: 'x_requests_total', help: 'Requests.', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const tallied = new TalliedCounter(counter, ['method', 'route', 'status']);
  const key = (...values: string[]) => values.join(SEPARATOR);
  const read = async () => Object.fromEntries((await counter.get()).values.map((v) => [`${v.labels.method} ${v.labels.route} ${v.labels.status}`, v.value]));

  assert.deepEqual(await read(), {});
  tallied.add(key('POST', '/v1/messages', '200'));
  tallied.add(key('POST', '/v1/messages', '200'));
  tallied.add(key('POST', '/v1/messages', '400'), 3);
  assert.deepEqual(await read(), { 'POST /v1/messages 200': 2, 'POST /v1/messages 400': 3 });
  // Read again with nothing new: nothing counted twice.
  assert.deepEqual(await read(), { 'POST /v1/messages 200': 2, 'POST /v1/messages 400': 3 });
  tallied.add(key('POST', '/v1/messages', '200'));
  tallied.add(key('GET', '/v1/models', '200'));
  assert.match(await registry.metrics(), /x_requests_total\{method="POST",route="\/v1\/messages",status="200"\} 3\n/);
  assert.deepEqual(await read(), { 'POST /v1/messages 200': 3, 'POST /v1/messages 400': 3, 'GET /v1/models 200': 1 });
});
