// Run by test/library/package.test.ts from a project that installed the packed tarball: the
// library as a user gets it, through node:test. The process must exit by itself (no handle left).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { ConfigError, createMockLLMHandler, MockLLMError, startMockLLM } from 'mockllm';

/** What keeps this process alive, as a sorted list of resource types. */
const resources = () => process.getActiveResourcesInfo().filter((type) => type !== 'TTYWrap').sort();
// What is active now beyond `before`: the runner's own timers may come and go (one alive at the
// start can be gone at the end), so a leak is a handle the mock added, not any difference.
const added = (before) => {
  const left = [...before];
  return resources().filter((type) => {
    const i = left.indexOf(type);
    if (i === -1) return true;
    left.splice(i, 1);
    return false;
  });
};

async function eventually(check, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const config = {
  responses: { 'what is 2+2?': '4' },
  rules: [{ id: 'greeting', match: { contains: 'hello' }, response: { text: 'Hi there!', chunking: 'word' } }],
  defaults: { unknown_response: 'No idea.' },
};

test('startMockLLM with an inline config, both SDKs, rules at run time, the journal, close()', async () => {
  const before = resources();
  const mock = await startMockLLM({ config });
  assert.match(mock.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(mock.openaiBaseURL, `${mock.url}/v1`);
  assert.equal(mock.anthropicBaseURL, mock.url);

  const openai = new OpenAI({ baseURL: mock.openaiBaseURL, apiKey: 'sk-mock' });
  const anthropic = new Anthropic({ baseURL: mock.anthropicBaseURL, apiKey: 'sk-ant-mock' });
  const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What is 2+2?' }] });
  assert.equal(completion.choices[0].message.content, '4');

  const stream = anthropic.messages.stream({ model: 'claude-sonnet-5-5', max_tokens: 50, messages: [{ role: 'user', content: 'hello you' }] });
  const message = await stream.finalMessage();
  assert.deepEqual(message.content.map((block) => block.text), ['Hi there!']);

  const id = await mock.addRule({ match: { contains: 'weather' }, response: 'Sunny.' });
  assert.match(id, /^admin-/);
  const weather = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'the weather?' }] });
  assert.equal(weather.choices[0].message.content, 'Sunny.');
  await mock.updateRule(id, { match: { contains: 'weather' }, response: 'Rain.' });
  const rain = await anthropic.messages.create({ model: 'claude-sonnet-5-5', max_tokens: 50, messages: [{ role: 'user', content: 'weather now?' }] });
  assert.equal(rain.content[0].text, 'Rain.');
  const unknown = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'something else' }] });
  assert.equal(unknown.choices[0].message.content, 'No idea.');

  const all = await mock.requests();
  // Newest first, as GET /admin/requests lists them.
  assert.deepEqual(all.map((entry) => [entry.provider, entry.endpoint, entry.matched]), [
    ['openai', '/v1/chat/completions', false],
    ['anthropic', '/v1/messages', true],
    ['openai', '/v1/chat/completions', true],
    ['anthropic', '/v1/messages', true],
    ['openai', '/v1/chat/completions', true],
  ]);
  assert.deepEqual(all.slice(0, 4).map((entry) => entry.ruleId), [null, id, id, 'greeting']);
  assert.equal((await mock.requests({ ruleId: id })).length, 2);
  assert.equal((await mock.requests({ unmatched: true })).length, 1);
  assert.equal((await mock.requests({ provider: 'anthropic' })).length, 2);
  assert.equal((await mock.requests({ endpoint: '/v1/messages', ruleId: 'greeting' })).length, 1);
  assert.equal((await mock.requests({ limit: 2 })).length, 2);

  await mock.removeRule(id);
  await assert.rejects(mock.removeRule(id), (error) => error instanceof MockLLMError && error.code === 'not_found' && error.message === `No response with id '${id}'.`);
  await assert.rejects(mock.addRule({ id: 'greeting', prompt: 'x', response: 'y' }), (error) => error instanceof MockLLMError && error.code === 'conflict');
  await assert.rejects(mock.addRule({ prompt: 'x', response: { txt: 'y' } }), (error) => error instanceof MockLLMError && error.code === 'invalid_body' && /response/.test(error.message));
  await mock.reset();
  assert.deepEqual(await mock.requests(), []);

  await Promise.all([mock.close(), mock.close()]);
  await mock.close();
  await eventually(() => added(before).length === 0, `no handle left (before: ${before}; now: ${resources()})`);
});

test('invalid options and configs reject with the CLI messages', async () => {
  await assert.rejects(startMockLLM({ config: { responses: { hi: 42 } } }), (error) => error instanceof ConfigError && error.message.startsWith('invalid config: <inline config>: responses.hi'));
  await assert.rejects(startMockLLM({ port: 70000 }), { message: 'invalid port "70000"' });
  await assert.rejects(startMockLLM({ logLevel: 'loud' }), /^TypeError: invalid log level "loud"/);
  await assert.rejects(startMockLLM({ config: './no/such/file.yml' }), (error) => error instanceof ConfigError && /no such file: .*no\/such\/file\.yml/.test(error.message));
});

test('the default config is the one bundled with the package', async () => {
  const mock = await startMockLLM();
  try {
    const res = await fetch(`${mock.url}/healthz`);
    const health = await res.json();
    assert.equal(res.status, 200);
    assert.match(health.config.path, /node_modules\/mockllm\/config\/responses\.yml$/);
  } finally {
    await mock.close();
  }
});

test('createMockLLMHandler serves from a server the caller owns', async () => {
  const mock = await createMockLLMHandler({ config: { responses: { ping: 'pong' } } });
  const server = createServer(mock.handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const openai = new OpenAI({ baseURL: `http://127.0.0.1:${server.address().port}/v1`, apiKey: 'sk-mock' });
    const answer = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ping' }] });
    assert.equal(answer.choices[0].message.content, 'pong');
    assert.equal((await mock.requests({ ruleId: (await mock.requests())[0].ruleId })).length, 1);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await mock.close();
  }
});
