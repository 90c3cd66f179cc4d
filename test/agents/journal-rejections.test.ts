// The journal records what a rejected request asked for and what it was sent (issue 15 item 7):
// `stream` as the request asked (its body's `stream`, Ollama's default of streaming, the streaming
// routes of Gemini and Bedrock) even when validation refused the body, and the status and error
// type of the answer, in each provider's own words for the type.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { admin } from '../helpers/admin.ts';
import { eventually, post, startTestServer, type TestServer } from '../helpers/server.ts';
import { journalEntryOf, type JournalRecord } from '../../src/state/journal.ts';

interface Entry {
  seq: number;
  endpoint: string;
  stream: boolean;
  status: number;
  matched: boolean;
  error?: { type: string; message: string } | null;
}

const CONFIG = `rules:
  - id: busy
    match: { prompt: "busy" }
    response: { error: { status: 429 } }
defaults:
  unknown_response: "ok"
`;
const ANTHROPIC = { 'anthropic-version': '2023-06-01' };

describe('the journal entry of a rejected request', () => {
  let server: TestServer;
  let seen = 0;
  before(async () => {
    server = await startTestServer(CONFIG, { strict: true });
  });
  after(() => server.stop());

  /** Sends one request and returns its journal entry (the newest one after the last seen). */
  async function journaled(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Entry> {
    const response = typeof body === 'string'
      ? await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
      : await post(`${server.url}${path}`, body, headers);
    await response.arrayBuffer();
    // The journal is written when the response has gone: poll for the newest entry after the last one seen.
    const entry = (await eventually(async (): Promise<Entry | false> => {
      const { body: listed } = await admin<{ requests: Entry[] }>(server, 'GET', `/admin/requests?after=${seen}`);
      return listed.requests[0] ?? false;
    }, { what: `the journal entry of ${path}` })) as Entry;
    seen = entry.seq;
    assert.equal(entry.status, response.status);
    return entry;
  }

  const cases: { what: string; path: string; body: unknown; headers?: Record<string, string>; stream: boolean; status: number; type: string }[] = [
    { what: 'OpenAI chat, stream: true, an unknown field', path: '/v1/chat/completions', body: { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }], bogus: 1 }, stream: true, status: 400, type: 'invalid_request_error' },
    { what: 'OpenAI chat, no stream, an unknown field', path: '/v1/chat/completions', body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], bogus: 1 }, stream: false, status: 400, type: 'invalid_request_error' },
    { what: 'OpenAI Responses, stream: true, an unknown field', path: '/v1/responses', body: { model: 'gpt-4o', stream: true, input: 'hi', bogus: 1 }, stream: true, status: 400, type: 'invalid_request_error' },
    { what: 'Anthropic, stream: true, no max_tokens', path: '/v1/messages', body: { model: 'claude-sonnet-5-5', stream: true, messages: [{ role: 'user', content: 'hi' }] }, headers: ANTHROPIC, stream: true, status: 400, type: 'invalid_request_error' },
    { what: 'Anthropic, stream: false, no max_tokens', path: '/v1/messages', body: { model: 'claude-sonnet-5-5', stream: false, messages: [{ role: 'user', content: 'hi' }] }, headers: ANTHROPIC, stream: false, status: 400, type: 'invalid_request_error' },
    { what: 'Anthropic, stream: true, a rule answering 429', path: '/v1/messages', body: { model: 'claude-sonnet-5-5', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'busy' }] }, headers: ANTHROPIC, stream: true, status: 429, type: 'rate_limit_error' },
    { what: 'Gemini streamGenerateContent, contents not a list', path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', body: { contents: 'nope' }, stream: true, status: 400, type: 'INVALID_ARGUMENT' },
    { what: 'Gemini generateContent, contents not a list', path: '/v1beta/models/gemini-2.5-flash:generateContent', body: { contents: 'nope' }, stream: false, status: 400, type: 'INVALID_ARGUMENT' },
    { what: 'Bedrock converse-stream, messages not a list', path: '/model/anthropic.claude-3-haiku-20240307-v1:0/converse-stream', body: { messages: 'nope' }, stream: true, status: 400, type: 'ValidationException' },
    { what: 'Bedrock converse, messages not a list', path: '/model/anthropic.claude-3-haiku-20240307-v1:0/converse', body: { messages: 'nope' }, stream: false, status: 400, type: 'ValidationException' },
    { what: 'Ollama chat with no stream field (Ollama streams by default), messages not a list', path: '/api/chat', body: { model: 'llama3', messages: 'nope' }, stream: true, status: 400, type: '400' },
    { what: 'Ollama chat, stream: false, messages not a list', path: '/api/chat', body: { model: 'llama3', stream: false, messages: 'nope' }, stream: false, status: 400, type: '400' },
    { what: 'a body that is not JSON (nothing says it asked for a stream)', path: '/v1/chat/completions', body: '{"stream": true,', stream: false, status: 400, type: 'invalid_request_error' },
  ];
  for (const c of cases) {
    test(`${c.what}: stream ${c.stream}, status ${c.status}, error type ${c.type}`, async () => {
      const entry = await journaled(c.path, c.body, c.headers);
      assert.deepEqual({ stream: entry.stream, status: entry.status, type: entry.error?.type }, { stream: c.stream, status: c.status, type: c.type });
      // Refused before any rule was asked, except the one a rule answered with its error.
      assert.equal(entry.matched, c.status === 429);
      assert.ok(entry.error && entry.error.message.length > 0, 'the error message that was sent');
    });
  }
});

test('the entry a shared (Redis) journal stores carries the same stream, status and error', () => {
  // The Redis journal serialises journalEntryOf's entry (src/state/redis/journal.ts).
  const record: JournalRecord = {
    at: 0, method: 'POST', provider: 'anthropic', endpoint: '/v1/messages', model: 'claude-sonnet-5-5', prompt: null,
    stream: true, status: 400, matched: false, ruleId: null, step: null, durationMs: 1,
    error: { errorType: 'invalid_request_error', errorMessage: 'max_tokens: Field required' },
    headers: {}, body: { stream: true }, bodyBytes: 16,
  };
  const entry = JSON.parse(JSON.stringify(journalEntryOf(7, record))) as Entry;
  assert.deepEqual({ stream: entry.stream, status: entry.status, error: entry.error }, { stream: true, status: 400, error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
});
