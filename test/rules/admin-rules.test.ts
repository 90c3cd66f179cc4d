// The admin API takes the file's full rule form (match conditions, priority, every response kind)
// and the answers it creates reach the SDKs; bad rules are 400s naming the offending field and
// change nothing.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { admin, assertAdminError } from '../admin/support.ts';

const OPENAI_MODEL = 'gpt-4o-mini';
const ANTHROPIC_MODEL = 'claude-sonnet-5-5';

let server: TestServer;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  server = await startTestServer('responses:\n  "hello": "from the file"\ndefaults:\n  unknown_response: "no rule matched"\n');
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-admin-rules', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-admin-rules', maxRetries: 0 });
});

after(async () => {
  await server?.stop();
});

beforeEach(async () => {
  assert.equal((await admin(server, 'POST', '/admin/reset')).status, 204);
});

async function create(body: unknown) {
  const res = await admin(server, 'POST', '/admin/responses', { body });
  assert.equal(res.status, 201, res.text);
  return res.body as { id: string; source: string; match: unknown; response: unknown };
}

describe('the full rule form', () => {
  test('a rule with match conditions, priority and a text object is created, listed back as sent, and answers', async () => {
    const rule = {
      id: 'gpt-weather',
      priority: 3,
      match: { contains: 'weather', model: 'gpt-4*', headers: { 'X-Env': 'ci' } },
      response: { text: 'Admin weather.', finish_reason: 'length', usage: { completion_tokens: 9 }, chunking: 'word' },
    };
    const created = await create(rule);
    assert.deepEqual(created, { id: 'gpt-weather', source: 'admin', match: rule.match, response: rule.response, hits: 0, lastHitAt: null });
    const got = await admin(server, 'GET', '/admin/responses/gpt-weather');
    assert.deepEqual(got.body, created);

    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk', maxRetries: 0, defaultHeaders: { 'x-env': 'ci' } });
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'weather today?' }] });
    assert.equal(completion.choices[0]!.message.content, 'Admin weather.');
    assert.equal(completion.choices[0]!.finish_reason, 'length');
    assert.equal(completion.usage?.completion_tokens, 9);
    const withoutHeader = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'weather today?' }] });
    assert.equal(withoutHeader.choices[0]!.message.content, 'no rule matched');
  });

  test('a tool_calls rule answers both SDKs with the call', async () => {
    await create({ match: { tools: 'get_weather', tool_result: false }, response: { tool_calls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] } });
    const completion = await openai.chat.completions.create({
      model: OPENAI_MODEL,
      messages: [{ role: 'user', content: 'anything' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }],
    });
    const call = completion.choices[0]!.message.tool_calls![0]!;
    assert.ok(call.type === 'function');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Oslo' });
    const message = await anthropic.messages.create({
      model: ANTHROPIC_MODEL,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'anything' }],
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: {} } }],
    });
    assert.equal(message.stop_reason, 'tool_use');
    assert.deepEqual((message.content[0] as Anthropic.ToolUseBlock).input, { city: 'Oslo' });
  });

  test('an error rule makes the SDKs throw with the configured status, type and code', async () => {
    await create({ match: { prompt: 'quota' }, response: { error: { status: 429, type: 'insufficient_quota', code: 'insufficient_quota', message: 'No quota.' } } });
    await assert.rejects(openai.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'quota' }] }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.RateLimitError);
      assert.equal(error.code, 'insufficient_quota');
      assert.equal(error.type, 'insufficient_quota');
      return true;
    });
  });

  test('a sequence rule steps through its answers', async () => {
    await create({ id: 'admin-seq', match: { prompt: 'again' }, response: { sequence: ['one', { text: 'two' }, { error: { status: 500 } }], then: 'loop' } });
    const ask = () => openai.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'again' }] });
    assert.equal((await ask()).choices[0]!.message.content, 'one');
    assert.equal((await ask()).choices[0]!.message.content, 'two');
    await assert.rejects(ask(), OpenAI.InternalServerError);
    assert.equal((await ask()).choices[0]!.message.content, 'one');
  });

  test('PUT replaces a file rule with the full form', async () => {
    const list = await admin(server, 'GET', '/admin/responses');
    const fileRule = (list.body as { responses: { id: string; match: { prompt?: string } }[] }).responses.find((r) => r.match.prompt === 'hello')!;
    const res = await admin(server, 'PUT', `/admin/responses/${fileRule.id}`, { body: { match: { prompt: 'hello' }, response: { text: 'replaced', stop_reason: 'max_tokens' } } });
    assert.equal(res.status, 200, res.text);
    const message = await anthropic.messages.create({ model: ANTHROPIC_MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'hello' }] });
    assert.deepEqual(message.content, [{ type: 'text', text: 'replaced' }]);
    assert.equal(message.stop_reason, 'max_tokens');
  });
});

describe('rejected rules', () => {
  const cases: [what: string, body: unknown, field: string, message: RegExp][] = [
    ['a response that combines error and text', { match: {}, response: { text: 'a', error: { status: 500 } } }, 'response', /cannot combine text and error/],
    ['an invalid regex', { match: { regex: '(unclosed' } , response: 'x' }, 'match.regex', /not a valid regular expression/],
    ['an invalid /pattern/flags regex', { match: { regex: '/a(/i' }, response: 'x' }, 'match.regex', /not a valid regular expression/],
    ['an unknown match condition', { match: { promt: 'hi' }, response: 'x' }, 'match.promt', /not a known key/],
    ['an error status below 400', { match: {}, response: { error: { status: 302 } } }, 'response.error.status', /must be >= 400/],
    ['tool arguments that are a string but not JSON', { match: {}, response: { tool_calls: [{ name: 'f', arguments: '{nope' }] } }, 'response.tool_calls.0.arguments', /not valid JSON/],
    ['tool arguments that hold a JSON array', { match: {}, response: { tool_calls: [{ name: 'f', arguments: '[1]' }] } }, 'response.tool_calls.0.arguments', /must hold a JSON object/],
    ['then without a sequence', { match: {}, response: { text: 'a', then: 'loop' } }, 'response.then', /only applies to a sequence/],
    ['latency on an error', { match: {}, response: { error: { status: 500 }, latency: { ttft_ms: 5 } } }, 'response.latency', /does not apply to an error/],
    ['a sequence inside a sequence', { match: {}, response: { sequence: [{ sequence: ['a'] }] } }, 'response.sequence.0.sequence', /cannot itself be a sequence/],
    ['a response object of no kind', { match: {}, response: { finish_reason: 'stop' } }, 'response', /needs one of text, tool_calls, error or sequence/],
    ['an unknown chunking mode', { match: {}, response: { text: 'a', chunking: 'line' } }, 'response.chunking', /must be one of/],
    ['a model that is not a string or list', { match: { model: 4 }, response: 'x' }, 'match.model', /must be/],
    ['a negative fail_after_chunks', { match: {}, response: { text: 'a', fault: { fail_after_chunks: -1 } } }, 'response.fault.fail_after_chunks', /must be >= 0/],
    ['a rule without a match', { response: 'x' }, 'match', /is required/],
  ];

  for (const [what, body, field, message] of cases) {
    test(`${what} is a 400 naming ${field}, and creates nothing`, async () => {
      const before = await admin(server, 'GET', '/admin/responses');
      const res = await admin(server, 'POST', '/admin/responses', { body });
      const error = assertAdminError(res, 400, 'invalid_body', field);
      assert.match(error.message, message);
      assert.ok(error.message.startsWith(field), `the message starts with the field: ${error.message}`);
      assert.deepEqual((await admin(server, 'GET', '/admin/responses')).body, before.body);
    });
  }
});
