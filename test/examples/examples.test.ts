// Each file in config/examples/ is loaded as a user would load it and driven through the official
// SDKs, so an example that drifts from what the server does fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startTestServer, type TestServer } from '../helpers/server.ts';

async function withExample(name: string, run: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await startTestServer(await readFile(new URL(`../../config/examples/${name}`, import.meta.url), 'utf8'));
  try {
    await run(server);
  } finally {
    await server.stop();
  }
}

const openai = (server: TestServer, maxRetries = 0) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries });
const anthropic = (server: TestServer, maxRetries = 0) => new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-test', maxRetries });
const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

test('agent-tool-loop.yml: the OpenAI SDK gets a get_weather call, then the final answer after the tool result', async () => {
  await withExample('agent-tool-loop.yml', async (server) => {
    const client = openai(server);
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: "What's the weather in Paris?" }];
    const first = await client.chat.completions.create({ model: 'gpt-4o', messages, tools: [weatherTool] });
    const call = first.choices[0]!.message.tool_calls![0]!;
    assert.equal(first.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(call.type === 'function' && call.function.name, 'get_weather');
    assert.deepEqual(call.type === 'function' && JSON.parse(call.function.arguments), { city: 'Paris', unit: 'celsius' });

    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '{"temp": 18}' });
    const second = await client.chat.completions.create({ model: 'gpt-4o', messages, tools: [weatherTool] });
    assert.equal(second.choices[0]!.message.content, 'It is 18°C and sunny in Paris. (gpt-4o answered from the tool result.)');
  });
});

test('agent-tool-loop.yml: the Anthropic SDK gets a tool_use block, then the final answer after the tool_result', async () => {
  await withExample('agent-tool-loop.yml', async (server) => {
    const client = anthropic(server);
    const tools = [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }];
    const question = { role: 'user' as const, content: 'weather in Paris, please' };
    const first = await client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 200, tools, messages: [question] }).finalMessage();
    assert.equal(first.stop_reason, 'tool_use');
    const toolUse = first.content.find((b) => b.type === 'tool_use');
    assert.ok(toolUse && toolUse.type === 'tool_use');
    assert.deepEqual(toolUse.input, { city: 'Paris', unit: 'celsius' });

    const second = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 200,
      tools,
      messages: [question, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: '18' }] }],
    });
    assert.deepEqual(second.content, [{ type: 'text', text: 'It is 18°C and sunny in Paris. (claude-sonnet-4-5 answered from the tool result.)' }]);
  });
});

test('retry-on-429.yml: a client with one retry gets the answer; one with none gets the 429 with retry-after', async () => {
  await withExample('retry-on-429.yml', async (server) => {
    const retrying = await openai(server, 1).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] });
    assert.equal(retrying.choices[0]!.message.content, 'Hello! (answered on the retry)');

    assert.equal((await fetch(`${server.url}/admin/sequences/reset`, { method: 'POST' })).status, 204);
    const error = await openai(server, 0)
      .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] })
      .then(() => assert.fail('expected a 429'), (e: unknown) => e);
    assert.ok(error instanceof OpenAI.RateLimitError);
    assert.equal(error.headers.get('retry-after-ms'), '50');

    const quota = await openai(server).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'spend money' }] }).catch((e: unknown) => e);
    assert.ok(quota instanceof OpenAI.RateLimitError);
    assert.equal(quota.code, 'insufficient_quota');
  });
});

test('retry-on-429.yml: the Anthropic overloaded rule answers 529 overloaded_error', async () => {
  await withExample('retry-on-429.yml', async (server) => {
    const error = await anthropic(server)
      .messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'are you overloaded?' }] })
      .catch((e: unknown) => e);
    assert.ok(error instanceof Anthropic.APIError);
    assert.equal(error.status, 529);
    assert.equal((error.error as { error: { type: string } }).error.type, 'overloaded_error');
  });
});

test('realistic-latency.yml: the first token waits for ttft_ms, and the fast-path rule overrides it', async () => {
  await withExample('realistic-latency.yml', async (server) => {
    const client = openai(server);
    const firstToken = async (content: string) => {
      const started = performance.now();
      const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content }] });
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) {
          const elapsed = performance.now() - started;
          await stream.controller.abort();
          return elapsed;
        }
      }
      return assert.fail('no content');
    };
    // A delay is never early, so the default's lower bound is firm. The fast path is compared with
    // it rather than with a fixed bound: the best of three pings, so one stall on a loaded machine
    // does not decide it.
    const slow = await firstToken('anything else');
    assert.ok(slow >= 390, `default ttft_ms 400 (jitter 5) applies (first token after ${slow.toFixed(0)} ms)`);
    const fast = Math.min(await firstToken('ping'), await firstToken('ping'), await firstToken('ping'));
    assert.ok(fast < slow, `the rule sets ttft_ms 0: its first token came after ${fast.toFixed(0)} ms, the default's after ${slow.toFixed(0)} ms`);
  });
});

test('echo.yml: any prompt comes back with the model name', async () => {
  await withExample('echo.yml', async (server) => {
    const answer = await openai(server).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Repeat after me' }] });
    assert.equal(answer.choices[0]!.message.content, '[gpt-4o-mini] You said: Repeat after me');
    const claude = await anthropic(server).messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'Hi there' }] });
    assert.deepEqual(claude.content, [{ type: 'text', text: '[claude-haiku-4-5] You said: Hi there' }]);
  });
});

test('strict-unmatched.yml: an unknown prompt is a 404 naming the closest rule; a request without max_tokens is a 400', async () => {
  await withExample('strict-unmatched.yml', async (server) => {
    const miss = await openai(server).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'what colour is the sea?' }] }).catch((e: unknown) => e);
    assert.ok(miss instanceof OpenAI.NotFoundError);
    assert.match(miss.message, /No mock rule matched/);
    assert.match(miss.message, /"what colour is the sky\?"/);
    const hit = await openai(server).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'What colour is the sky?' }] });
    assert.equal(hit.choices[0]!.message.content, 'Blue.');

    const noMax = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'what is 2+2?' }] }),
    });
    assert.equal(noMax.status, 400);
    assert.equal(((await noMax.json()) as { error: { message: string } }).error.message, 'max_tokens: Field required');
  });
});
