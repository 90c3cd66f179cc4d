// The key match conditions and precedence steps through real requests: what the provider
// adapters put into the Conversation (headers, system prompts, tools, models, endpoints) must be
// what the rules see. `x-mockllm-match` names the rule that answered. Also `on_unmatched: error`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';

const OPENAI_MODEL = 'gpt-4o-mini';
const ANTHROPIC_MODEL = 'claude-sonnet-5-5';
const UNKNOWN = 'no rule matched';

const CONFIG = `
responses:
  "What is the capital of France?": "Paris (from the responses map)."
rules:
  - id: tenant-acme
    match: {contains: tenant question, headers: {X-Tenant: Acme}}
    response: "Answer for Acme."
  - id: tenant-any
    match: {contains: tenant question}
    response: "Answer for everyone else."
  - id: openai-only
    match: {prompt: which provider?, provider: openai}
    response: "You are talking to the OpenAI shape."
  - id: anthropic-only
    match: {prompt: which provider?, provider: anthropic}
    response: "You are talking to the Anthropic shape."
  - id: messages-endpoint
    match: {prompt: which endpoint?, endpoint: /v1/messages}
    response: "The Messages endpoint."
  - id: chat-endpoint
    match: {prompt: which endpoint?, endpoint: /v1/chat/completions}
    response: "The Chat Completions endpoint."
  - id: gpt-4-family
    match: {prompt: which model?, model: "gpt-4*"}
    response: "A GPT-4 family model."
  - id: claude-one-digit
    match: {prompt: which model?, model: "claude-?-x"}
    response: "A one-digit Claude x."
  - id: pirate-system
    match: {contains: pirate, on: system}
    response: "Arr, the system prompt asked for a pirate."
  - id: weather-tools
    match: {contains: weather, tools: [get_weather, get_time]}
    response: "You offered both tools."
  - id: france-urgent
    priority: 5
    match: {contains: "capital of france", headers: {x-urgent: "yes"}}
    response: "Priority beats the exact prompt."
  - id: normalised
    match: {prompt: "  Multi   Part\\n prompt  "}
    response: "Normalised match."
defaults:
  unknown_response: ${JSON.stringify(UNKNOWN)}
`;

const STRICT_CONFIG = `
rules:
  - id: greeting
    match: {prompt: "hello there, how are you?"}
    response: "Fine."
  - id: weather-in
    match: {contains: "weather in paris"}
    response: "Sunny."
  - id: order-number
    match: {regex: "order #\\\\d+"}
    response: "Shipped."
defaults:
  on_unmatched: error
`;

let server: TestServer;
let strictServer: TestServer;

before(async () => {
  [server, strictServer] = await Promise.all([startTestServer(CONFIG), startTestServer(STRICT_CONFIG)]);
});

after(async () => {
  await Promise.all([server?.stop(), strictServer?.stop()]);
});

interface Asked {
  text: string;
  match: string | null;
}

async function askOpenAI(content: string | OpenAI.ChatCompletionMessageParam[], options: { model?: string; headers?: Record<string, string>; tools?: string[] } = {}): Promise<Asked> {
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-match', maxRetries: 0, defaultHeaders: options.headers });
  const messages = typeof content === 'string' ? [{ role: 'user' as const, content }] : content;
  const tools = options.tools?.map((name) => ({ type: 'function' as const, function: { name, parameters: { type: 'object', properties: {} } } }));
  const { data, response } = await client.chat.completions.create({ model: options.model ?? OPENAI_MODEL, messages, ...(tools && { tools }) }).withResponse();
  return { text: data.choices[0]!.message.content ?? '', match: response.headers.get('x-mockllm-match') };
}

async function askAnthropic(
  content: string | Anthropic.MessageParam[],
  options: { model?: string; headers?: Record<string, string>; system?: Anthropic.MessageCreateParams['system']; tools?: string[] } = {},
): Promise<Asked> {
  const client = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-match', maxRetries: 0, defaultHeaders: options.headers });
  const messages = typeof content === 'string' ? [{ role: 'user' as const, content }] : content;
  const tools = options.tools?.map((name) => ({ name, input_schema: { type: 'object' as const, properties: {} } }));
  const { data, response } = await client.messages
    .create({ model: options.model ?? ANTHROPIC_MODEL, max_tokens: 100, messages, ...(options.system && { system: options.system }), ...(tools && { tools }) })
    .withResponse();
  const text = data.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
  return { text, match: response.headers.get('x-mockllm-match') };
}

describe('match conditions over HTTP', () => {
  test('headers: a header the SDK sends in any case matches the rule\'s name; the value must be exact', async () => {
    assert.equal((await askOpenAI('a tenant question', { headers: { 'x-tenant': 'Acme' } })).match, 'tenant-acme');
    assert.equal((await askAnthropic('a tenant question', { headers: { 'X-TENANT': 'Acme' } })).match, 'tenant-acme');
    assert.equal((await askOpenAI('a tenant question', { headers: { 'x-tenant': 'acme' } })).match, 'tenant-any');
    assert.equal((await askOpenAI('a tenant question')).match, 'tenant-any');
  });

  test('provider: the same prompt gets each provider\'s own rule', async () => {
    assert.deepEqual(await askOpenAI('which provider?'), { text: 'You are talking to the OpenAI shape.', match: 'openai-only' });
    assert.deepEqual(await askAnthropic('which provider?'), { text: 'You are talking to the Anthropic shape.', match: 'anthropic-only' });
  });

  test('endpoint: the route template the request came in on', async () => {
    assert.equal((await askOpenAI('which endpoint?')).match, 'chat-endpoint');
    assert.equal((await askAnthropic('which endpoint?')).match, 'messages-endpoint');
  });

  test('model globs: gpt-4* and claude-?-x against the requested model name', async () => {
    assert.equal((await askOpenAI('which model?', { model: 'gpt-4.1-mini' })).match, 'gpt-4-family');
    assert.equal((await askOpenAI('which model?', { model: 'gpt-5' })).match, 'none');
    assert.equal((await askAnthropic('which model?', { model: 'claude-5-x' })).match, 'claude-one-digit');
    assert.equal((await askAnthropic('which model?', { model: 'claude-sonnet-5-5' })).match, 'none');
  });

  test('on: system reads OpenAI system and developer messages and Anthropic\'s system (string or blocks)', async () => {
    assert.equal((await askOpenAI([{ role: 'system', content: 'Talk like a PIRATE.' }, { role: 'user', content: 'hi' }])).match, 'pirate-system');
    assert.equal((await askOpenAI([{ role: 'developer', content: 'pirate mode' }, { role: 'user', content: 'hi' }])).match, 'pirate-system');
    assert.equal((await askAnthropic('hi', { system: 'Talk like a pirate.' })).match, 'pirate-system');
    assert.equal((await askAnthropic('hi', { system: [{ type: 'text', text: 'Be brief.' }, { type: 'text', text: 'Pirate voice.' }] })).match, 'pirate-system');
    assert.equal((await askOpenAI('a pirate story please')).match, 'none', 'a user message is not the system prompt');
  });

  test('tools: every listed tool must be offered, in each provider\'s tool format', async () => {
    assert.equal((await askOpenAI('weather?', { tools: ['get_time', 'get_weather'] })).match, 'weather-tools');
    assert.equal((await askAnthropic('weather?', { tools: ['get_weather', 'get_time', 'search'] })).match, 'weather-tools');
    assert.equal((await askOpenAI('weather?', { tools: ['get_weather'] })).match, 'none');
    // OpenAI's deprecated `functions` offers tools too, alone or beside `tools`; a nameless entry offers nothing.
    const legacy = async (body: Record<string, unknown>) =>
      (await post(`${server.url}/v1/chat/completions`, { model: OPENAI_MODEL, messages: [{ role: 'user', content: 'weather?' }], ...body })).headers.get('x-mockllm-match');
    assert.equal(await legacy({ functions: [{ name: 'get_weather', parameters: {} }, { name: 'get_time', parameters: {} }] }), 'weather-tools');
    assert.equal(await legacy({ functions: [{ name: 'get_time', parameters: {} }], tools: [{ type: 'function', function: { name: 'get_weather', parameters: {} } }] }), 'weather-tools');
    assert.equal(await legacy({ functions: [{ name: 'get_time', parameters: {} }, { parameters: {} }] }), 'none');
  });

  test('prompt normalisation applies to what the adapters extract: content parts, case and spacing', async () => {
    const parts: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: [{ type: 'text', text: 'MULTI part' }, { type: 'text', text: 'Prompt' }] }];
    assert.equal((await askOpenAI(parts)).match, 'normalised');
    assert.equal((await askAnthropic([{ role: 'user', content: [{ type: 'text', text: 'multi  PART' }, { type: 'text', text: ' prompt' }] }])).match, 'normalised');
  });

  test('the last user message is matched, not an earlier one', async () => {
    const history: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'which provider?' },
      { role: 'assistant', content: 'OpenAI.' },
      { role: 'user', content: 'thanks' },
    ];
    assert.equal((await askOpenAI(history)).match, 'none');
  });
});

describe('precedence over HTTP', () => {
  test('a priority rule beats the responses map\'s exact prompt; without its header the map answers', async () => {
    assert.equal((await askOpenAI('What is the capital of France?', { headers: { 'x-urgent': 'yes' } })).text, 'Priority beats the exact prompt.');
    assert.equal((await askOpenAI('what is the capital of france?')).text, 'Paris (from the responses map).');
  });

  test('a rule created through the admin API beats a more specific file rule at equal priority, until it is deleted', async () => {
    const created = await post(`${server.url}/admin/responses`, { id: 'admin-tenant', match: { contains: 'tenant' }, response: 'From the admin API.' });
    assert.equal(created.status, 201, await created.clone().text());
    try {
      assert.deepEqual(await askOpenAI('a tenant question', { headers: { 'x-tenant': 'Acme' } }), { text: 'From the admin API.', match: 'admin-tenant' });
      // The file's priority rule still outranks it.
      assert.equal((await askOpenAI('tenant: what is the capital of France?', { headers: { 'x-urgent': 'yes' } })).match, 'france-urgent');
    } finally {
      const deleted = await fetch(`${server.url}/admin/responses/admin-tenant`, { method: 'DELETE' });
      assert.equal(deleted.status, 204);
    }
    assert.equal((await askOpenAI('a tenant question', { headers: { 'x-tenant': 'Acme' } })).match, 'tenant-acme');
  });
});

describe('defaults.on_unmatched: error', () => {
  test('an unmatched OpenAI request is a 404 NotFoundError naming the closest rule ids', async () => {
    const client = new OpenAI({ baseURL: `${strictServer.url}/v1`, apiKey: 'sk-match', maxRetries: 0 });
    const error = await client.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'what is the weather in Lyon?' }] }).then(
      () => assert.fail('expected a 404'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof OpenAI.NotFoundError, `got ${String(error)}`);
    assert.equal(error.status, 404);
    assert.equal(error.code, 'mock_rule_not_found');
    assert.equal(error.type, 'invalid_request_error');
    assert.match(error.message, /what is the weather in Lyon\?/);
    assert.match(error.message, /Closest rules: weather-in \(/, 'the nearest rule comes first');
    for (const id of ['greeting', 'order-number']) assert.match(error.message, new RegExp(`\\b${id}\\b`));
  });

  test('an unmatched Anthropic request is a 404 not_found_error naming the closest rule ids', async () => {
    const res = await post(
      `${strictServer.url}/v1/messages`,
      { model: ANTHROPIC_MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hello there, how are you doing?' }] },
      { 'anthropic-version': '2023-06-01' },
    );
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('x-mockllm-match'), 'none');
    const body = (await res.json()) as { type: string; error: { type: string; message: string }; request_id: string };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'not_found_error');
    assert.match(body.error.message, /Closest rules: greeting \(/);
    assert.match(body.request_id, /^req_/);
  });

  test('an unmatched stream request gets the 404 before any SSE', async () => {
    const res = await post(`${strictServer.url}/v1/chat/completions`, { model: OPENAI_MODEL, stream: true, messages: [{ role: 'user', content: 'nothing like any rule' }] });
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  });

  test('matched requests are answered as usual', async () => {
    const res = await post(`${strictServer.url}/v1/chat/completions`, { model: OPENAI_MODEL, messages: [{ role: 'user', content: 'Where is order #42?' }] });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-mockllm-match'), 'order-number');
  });
});
