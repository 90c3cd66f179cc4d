// The journal says what was answered: the text and tool calls sent, the finish reason, and for a
// stream how it went; an error says what was sent instead.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';
import { admin } from './support.ts';
import type { JournalEntry } from '../../src/state/journal.ts';

let server: TestServer;

before(async () => {
  server = await startTestServer(`rules:
  - id: tool
    match: {prompt: call it}
    response: {tool_calls: [{name: get_weather, id: call_fixed, arguments: {city: Oslo}}]}
  - id: cut
    match: {prompt: cut short}
    response: {text: "abcdef", fault: {fail_after_chunks: 2}}
  - id: limited
    match: {prompt: limited}
    response: {error: {status: 429, message: "Slow down."}}
defaults:
  unknown_response: "Nothing matched."
`);
});

after(async () => {
  await server?.stop();
});

const newest = async (): Promise<JournalEntry> => ((await admin(server, 'GET', '/admin/requests?limit=1')).body as { requests: JournalEntry[] }).requests[0]!;
const chat = (content: string, stream = false) => post(`${server.url}/v1/chat/completions`, { model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content }] });

test('a text answer is journaled with the text sent and its finish reason', async () => {
  await (await chat('hello?')).json();
  assert.deepEqual((await newest()).answered, { text: 'Nothing matched.', toolCalls: [], finishReason: 'stop' });
});

test('tool calls are journaled with their names, arguments and ids', async () => {
  await (await chat('call it')).json();
  assert.deepEqual((await newest()).answered, {
    text: null,
    toolCalls: [{ name: 'get_weather', arguments: '{"city":"Oslo"}', id: 'call_fixed' }],
    finishReason: 'tool_calls',
  });
});

test('a stream is journaled with how it went: a fault after two chunks is a failed stream of two chunks', async () => {
  await (await chat('cut short', true)).text();
  const entry = await newest();
  assert.equal(entry.answered?.text, 'abcdef');
  assert.deepEqual(entry.answered?.stream, { outcome: 'failed', contentChunks: 2 });
});

test('an error answer has no answered summary but the error that was sent', async () => {
  assert.equal((await chat('limited')).status, 429);
  const entry = await newest();
  assert.equal(entry.answered, null);
  assert.deepEqual(entry.error, { type: 'requests', message: 'Slow down.' }, 'OpenAI names a 429 of this kind requests');
});

test('every provider\'s key header is redacted in the journal: Azure api-key, Gemini x-goog-api-key, AWS session tokens', async () => {
  await post(`${server.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'keys' }] }, {
    'api-key': 'azure-secret-value',
    'x-goog-api-key': 'AIzaSyFakeFakeFakeFakeFakeFakeFakeFake',
    'x-amz-security-token': 'aws-session-token-value',
    'x-request-id': 'visible-request-id',
  });
  const { request } = await newest();
  assert.equal(request.headers['api-key'], '[REDACTED]');
  assert.equal(request.headers['x-goog-api-key'], '[REDACTED]');
  assert.equal(request.headers['x-amz-security-token'], '[REDACTED]');
  assert.equal(request.headers['x-request-id'], 'visible-request-id', 'other headers are kept');
});
