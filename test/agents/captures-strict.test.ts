// Strict mode accepts what first-party agents send (issue 15 item 6): the request bodies Claude Code
// and Codex CLI really sent (test/agents/captures/) pass `--strict` unchanged, and the same bodies
// with one thing the real API refuses are still refused, in the provider's own error shape.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { ALL_CAPTURES, capture, replay, streamedText } from './support.ts';

const CONFIG = `responses:
  "ping": "pong"
defaults:
  unknown_response: "mock answer"
`;

describe('strict mode and the captured agent requests', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(CONFIG, { strict: true });
  });
  after(() => server.stop());

  for (const name of ALL_CAPTURES) {
    test(`every request of ${name} is answered 200 under --strict`, async () => {
      for (const [i, request] of capture(name).entries()) {
        const sent = await replay(server.url, request);
        assert.equal(sent.status, 200, `${name} request ${i}: ${sent.text.slice(0, 300)}`);
        assert.notEqual(streamedText(sent.text), '', `${name} request ${i} streamed no text`);
      }
    });
  }

  const claude = capture('claude-code-ping')[0]!;
  const codex = capture('codex-ping')[0]!;

  test('Claude Code puts a role "system" turn inside messages, which strict mode takes as an instruction', () => {
    assert.ok(claude.body.messages.some((m: { role: string }) => m.role === 'system'), 'the capture no longer shows the case this file is about');
  });

  test('Codex sends client_metadata, a map of strings, which strict mode accepts', () => {
    assert.equal(typeof codex.body.client_metadata, 'object');
    assert.ok(Object.values(codex.body.client_metadata).every((v) => typeof v === 'string'));
  });

  const anthropicRejections: { what: string; edit: (body: Record<string, any>) => void; message: string }[] = [
    { what: 'an unknown top-level field', edit: (b) => (b.bogus = 1), message: 'bogus: Extra inputs are not permitted' },
    { what: 'no max_tokens', edit: (b) => delete b.max_tokens, message: 'max_tokens: Field required' },
    { what: 'a role the API does not have', edit: (b) => (b.messages[1].role = 'developer'), message: "messages.1.role: Input should be 'user' or 'assistant' or 'system'" },
    {
      what: 'an image inside a system turn',
      edit: (b) => (b.messages[1].content = [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }]),
      message: "messages.1.content.0.type: Input should be 'text' or 'tool_addition' or 'tool_removal'",
    },
  ];
  for (const { what, edit, message } of anthropicRejections) {
    test(`the Claude Code request with ${what} is still refused with a 400 invalid_request_error`, async () => {
      const body = structuredClone(claude.body);
      edit(body);
      const sent = await replay(server.url, claude, body);
      assert.equal(sent.status, 400, sent.text);
      const error = JSON.parse(sent.text) as { type: string; error: { type: string; message: string } };
      assert.equal(error.type, 'error');
      assert.deepEqual({ type: error.error.type, message: error.error.message }, { type: 'invalid_request_error', message });
    });
  }

  const openAiRejections: { what: string; edit: (body: Record<string, any>) => void; param: string; code: string; message: RegExp }[] = [
    { what: 'an unknown top-level field', edit: (b) => (b.bogus = 1), param: 'bogus', code: 'unknown_parameter', message: /^Unknown parameter: 'bogus'\.$/ },
    { what: 'client_metadata holding a number', edit: (b) => (b.client_metadata = { turn: 3 }), param: 'client_metadata.turn', code: 'invalid_type', message: /client_metadata\.turn/ },
  ];
  for (const { what, edit, param, code, message } of openAiRejections) {
    test(`the Codex request with ${what} is still refused with a 400 invalid_request_error`, async () => {
      const body = structuredClone(codex.body);
      edit(body);
      const sent = await replay(server.url, codex, body);
      assert.equal(sent.status, 400, sent.text);
      const { error } = JSON.parse(sent.text) as { error: { type: string; message: string; param: string; code: string } };
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.param, param);
      assert.equal(error.code, code);
      assert.match(error.message, message);
    });
  }
});
