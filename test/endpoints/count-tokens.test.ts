// POST /v1/messages/count_tokens: {"input_tokens": N} with N exactly the usage.input_tokens that
// /v1/messages reports for the same request (the same estimate, or the figure the answering rule
// fixes, without advancing a sequence), through @anthropic-ai/sdk, the AI SDK and plain fetch.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { generateText } from 'ai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';

const MODEL = 'claude-sonnet-5-5';

const CONFIG = `
responses:
  hi: "Hello from Claude."
rules:
  - id: fixed-usage
    match: {prompt: "fixed usage"}
    response: {text: "counted by the rule", usage: {input_tokens: 4242, output_tokens: 7}}
  - id: stepped
    match: {prompt: "stepped usage"}
    response:
      sequence:
        - {text: "first", usage: {input_tokens: 100}}
        - {text: "second", usage: {input_tokens: 200}}
  - id: tool-call
    match: {contains: "weather", tool_result: false}
    response: {tool_calls: [{name: get_weather, arguments: {city: Paris}}]}
  - id: tool-answer
    match: {tool_result: get_weather}
    response: "Sunny."
`;

let server: TestServer;
let strictServer: TestServer;
let client: Anthropic;
let strictClient: Anthropic;

before(async () => {
  server = await startTestServer(CONFIG);
  strictServer = await startTestServer(`${CONFIG}settings:\n  strict: true\n`);
  client = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-test', maxRetries: 0 });
  strictClient = new Anthropic({ baseURL: strictServer.url, apiKey: 'sk-ant-test', maxRetries: 0 });
});

after(async () => {
  await Promise.all([server?.stop(), strictServer?.stop()]);
});

type CountParams = Anthropic.Messages.MessageCountTokensParams;

const TOOLS: Anthropic.Messages.Tool[] = [
  { name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
];

const REQUESTS: [string, CountParams][] = [
  ['one user turn', { model: MODEL, messages: [{ role: 'user', content: 'hi' }] }],
  ['a system string', { model: MODEL, system: 'You are a terse assistant who answers in one word.', messages: [{ role: 'user', content: 'hi' }] }],
  [
    'system blocks and content blocks',
    {
      model: MODEL,
      system: [{ type: 'text', text: 'Part one of the system prompt.' }, { type: 'text', text: 'Part two.' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'first block' }, { type: 'text', text: 'second block' }] }],
    },
  ],
  [
    'several turns',
    {
      model: MODEL,
      messages: [
        { role: 'user', content: 'What is the capital of France? Please explain the history too.' },
        { role: 'assistant', content: 'Paris. It has been the capital since the 10th century, with interruptions.' },
        { role: 'user', content: 'And of Germany?' },
      ],
    },
  ],
  [
    'a tool loop with tools offered',
    {
      model: MODEL,
      tools: TOOLS,
      messages: [
        { role: 'user', content: 'what is the weather in Paris?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01abc', name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01abc', content: '{"temp": 21}' }] },
      ],
    },
  ],
  ['a rule that fixes usage', { model: MODEL, messages: [{ role: 'user', content: 'fixed usage' }] }],
];

describe('messages.countTokens equals usage.input_tokens of the same request', () => {
  for (const [name, params] of REQUESTS) {
    test(name, async () => {
      const counted = await client.messages.countTokens(params);
      assert.deepEqual(Object.keys(counted), ['input_tokens']);
      assert.ok(Number.isInteger(counted.input_tokens) && counted.input_tokens > 0);
      const message = await client.messages.create({ ...(params as Anthropic.Messages.MessageCreateParamsNonStreaming), max_tokens: 256 });
      assert.equal(counted.input_tokens, message.usage.input_tokens);
      const streamed = await client.messages.stream({ ...(params as Anthropic.Messages.MessageCreateParamsNonStreaming), max_tokens: 256 }).finalMessage();
      assert.equal(counted.input_tokens, streamed.usage.input_tokens);
    });
  }

  test('the fixed figure of a rule is the count; other prompts get the estimate', async () => {
    assert.equal((await client.messages.countTokens({ model: MODEL, messages: [{ role: 'user', content: 'fixed usage' }] })).input_tokens, 4242);
    assert.notEqual((await client.messages.countTokens({ model: MODEL, messages: [{ role: 'user', content: 'fixed usage!' }] })).input_tokens, 4242);
  });

  test('a sequence: the count is the step that would answer next, and counting does not advance it', async () => {
    const params: CountParams = { model: MODEL, messages: [{ role: 'user', content: 'stepped usage' }] };
    const create = () => client.messages.create({ ...(params as Anthropic.Messages.MessageCreateParamsNonStreaming), max_tokens: 64 });
    assert.equal((await client.messages.countTokens(params)).input_tokens, 100);
    assert.equal((await client.messages.countTokens(params)).input_tokens, 100);
    const first = await create();
    assert.equal(first.usage.input_tokens, 100);
    assert.equal((await client.messages.countTokens(params)).input_tokens, 200);
    const second = await create();
    assert.equal(second.usage.input_tokens, 200);
    assert.equal((second.content[0] as Anthropic.Messages.TextBlock).text, 'second');
  });

  test('the AI SDK reports the same input tokens as count_tokens', async () => {
    const model = createAnthropic({ baseURL: `${server.url}/v1`, apiKey: 'sk-ant-ai' })(MODEL);
    const result = await generateText({ model, system: 'Be brief.', prompt: 'hi', maxRetries: 0 });
    const counted = await client.messages.countTokens({ model: MODEL, system: 'Be brief.', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(result.usage.inputTokens, counted.input_tokens);
  });
});

describe('count_tokens validation', () => {
  test('a strict server takes what the SDK sends and refuses max_tokens and stream like the real API', async () => {
    const counted = await strictClient.messages.countTokens({ model: MODEL, tools: TOOLS, tool_choice: { type: 'auto' }, system: 'x', messages: [{ role: 'user', content: 'hi' }] });
    const created = await strictClient.messages.create({ model: MODEL, tools: TOOLS, tool_choice: { type: 'auto' }, system: 'x', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(counted.input_tokens, created.usage.input_tokens);
    for (const field of ['max_tokens', 'stream', 'temperature']) {
      const response = await post(
        `${strictServer.url}/v1/messages/count_tokens`,
        { model: MODEL, messages: [{ role: 'user', content: 'hi' }], [field]: field === 'stream' ? true : 1 },
        { 'anthropic-version': '2023-06-01', 'x-api-key': 'k' },
      );
      assert.equal(response.status, 400, field);
      const body = (await response.json()) as Record<string, any>;
      assert.deepEqual(body.error, { type: 'invalid_request_error', message: `${field}: Extra inputs are not permitted` });
    }
  });

  test('missing fields and a missing version header get Anthropic-shaped 400s', async () => {
    const headers = { 'anthropic-version': '2023-06-01', 'x-api-key': 'k' };
    const cases: [Record<string, unknown>, Record<string, string>, string][] = [
      [{ model: MODEL }, headers, 'messages: Field required'],
      [{ messages: [{ role: 'user', content: 'hi' }] }, headers, 'model: Field required'],
      [{ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }, { 'x-api-key': 'k' }, 'anthropic-version: header is required'],
    ];
    for (const [body, sent, message] of cases) {
      const response = await post(`${strictServer.url}/v1/messages/count_tokens`, body, sent);
      assert.equal(response.status, 400);
      const json = (await response.json()) as Record<string, any>;
      assert.equal(json.type, 'error');
      assert.deepEqual(json.error, { type: 'invalid_request_error', message });
      assert.match(response.headers.get('request-id') ?? '', /^req_011C/);
    }
  });

  test('a lenient server counts even with max_tokens present', async () => {
    const response = await post(`${server.url}/v1/messages/count_tokens`, { model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(response.status, 200);
    const counted = await client.messages.countTokens({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    assert.deepEqual(await response.json(), { input_tokens: counted.input_tokens });
  });
});
