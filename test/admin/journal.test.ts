// GET /admin/requests: what the request journal records, how it filters, what it never keeps
// (credentials), how it stays bounded, and what it costs in memory at its bound.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { MAX_JOURNAL_PROMPT_CHARS } from '../../src/state/journal.ts';
import { collectGarbage } from '../helpers/gc.ts';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';
import { admin, ANTHROPIC_MODEL, assertAdminError, listRules, OPENAI_MODEL, yamlConfig } from './support.ts';
import type { JournalEntry } from '../../src/state/journal.ts';

type Entry = JournalEntry;
interface JournalPage {
  requests: Entry[];
  size: number;
  capacity: number;
}

const SKY = 'what colour is the sky?';
const SKY_ANSWER = 'Blue, says the file.';

let server: TestServer;
let skyId: string;

async function journal(query = ''): Promise<JournalPage> {
  const res = await admin<JournalPage>(server, 'GET', `/admin/requests${query}`);
  assert.equal(res.status, 200, res.text);
  return res.body;
}

const chat = (content: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  post(`${server.url}/v1/chat/completions`, { model: OPENAI_MODEL, messages: [{ role: 'user', content }], ...extra }, headers);

before(async () => {
  server = await startTestServer(yamlConfig({ responses: { [SKY]: SKY_ANSWER } }));
  skyId = (await listRules(server))[0]!.id;
});

after(async () => {
  await server?.stop();
});

beforeEach(async () => {
  assert.equal((await admin(server, 'DELETE', '/admin/requests')).status, 204);
});

test('each provider request is recorded with provider, endpoint, model, normalised prompt, stream flag, status, match and body, newest first', async () => {
  const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-journal', maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-journal', maxRetries: 0 });
  await openai.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: '  What  Colour is the SKY? ' }] });
  const stream = await anthropic.messages.create({ model: ANTHROPIC_MODEL, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Tell me a Secret' }] });
  for await (const _event of stream);
  const failed = await chat('ignored', { messages: undefined, model: 'gpt-4.1' });
  assert.equal(failed.status, 400);

  const page = await journal();
  assert.equal(page.size, 3);
  assert.equal(page.capacity, 1000);
  const [bad, streamed, matched] = page.requests;
  assert.ok(bad && streamed && matched);
  assert.ok(bad.seq > streamed.seq && streamed.seq > matched.seq, 'newest first');

  // The documented fields (an entry may carry more, as response kinds grow).
  const { method, provider, endpoint, model, prompt, stream: isStream, status, matched: hit, ruleId } = matched;
  assert.deepEqual(
    { method, provider, endpoint, model, prompt, stream: isStream, status, matched: hit, ruleId, body: matched.request.body, bodyOmitted: matched.request.bodyOmitted },
    {
      method: 'POST',
      provider: 'openai',
      endpoint: '/v1/chat/completions',
      model: OPENAI_MODEL,
      prompt: SKY,
      stream: false,
      status: 200,
      matched: true,
      ruleId: skyId,
      body: { model: OPENAI_MODEL, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: '  What  Colour is the SKY? ' }] },
      bodyOmitted: undefined,
    },
  );
  assert.equal(matched.promptTruncated, undefined);
  assert.ok(!Number.isNaN(Date.parse(matched.time)));
  assert.ok(matched.durationMs >= 0);
  assert.equal(matched.request.headers['content-type'], 'application/json');

  assert.equal(streamed.provider, 'anthropic');
  assert.equal(streamed.endpoint, '/v1/messages');
  assert.equal(streamed.model, ANTHROPIC_MODEL);
  assert.equal(streamed.prompt, 'tell me a secret');
  assert.equal(streamed.stream, true);
  assert.equal(streamed.status, 200);
  assert.equal(streamed.matched, false);
  assert.equal(streamed.ruleId, null, 'an unmatched request has ruleId null');

  // A rejected request is recorded too, with its status and the body as sent.
  assert.equal(bad.provider, 'openai');
  assert.equal(bad.endpoint, '/v1/chat/completions');
  assert.equal(bad.status, 400);
  assert.equal(bad.model, 'gpt-4.1');
  assert.equal(bad.matched, false);
  assert.equal(bad.ruleId, null);
  assert.deepEqual(bad.request.body, { model: 'gpt-4.1' });
});

test('requests to unknown paths are recorded with their status and the path as requested', async () => {
  const res = await fetch(`${server.url}/v1/does-not-exist?x=1`);
  assert.equal(res.status, 404);
  const [entry] = (await journal()).requests;
  assert.equal(entry?.status, 404);
  assert.equal(entry?.method, 'GET');
  assert.equal(entry?.endpoint, '/v1/does-not-exist');
  assert.equal(entry?.matched, false);
});

test('a request with malformed JSON is recorded with status 400 and attributed to its provider', async () => {
  const malformed = await post(`${server.url}/v1/chat/completions`, '{"model": "gpt-4o-mini", "messages": [');
  assert.equal(malformed.status, 400);
  const [entry] = (await journal()).requests;
  assert.equal(entry?.status, 400);
  assert.equal(entry?.endpoint, '/v1/chat/completions');
  assert.equal(entry?.provider, 'openai');
});

test('filters: provider, model, endpoint, matched, limit and after', async () => {
  const anthropic = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-journal', maxRetries: 0 });
  assert.equal((await chat(SKY)).status, 200); // openai, matched
  assert.equal((await chat('unknown one', { model: 'gpt-4.1' })).status, 200); // openai, unmatched
  await anthropic.messages.create({ model: ANTHROPIC_MODEL, max_tokens: 64, messages: [{ role: 'user', content: SKY }] }); // anthropic, matched
  assert.equal((await chat('unknown two')).status, 200); // openai, unmatched
  const all = (await journal()).requests;
  assert.equal(all.length, 4);
  const prompts = (page: JournalPage) => page.requests.map((r) => r.prompt);

  assert.deepEqual(prompts(await journal('?provider=openai')), ['unknown two', 'unknown one', SKY]);
  assert.deepEqual(prompts(await journal('?provider=anthropic')), [SKY]);
  assert.deepEqual(prompts(await journal('?model=gpt-4.1')), ['unknown one']);
  assert.deepEqual(prompts(await journal(`?model=${ANTHROPIC_MODEL}`)), [SKY]);
  assert.deepEqual(prompts(await journal('?endpoint=/v1/messages')), [SKY]);
  assert.deepEqual(prompts(await journal('?matched=false')), ['unknown two', 'unknown one']);
  assert.deepEqual(prompts(await journal('?matched=true')), [SKY, SKY]);
  assert.deepEqual(prompts(await journal('?limit=2')), ['unknown two', SKY]);
  assert.deepEqual(prompts(await journal('?limit=0')), []);
  assert.deepEqual(prompts(await journal(`?after=${all[2]!.seq}`)), ['unknown two', SKY]);
  assert.deepEqual(prompts(await journal(`?after=${all[0]!.seq}`)), []);
  assert.deepEqual(prompts(await journal('?provider=openai&matched=false&limit=1')), ['unknown two']);
  assert.deepEqual(prompts(await journal('?provider=nobody')), []);
  // The unfiltered totals stay the journal's, whatever the filter.
  const filtered = await journal('?provider=anthropic');
  assert.equal(filtered.size, 4);
});

test('bad filter values are 400 invalid_query naming the parameter', async () => {
  for (const [query, field] of [
    ['?limit=-1', 'limit'],
    ['?limit=ten', 'limit'],
    ['?limit=1.5', 'limit'],
    ['?after=x', 'after'],
    ['?matched=yes', 'matched'],
    ['?matched=', 'matched'],
    ['?provider=openai&provider=anthropic', 'provider'],
    ['?limit=1&limit=2', 'limit'],
  ]) {
    assertAdminError(await admin(server, 'GET', `/admin/requests${query}`), 400, 'invalid_query', field);
  }
});

test('DELETE /admin/requests empties the journal; recording carries on, with sequence numbers still increasing', async () => {
  assert.equal((await chat('before the clear')).status, 200);
  const before = (await journal()).requests[0]!.seq;
  const res = await admin(server, 'DELETE', '/admin/requests');
  assert.equal(res.status, 204);
  assert.deepEqual(await journal(), { requests: [], size: 0, capacity: 1000 });
  assert.equal((await chat('after the clear')).status, 200);
  const page = await journal();
  assert.deepEqual(page.requests.map((r) => r.prompt), ['after the clear']);
  assert.ok(page.requests[0]!.seq > before, 'a client polling with ?after= never misses a request because of a clear');
  // The rules were not touched by clearing the journal.
  assert.equal(((await (await chat(SKY)).json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content, SKY_ANSWER);
});

test('credentials never reach the journal output or the server logs', async () => {
  const secrets = ['sk-SECRET-1', 'sk-SECRET-2', 'session=sk-SECRET-3', 'sk-SECRET-4'];
  const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-SECRET-1', maxRetries: 0, defaultHeaders: { cookie: 'session=sk-SECRET-3' } });
  const anthropic = new Anthropic({ baseURL: server.url, apiKey: 'sk-SECRET-2', maxRetries: 0, defaultHeaders: { cookie: 'session=sk-SECRET-3' } });
  await openai.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: SKY }] });
  const stream = await openai.chat.completions.create({ model: OPENAI_MODEL, stream: true, messages: [{ role: 'user', content: 'x' }] });
  for await (const _chunk of stream);
  await anthropic.messages.create({ model: ANTHROPIC_MODEL, max_tokens: 64, messages: [{ role: 'user', content: SKY }] });
  await assert.rejects(openai.chat.completions.create({ model: OPENAI_MODEL, messages: [] }), OpenAI.BadRequestError);
  await assert.rejects(anthropic.messages.create({ model: ANTHROPIC_MODEL, max_tokens: 64, messages: [] }), Anthropic.BadRequestError);
  const all = {
    authorization: 'Bearer sk-SECRET-1',
    'x-api-key': 'sk-SECRET-2',
    cookie: 'session=sk-SECRET-3',
    'proxy-authorization': 'Basic sk-SECRET-4',
  };
  assert.equal((await chat(SKY, {}, all)).status, 200);
  assert.equal((await post(`${server.url}/v1/chat/completions`, '{broken', all)).status, 400);
  assert.equal((await fetch(`${server.url}/v1/nowhere`, { headers: all })).status, 404);
  assert.equal((await fetch(`${server.url}/healthz`, { headers: all })).status, 200);

  const page = await journal();
  assert.equal(page.size, 8);
  const output = JSON.stringify(page);
  for (const secret of secrets) assert.ok(!output.includes(secret), `${secret} appears in GET /admin/requests`);
  for (const entry of page.requests) {
    for (const name of ['authorization', 'x-api-key', 'cookie', 'proxy-authorization']) {
      if (name in entry.request.headers) assert.equal(entry.request.headers[name], '[REDACTED]', `${name} of request ${entry.seq}`);
    }
  }
  assert.ok(page.requests.some((r) => 'x-api-key' in r.request.headers) && page.requests.some((r) => 'cookie' in r.request.headers), 'the headers are listed, only their values hidden');
  const logs = server.logText();
  assert.ok(logs.length > 0);
  for (const secret of ['SECRET-1', 'SECRET-2', 'SECRET-3', 'SECRET-4']) assert.ok(!logs.includes(secret), `${secret} appears in the server log`);
});

test('a body over 64 KB is summarised by its size, and a prompt over the bound is cut, with its length', async () => {
  const big = 'z'.repeat(70 * 1024);
  assert.equal((await chat(big)).status, 200);
  const [entry] = (await journal()).requests;
  assert.equal(entry?.request.body, null);
  assert.ok(entry?.request.bodyOmitted && entry.request.bodyOmitted.bytes > 70 * 1024, JSON.stringify(entry?.request.bodyOmitted));
  assert.equal(entry?.prompt, big.slice(0, MAX_JOURNAL_PROMPT_CHARS), 'the start of the prompt is still recorded');
  assert.deepEqual(entry?.promptTruncated, { chars: big.length });

  // A cut never splits a surrogate pair.
  const emoji = 'a' + '😀'.repeat(MAX_JOURNAL_PROMPT_CHARS);
  assert.equal((await chat(emoji)).status, 200);
  const [cut] = (await journal()).requests;
  assert.ok(cut?.prompt && cut.prompt.length <= MAX_JOURNAL_PROMPT_CHARS && emoji.startsWith(cut.prompt));
  assert.equal(cut.prompt.isWellFormed(), true);
  assert.deepEqual(cut.promptTruncated, { chars: emoji.length });

  // A prompt within the bound is kept whole, with no truncation marker.
  const fits = 'w'.repeat(MAX_JOURNAL_PROMPT_CHARS);
  assert.equal((await chat(fits)).status, 200);
  const [whole] = (await journal()).requests;
  assert.equal(whole?.prompt, fits);
  assert.equal(whole && 'promptTruncated' in whole, false);
});

test('the journal keeps exactly its configured number of requests, the newest ones', async () => {
  const small = await startTestServer(yamlConfig({ responses: { [SKY]: SKY_ANSWER }, settings: ['journal_size: 5'] }));
  try {
    for (let i = 0; i < 12; i++) {
      const res = await post(`${small.url}/v1/chat/completions`, { model: OPENAI_MODEL, messages: [{ role: 'user', content: `request ${i}` }] });
      assert.equal(res.status, 200);
    }
    const page = await admin<JournalPage>(small, 'GET', '/admin/requests');
    assert.equal(page.body.size, 5);
    assert.equal(page.body.capacity, 5);
    assert.deepEqual(
      page.body.requests.map((r) => r.prompt),
      ['request 11', 'request 10', 'request 9', 'request 8', 'request 7'],
    );
    assert.deepEqual(page.body.requests.map((r) => r.seq), [12, 11, 10, 9, 8]);
    assert.deepEqual((await admin<JournalPage>(small, 'GET', '/admin/requests?limit=100')).body.requests.length, 5);
  } finally {
    await small.stop();
  }
});

test('the journal at its bound of 1000 requests with 4 KB bodies holds a bounded amount of memory per entry, and does not grow past it', { timeout: 300_000 }, async () => {
  // A real gc before each reading (test/helpers/gc.ts), so the figures are firm enough to assert on.
  const heap = () => {
    collectGarbage();
    return process.memoryUsage();
  };
  const body = (i: number) => ({ model: OPENAI_MODEL, messages: [{ role: 'user', content: `request ${i} ${'y'.repeat(4096)}` }] });
  const fill = async (from: number, count: number) => {
    let next = from;
    const worker = async () => {
      while (next < from + count) {
        const res = await post(`${server.url}/v1/chat/completions`, body(next++));
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  };
  // Warm up the request path, so the first measurement does not count code and caches.
  await fill(0, 200);
  await admin(server, 'DELETE', '/admin/requests');
  const empty = heap();
  await fill(200, 1000);
  const full = heap();
  assert.equal((await journal('?limit=1')).size, 1000);
  await fill(1200, 1000);
  const overfull = heap();
  const page = await journal('?limit=1');
  assert.equal(page.size, 1000, 'still exactly at the bound after 2000 requests');
  assert.equal(page.requests[0]!.prompt, `request 2199 ${'y'.repeat(4096)}`);

  // Large prompts (1 MB each, bodies summarised) replacing small entries cost no more than the bound.
  let large = 0;
  while (large < 50) {
    const res = await post(`${server.url}/v1/chat/completions`, { model: OPENAI_MODEL, messages: [{ role: 'user', content: `${large++} ${'L'.repeat(1024 * 1024)}` }] });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  }
  const withLarge = heap();
  assert.equal((await journal('?limit=1')).requests[0]!.promptTruncated?.chars, 1024 * 1024 + 3);

  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const perEntry = (full.heapUsed - empty.heapUsed) / 1000;
  console.log(
    'journal memory (after gc): ' +
      `heapUsed empty ${mb(empty.heapUsed)} → 1000 entries ${mb(full.heapUsed)} (Δ ${mb(full.heapUsed - empty.heapUsed)}, ~${(perEntry / 1024).toFixed(1)} KB/entry) ` +
      `→ after 1000 more ${mb(overfull.heapUsed)} (Δ ${mb(overfull.heapUsed - full.heapUsed)}) ` +
      `→ after 50 × 1 MB prompts ${mb(withLarge.heapUsed)} (Δ ${mb(withLarge.heapUsed - overfull.heapUsed)}); ` +
      `rss ${mb(empty.rss)} → ${mb(full.rss)} → ${mb(overfull.rss)} → ${mb(withLarge.rss)}`,
  );
  // A full ring costs a bounded amount per entry, 1000 more requests cost nothing lasting, and
  // 50 prompts of 1 MB (50 MB if kept whole) cost far less than that.
  assert.ok(perEntry < 64 * 1024, `${perEntry} bytes per entry`);
  assert.ok(overfull.heapUsed - full.heapUsed < 0.25 * (full.heapUsed - empty.heapUsed) + 2 * 1024 * 1024, 'no growth past the bound');
  assert.ok(withLarge.heapUsed - overfull.heapUsed < 20 * 1024 * 1024, 'large prompts are not kept whole');
});
