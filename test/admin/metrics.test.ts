// /metrics, read the way Prometheus reads it: parsed as the text exposition format, then compared
// as numbers. Known traffic must move each counter by exactly its amount, and labels must stay
// bounded (route templates, fixed vocabularies: never a raw path, an id or a prompt).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import type Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { withDeadline } from '../helpers/deadline.ts';
import { eventually, post, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  admin,
  ANTHROPIC_MODEL,
  anthropicClient,
  askOpenAI,
  OPENAI_MODEL,
  openaiClient,
  parsePrometheus,
  scrape,
  series,
  value,
  yamlConfig,
  type Exposition,
} from './support.ts';

// Graphemes beyond ASCII: a stream sends one chunk per user-perceived character.
const STREAMED = 'Blue 🌍, mostly — café au lait at dusk! 👩‍👩‍👧';
const CONFIG = yamlConfig({
  responses: { 'what colour is the sky?': STREAMED, 'what is 2+2?': '4.', 'name a fruit': 'Apple.' },
});
const graphemes = (text: string) => [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)].length;

let server: TestServer;
let openai: OpenAI;
let anthropic: Anthropic;
let cpuBeforeStart: NodeJS.CpuUsage;

before(async () => {
  cpuBeforeStart = process.cpuUsage();
  server = await startTestServer(CONFIG);
  openai = openaiClient(server);
  anthropic = anthropicClient(server);
});

after(async () => {
  await server?.stop();
});

const key = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort());

/** Per-series change of one metric family between two scrapes, leaving out series that did not move. */
function deltas(before: Exposition, after: Exposition, name: string): Map<string, number> {
  const was = new Map(series(before, name).map((s) => [key(s.labels), s.value]));
  const moved = new Map<string, number>();
  for (const sample of series(after, name)) {
    const change = sample.value - (was.get(key(sample.labels)) ?? 0);
    if (change !== 0) moved.set(key(sample.labels), change);
  }
  return moved;
}

const expectDeltas = (entries: [Record<string, string>, number][]) => new Map(entries.map(([labels, n]) => [key(labels), n]));

test('the exposition parses as Prometheus text format, with the documented families and types', async () => {
  const metrics = await scrape(server);
  assert.ok(metrics.samples.length > 0);
  for (const [family, type] of [
    ['mockllm_http_requests_total', 'counter'],
    ['mockllm_http_request_duration_seconds', 'histogram'],
    ['mockllm_responses_total', 'counter'],
    ['mockllm_stream_chunks_total', 'counter'],
    ['mockllm_active_streams', 'gauge'],
    ['mockllm_admin_changes_total', 'counter'],
    ['mockllm_config_entries', 'gauge'],
    ['mockllm_config_reloads_total', 'counter'],
    ['mockllm_config_last_reload_success_timestamp_seconds', 'gauge'],
    ['process_cpu_user_seconds_total', 'counter'],
  ] as const) {
    assert.equal(metrics.types.get(family), type, family);
  }
  // Default process and runtime metrics are there, with plausible values.
  // The CPU counters are the process's totals since it started, not since the first scrape: at
  // least what this process (the server runs in it) had used before the server was created.
  const cpuTotal = value(metrics, 'process_cpu_user_seconds_total') + value(metrics, 'process_cpu_system_seconds_total');
  assert.ok(value(metrics, 'process_cpu_user_seconds_total') >= cpuBeforeStart.user / 1e6, `user ${value(metrics, 'process_cpu_user_seconds_total')} s`);
  assert.ok(value(metrics, 'process_cpu_system_seconds_total') >= cpuBeforeStart.system / 1e6);
  assert.ok(Math.abs(value(metrics, 'process_cpu_seconds_total') - cpuTotal) < 1e-3);
  assert.ok(value(metrics, 'process_resident_memory_bytes') > 1024 * 1024);
  assert.ok(series(metrics, 'nodejs_heap_size_used_bytes').length === 1);
  // The last successful load is a Unix time in seconds, around now.
  const loaded = value(metrics, 'mockllm_config_last_reload_success_timestamp_seconds');
  assert.ok(loaded > 0 && Math.abs(loaded - Date.now() / 1000) < 600, String(loaded));
  assert.equal(value(metrics, 'mockllm_config_entries', { source: 'file' }), 3);
  assert.equal(value(metrics, 'mockllm_config_entries', { source: 'admin' }), 0);
});

test('known traffic moves every counter by exactly its amount', async () => {
  await admin(server, 'POST', '/admin/reset');
  const before = await scrape(server);

  for (const prompt of ['what colour is the sky?', 'what is 2+2?', 'name a fruit']) assert.notEqual((await askOpenAI(openai, prompt)).match, 'none');
  for (const prompt of ['unknown one', 'unknown two']) assert.equal((await askOpenAI(openai, prompt)).match, 'none');
  let streamed = '';
  const stream = await anthropic.messages.create({ model: ANTHROPIC_MODEL, max_tokens: 256, stream: true, messages: [{ role: 'user', content: 'what colour is the sky?' }] });
  for await (const event of stream) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') streamed += event.delta.text;
  assert.equal(streamed, STREAMED);
  await assert.rejects(openai.chat.completions.create({ model: OPENAI_MODEL, messages: [] }), OpenAI.BadRequestError);
  const created = await admin(server, 'POST', '/admin/responses', { body: { prompt: 'new', response: 'New.' } });
  assert.equal(created.status, 201);

  const after = await scrape(server);
  assert.deepEqual(
    deltas(before, after, 'mockllm_http_requests_total'),
    expectDeltas([
      [{ method: 'POST', route: '/v1/chat/completions', status: '200' }, 5],
      [{ method: 'POST', route: '/v1/messages', status: '200' }, 1],
      [{ method: 'POST', route: '/v1/chat/completions', status: '400' }, 1],
      [{ method: 'POST', route: '/admin/responses', status: '201' }, 1],
      [{ method: 'GET', route: '/metrics', status: '200' }, 1], // the first scrape; a scrape never counts itself
    ]),
  );
  assert.deepEqual(
    deltas(before, after, 'mockllm_http_request_duration_seconds_count'),
    expectDeltas([
      [{ method: 'POST', route: '/v1/chat/completions' }, 6],
      [{ method: 'POST', route: '/v1/messages' }, 1],
      [{ method: 'POST', route: '/admin/responses' }, 1],
      [{ method: 'GET', route: '/metrics' }, 1],
    ]),
  );
  assert.deepEqual(
    deltas(before, after, 'mockllm_responses_total'),
    expectDeltas([
      [{ provider: 'openai', endpoint: '/v1/chat/completions', matched: 'true' }, 3],
      [{ provider: 'openai', endpoint: '/v1/chat/completions', matched: 'false' }, 2],
      [{ provider: 'anthropic', endpoint: '/v1/messages', matched: 'true' }, 1],
    ]),
  );
  assert.deepEqual(deltas(before, after, 'mockllm_stream_chunks_total'), expectDeltas([[{ provider: 'anthropic' }, graphemes(STREAMED)]]));
  assert.equal(value(after, 'mockllm_active_streams'), 0);
  assert.deepEqual(deltas(before, after, 'mockllm_admin_changes_total'), expectDeltas([[{ operation: 'create' }, 1]]));
  assert.equal(value(after, 'mockllm_config_entries', { source: 'file' }), 3);
  assert.equal(value(after, 'mockllm_config_entries', { source: 'admin' }), 1);
  assert.deepEqual(deltas(before, after, 'mockllm_config_reloads_total'), new Map());

  // Every other admin operation is counted under its own name.
  await admin(server, 'PUT', `/admin/responses/${created.body.id}`, { body: { prompt: 'new', response: 'Newer.' } });
  await admin(server, 'DELETE', `/admin/responses/${created.body.id}`);
  await admin(server, 'DELETE', '/admin/responses');
  await admin(server, 'POST', '/admin/reset');
  await admin(server, 'POST', '/admin/responses', { body: { prompt: 'bad' } }); // rejected: not a change
  const later = await scrape(server);
  assert.deepEqual(
    deltas(after, later, 'mockllm_admin_changes_total'),
    expectDeltas([
      [{ operation: 'replace' }, 1],
      [{ operation: 'delete' }, 1],
      [{ operation: 'reset' }, 2],
    ]),
  );
  assert.equal(value(later, 'mockllm_config_entries', { source: 'admin' }), 0);
});

test('route labels are templates: no raw path, id or prompt ever becomes a label', async () => {
  const PROMPT = 'a very particular prompt zebra-4242';
  const before = await scrape(server);
  assert.equal((await fetch(`${server.url}/v1/does-not-exist-12345`)).status, 404);
  assert.equal((await post(`${server.url}/v1/does-not-exist-12345`, {})).status, 404);
  const created = await admin(server, 'POST', '/admin/responses', { body: { id: 'rule-id-98765', prompt: PROMPT, response: 'Particular.' } });
  assert.equal(created.status, 201);
  assert.equal((await askOpenAI(openai, PROMPT)).match, 'rule-id-98765');
  assert.equal((await admin(server, 'GET', '/admin/responses/rule-id-98765')).status, 200);
  assert.equal((await admin(server, 'PUT', '/admin/responses/rule-id-98765', { body: { prompt: PROMPT, response: 'Still.' } })).status, 200);
  assert.equal((await admin(server, 'GET', '/admin/responses/missing-id-55555')).status, 404);
  assert.equal((await admin(server, 'DELETE', '/admin/responses/rule-id-98765')).status, 204);
  assert.equal((await admin(server, 'GET', '/admin/requests?limit=1')).status, 200);

  const text = await (await fetch(`${server.url}/metrics`)).text();
  const metrics = parsePrometheus(text);
  const labelValues = metrics.samples.flatMap((s) => Object.values(s.labels));
  for (const raw of ['12345', 'does-not-exist', '98765', 'rule-id', '55555', 'zebra', PROMPT]) {
    assert.deepEqual(labelValues.filter((v) => v.includes(raw)), [], `no label contains ${raw}`);
  }
  assert.ok(!text.includes('zebra-4242'), 'the prompt appears nowhere in /metrics');

  const moved = deltas(before, metrics, 'mockllm_http_requests_total');
  const byRoute = (route: string) =>
    [...moved]
      .map(([labels, n]) => [Object.fromEntries(JSON.parse(labels) as [string, string][]), n] as const)
      .filter(([labels]) => labels.route === route)
      .map(([labels, n]) => `${labels.method} ${labels.status} +${n}`)
      .sort();
  assert.deepEqual(byRoute('/admin/responses/:id'), ['DELETE 204 +1', 'GET 200 +1', 'GET 404 +1', 'PUT 200 +1']);
  assert.deepEqual(byRoute('unmatched'), ['GET 404 +1', 'POST 404 +1'], 'unknown paths share one label');
  const routes = new Set(series(metrics, 'mockllm_http_requests_total').map((s) => s.labels.route));
  // A template is made of fixed words, a version (v1) or a :parameter, never of client data.
  for (const route of routes) assert.ok(route === 'unmatched' || /^(\/(v\d+|:?[a-z_]+(-[a-z_]+)*))+$/.test(route!), `route label ${route} is a template`);
});

test('a config reload counts as updated, a broken one as failed, and the success timestamp moves', async () => {
  const before = await scrape(server);
  const loadedBefore = value(before, 'mockllm_config_last_reload_success_timestamp_seconds');
  await writeFile(server.configPath, yamlConfig({ responses: { 'what colour is the sky?': 'Reloaded.', 'one more': 'More.', 'and another': 'Another.', 'and a fourth': '4th.' } }));
  await eventually(async () => (await askOpenAI(openai, 'what colour is the sky?')).text === 'Reloaded.', { what: 'the reloaded answer' });
  const reloaded = await scrape(server);
  assert.deepEqual(deltas(before, reloaded, 'mockllm_config_reloads_total'), expectDeltas([[{ result: 'updated' }, 1]]));
  assert.ok(value(reloaded, 'mockllm_config_last_reload_success_timestamp_seconds') >= loadedBefore);
  assert.ok(value(reloaded, 'mockllm_config_last_reload_success_timestamp_seconds') > 0);
  assert.equal(value(reloaded, 'mockllm_config_entries', { source: 'file' }), 4);

  await writeFile(server.configPath, 'responses: [this is: not a map\n');
  const failed = (await eventually(
    async () => {
      const now = await scrape(server);
      return value(now, 'mockllm_config_reloads_total', { result: 'failed' }) > value(reloaded, 'mockllm_config_reloads_total', { result: 'failed' }) && now;
    },
    { what: 'the failed reload to be counted' },
  )) as Exposition;
  assert.equal(
    value(failed, 'mockllm_config_last_reload_success_timestamp_seconds'),
    value(reloaded, 'mockllm_config_last_reload_success_timestamp_seconds'),
    'a failed reload is not a success',
  );
  assert.equal(value(failed, 'mockllm_config_entries', { source: 'file' }), 4, 'the last good config keeps serving');
  await writeFile(server.configPath, CONFIG);
  await eventually(async () => (await askOpenAI(openai, 'what is 2+2?')).text === '4.', { what: 'the original config back' });
});

test(
  'a request with malformed JSON to a known route is labelled with that route',
  async () => {
    const before = await scrape(server);
    assert.equal((await post(`${server.url}/v1/chat/completions`, '{"model": ')).status, 400);
    const after = await scrape(server);
    assert.deepEqual(
      deltas(before, after, 'mockllm_http_requests_total'),
      expectDeltas([
        [{ method: 'POST', route: '/v1/chat/completions', status: '400' }, 1],
        [{ method: 'GET', route: '/metrics', status: '200' }, 1],
      ]),
    );
  },
);

test(
  'a long streamed answer completes, counts its chunks and leaves no active stream behind',
  async () => {
    const LONG = 'The quick brown fox jumps over the lazy dog. '.repeat(40);
    const created = await admin(server, 'POST', '/admin/responses', { body: { prompt: 'long answer', response: LONG } });
    assert.equal(created.status, 201);
    const before = await scrape(server);
    try {
      const res = await post(`${server.url}/v1/chat/completions`, { model: OPENAI_MODEL, stream: true, messages: [{ role: 'user', content: 'long answer' }] });
      const body = await withDeadline(res.text(), 30_000, 'the stream to finish');
      assert.ok(body.endsWith('data: [DONE]\n\n'));
      const after = await scrape(server);
      assert.deepEqual(deltas(before, after, 'mockllm_stream_chunks_total'), expectDeltas([[{ provider: 'openai' }, LONG.length]]));
      assert.equal(value(after, 'mockllm_active_streams'), 0);
    } finally {
      await admin(server, 'DELETE', `/admin/responses/${created.body.id}`);
    }
  },
);
