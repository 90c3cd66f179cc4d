import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseSse, post, startTestServer, type TestServer } from '../helpers/server.ts';

// Long enough that the stream outgrows the socket's buffers many times over.
const LONG = Array.from({ length: 20_000 }, (_, i) => 'abcdefghij ünï 😀'[i % 17]).join('');
let server: TestServer;

before(async () => {
  server = await startTestServer(`responses:\n  "long": ${JSON.stringify(LONG)}\n`);
});
after(() => server.stop());

test('an OpenAI stream far larger than the socket buffers completes with every character', async () => {
  const res = await post(`${server.url}/v1/chat/completions`, { model: 'm', stream: true, messages: [{ role: 'user', content: 'long' }] });
  const frames = parseSse(await res.text());
  assert.equal(frames.at(-1)!.data, '[DONE]');
  const text = frames
    .slice(0, -1)
    .map((f) => (JSON.parse(f.data) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '')
    .join('');
  assert.equal(text, LONG);
});

test('an Anthropic stream far larger than the socket buffers completes with every character', async () => {
  const res = await post(`${server.url}/v1/messages`, { model: 'c', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'long' }] });
  const frames = parseSse(await res.text());
  assert.equal(frames.at(-1)!.event, 'message_stop');
  const text = frames
    .filter((f) => f.event === 'content_block_delta')
    .map((f) => (JSON.parse(f.data) as { delta: { text: string } }).delta.text)
    .join('');
  assert.equal(text, LONG);
});

test('twenty concurrent long streams all complete', async () => {
  const bodies = await Promise.all(
    Array.from({ length: 20 }, async () => {
      const res = await post(`${server.url}/v1/chat/completions`, { model: 'm', stream: true, messages: [{ role: 'user', content: 'long' }] });
      return res.text();
    }),
  );
  for (const body of bodies) assert.ok(body.endsWith('data: [DONE]\n\n'));
});
