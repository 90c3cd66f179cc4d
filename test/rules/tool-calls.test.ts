// Tool-call rules as the official SDKs and the Vercel AI SDK see them: OpenAI `tool_calls`
// (non-stream and reassembled from a stream), Anthropic `tool_use` (input parsed from
// `input_json_delta` pieces), text before the calls, parallel calls, and a full two-step agent
// loop per SDK whose second step is matched with `tool_result: get_weather`. The server is strict,
// so everything these clients send in an agent loop must also pass strict validation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import type { ChatCompletion, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { generateText, jsonSchema, stepCountIs, tool } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { post, startTestServer, type TestServer } from '../helpers/server.ts';

const OPENAI_MODEL = 'gpt-4o-mini';
const ANTHROPIC_MODEL = 'claude-sonnet-5-5';

// Long and awkward enough that a stream splits it into many fragments, some inside strings.
const WEATHER_ARGS = { city: 'Zürich', units: 'celsius', days: 3, detail: { hourly: true, fields: ['temp', 'wind', 'rain'], note: 'say "hi" 🌧' } };
const LYON_ARGS = { city: 'Lyon' };
const TIME_ARGS = { tz: 'Europe/Paris' };
const FINAL = 'It is 21°C and sunny in Zürich.';
const PREAMBLE = 'Let me check the weather first.';

const CONFIG = `
rules:
  - id: weather-call
    match: {contains: "weather in", tools: get_weather, tool_result: false}
    response:
      tool_calls:
        - name: get_weather
          arguments: ${JSON.stringify(WEATHER_ARGS)}
  - id: weather-answer
    match: {tool_result: get_weather}
    response: ${JSON.stringify(FINAL)}
  - id: talk-then-call
    match: {contains: "think first", tools: get_weather}
    response:
      text: ${JSON.stringify(PREAMBLE)}
      tool_calls:
        - {name: get_weather, arguments: ${JSON.stringify(LYON_ARGS)}}
  - id: parallel
    match: {contains: "compare", tools: [get_weather, get_time]}
    response:
      tool_calls:
        - {name: get_weather, arguments: ${JSON.stringify(LYON_ARGS)}}
        - {name: get_time, arguments: ${JSON.stringify(JSON.stringify(TIME_ARGS))}}
  - id: fixed-id
    match: {contains: "fixed id", tools: get_weather}
    response:
      tool_calls:
        - {name: get_weather, id: call_fixed_0001, arguments: {}}
defaults:
  unknown_response: "no rule matched"
settings:
  strict: true
`;

const OPENAI_TOOLS: ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
  { type: 'function', function: { name: 'get_time', description: 'Time in a zone', parameters: { type: 'object', properties: { tz: { type: 'string' } } } } },
];
const ANTHROPIC_TOOLS: Anthropic.Tool[] = [
  { name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
  { name: 'get_time', description: 'Time in a zone', input_schema: { type: 'object', properties: { tz: { type: 'string' } } } },
];

let server: TestServer;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  server = await startTestServer(CONFIG);
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-tools', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-tools', maxRetries: 0 });
});

after(async () => {
  await server?.stop();
});

const user = (content: string): ChatCompletionMessageParam[] => [{ role: 'user', content }];

function assertOpenAiCall(call: NonNullable<ChatCompletion['choices'][number]['message']['tool_calls']>[number], name: string, args: unknown): void {
  assert.equal(call.type, 'function');
  assert.ok(call.type === 'function');
  assert.match(call.id, /^call_[A-Za-z0-9]{24}$/);
  assert.equal(call.function.name, name);
  assert.equal(typeof call.function.arguments, 'string', 'OpenAI arguments are a JSON string');
  assert.deepEqual(JSON.parse(call.function.arguments), args);
}

describe('OpenAI SDK', () => {
  test('a tool_calls rule answers with a function call whose arguments parse to the configured object', async () => {
    const { data, response } = await openai.chat.completions.create({ model: OPENAI_MODEL, messages: user('what is the weather in Zürich?'), tools: OPENAI_TOOLS }).withResponse();
    assert.equal(response.headers.get('x-mockllm-match'), 'weather-call');
    const choice = data.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    assert.equal(choice.message.tool_calls?.length, 1);
    assertOpenAiCall(choice.message.tool_calls![0]!, 'get_weather', WEATHER_ARGS);
  });

  test('a streamed tool call is reassembled by .stream().finalChatCompletion() from several argument fragments', async () => {
    const stream = openai.chat.completions.stream({ model: OPENAI_MODEL, messages: user('what is the weather in Zürich?'), tools: OPENAI_TOOLS });
    let argumentDeltas = 0;
    stream.on('chunk', (chunk) => {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) if (call.function?.arguments) argumentDeltas++;
    });
    const completion = await stream.finalChatCompletion();
    const choice = completion.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.tool_calls?.length, 1);
    assertOpenAiCall(choice.message.tool_calls![0]!, 'get_weather', WEATHER_ARGS);
    assert.ok(argumentDeltas > 5, `the arguments arrived in ${argumentDeltas} fragments; expected them split`);
  });

  test('text before the calls arrives as content next to the tool_calls, streamed or not', async () => {
    const params = { model: OPENAI_MODEL, messages: user('think first, then call'), tools: OPENAI_TOOLS };
    const plain = await openai.chat.completions.create(params);
    const streamed = await openai.chat.completions.stream(params).finalChatCompletion();
    for (const completion of [plain, streamed]) {
      const choice = completion.choices[0]!;
      assert.equal(choice.message.content, PREAMBLE);
      assert.equal(choice.finish_reason, 'tool_calls');
      assert.equal(choice.message.tool_calls?.length, 1);
      assertOpenAiCall(choice.message.tool_calls![0]!, 'get_weather', LYON_ARGS);
    }
  });

  test('two calls in one rule arrive as parallel calls with distinct ids, streamed or not', async () => {
    const params = { model: OPENAI_MODEL, messages: user('compare weather and time'), tools: OPENAI_TOOLS };
    const plain = await openai.chat.completions.create(params);
    const streamed = await openai.chat.completions.stream(params).finalChatCompletion();
    for (const completion of [plain, streamed]) {
      const calls = completion.choices[0]!.message.tool_calls!;
      assert.equal(calls.length, 2);
      assertOpenAiCall(calls[0]!, 'get_weather', LYON_ARGS);
      assertOpenAiCall(calls[1]!, 'get_time', TIME_ARGS);
      assert.notEqual(calls[0]!.id, calls[1]!.id);
    }
  });

  test('a rule-given call id is sent as written', async () => {
    const completion = await openai.chat.completions.create({ model: OPENAI_MODEL, messages: user('fixed id please'), tools: OPENAI_TOOLS });
    const call = completion.choices[0]!.message.tool_calls![0]!;
    assert.equal(call.id, 'call_fixed_0001');
    assert.ok(call.type === 'function');
    assert.deepEqual(JSON.parse(call.function.arguments), {});
  });

  test('without the tool offered the tool_calls rule does not match', async () => {
    const { response } = await openai.chat.completions.create({ model: OPENAI_MODEL, messages: user('what is the weather in Zürich?') }).withResponse();
    assert.equal(response.headers.get('x-mockllm-match'), 'none');
  });

  for (const streamed of [false, true]) {
    test(`a full agent loop (${streamed ? 'streamed' : 'non-stream'}): call, tool message with tool_call_id, final answer matched by tool_result`, async () => {
      const messages: ChatCompletionMessageParam[] = user('what is the weather in Zürich?');
      const ask = async () =>
        streamed
          ? openai.chat.completions.stream({ model: OPENAI_MODEL, messages, tools: OPENAI_TOOLS }).finalChatCompletion()
          : openai.chat.completions.create({ model: OPENAI_MODEL, messages, tools: OPENAI_TOOLS });
      const first = (await ask()).choices[0]!;
      assert.equal(first.finish_reason, 'tool_calls');
      const call = first.message.tool_calls![0]!;
      assert.ok(call.type === 'function');
      assert.deepEqual(JSON.parse(call.function.arguments), WEATHER_ARGS);

      messages.push(first.message as ChatCompletionMessageParam);
      messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify({ temp: 21, sky: 'sunny' }) });
      const second = (await ask()).choices[0]!;
      assert.equal(second.finish_reason, 'stop');
      assert.equal(second.message.content, FINAL);
      assert.equal(second.message.tool_calls, undefined);
    });
  }
});

describe('Anthropic SDK', () => {
  const params = (content: string) => ({ model: ANTHROPIC_MODEL, max_tokens: 1024, messages: [{ role: 'user' as const, content }], tools: ANTHROPIC_TOOLS });

  function toolUses(message: Anthropic.Message): Anthropic.ToolUseBlock[] {
    return message.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
  }

  test('a tool_calls rule answers with a tool_use block whose input is the configured object', async () => {
    const { data, response } = await anthropic.messages.create(params('what is the weather in Zürich?')).withResponse();
    assert.equal(response.headers.get('x-mockllm-match'), 'weather-call');
    assert.equal(data.stop_reason, 'tool_use');
    assert.deepEqual(data.content.map((b) => b.type), ['tool_use']);
    const [use] = toolUses(data);
    assert.match(use!.id, /^toolu_/);
    assert.equal(use!.name, 'get_weather');
    assert.deepEqual(use!.input, WEATHER_ARGS);
  });

  test('a streamed tool_use is parsed by messages.stream().finalMessage() from input_json_delta pieces', async () => {
    const stream = anthropic.messages.stream(params('what is the weather in Zürich?'));
    let jsonDeltas = 0;
    stream.on('streamEvent', (event) => {
      if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta' && event.delta.partial_json !== '') jsonDeltas++;
    });
    const message = await stream.finalMessage();
    assert.equal(message.stop_reason, 'tool_use');
    const [use] = toolUses(message);
    assert.match(use!.id, /^toolu_/);
    assert.equal(use!.name, 'get_weather');
    assert.deepEqual(use!.input, WEATHER_ARGS);
    assert.ok(jsonDeltas > 5, `the input arrived in ${jsonDeltas} pieces; expected it split`);
  });

  test('text before the calls is a text block ahead of the tool_use block, streamed or not', async () => {
    const plain = await anthropic.messages.create(params('think first, then call'));
    const streamed = await anthropic.messages.stream(params('think first, then call')).finalMessage();
    for (const message of [plain, streamed]) {
      assert.deepEqual(message.content.map((b) => b.type), ['text', 'tool_use']);
      assert.equal((message.content[0] as Anthropic.TextBlock).text, PREAMBLE);
      assert.deepEqual(toolUses(message)[0]!.input, LYON_ARGS);
      assert.equal(message.stop_reason, 'tool_use');
    }
  });

  test('two calls in one rule arrive as two tool_use blocks with distinct ids, streamed or not', async () => {
    const plain = await anthropic.messages.create(params('compare weather and time'));
    const streamed = await anthropic.messages.stream(params('compare weather and time')).finalMessage();
    for (const message of [plain, streamed]) {
      const uses = toolUses(message);
      assert.deepEqual(uses.map((u) => u.name), ['get_weather', 'get_time']);
      assert.deepEqual(uses.map((u) => u.input), [LYON_ARGS, TIME_ARGS]);
      assert.notEqual(uses[0]!.id, uses[1]!.id);
      for (const u of uses) assert.match(u.id, /^toolu_/);
    }
  });

  for (const streamed of [false, true]) {
    test(`a full agent loop (${streamed ? 'streamed' : 'non-stream'}): tool_use, a user turn with a tool_result block, final answer matched by tool_result`, async () => {
      const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'what is the weather in Zürich?' }];
      const ask = async () => {
        const body = { model: ANTHROPIC_MODEL, max_tokens: 1024, messages, tools: ANTHROPIC_TOOLS };
        return streamed ? anthropic.messages.stream(body).finalMessage() : anthropic.messages.create(body);
      };
      const first = await ask();
      assert.equal(first.stop_reason, 'tool_use');
      const [use] = toolUses(first);
      assert.deepEqual(use!.input, WEATHER_ARGS);

      messages.push({ role: 'assistant', content: first.content });
      messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: use!.id, content: '{"temp":21,"sky":"sunny"}' }] });
      const second = await ask();
      assert.equal(second.stop_reason, 'end_turn');
      assert.deepEqual(second.content, [{ type: 'text', text: FINAL }]);
    });
  }
});

describe('wire details', () => {
  test('an OpenAI stream sends the call id, type and name once, then only argument pieces', async () => {
    const res = await post(`${server.url}/v1/chat/completions`, { model: OPENAI_MODEL, stream: true, messages: user('compare weather and time'), tools: OPENAI_TOOLS });
    const deltas = (await res.text())
      .split('\n\n')
      .filter((f) => f.startsWith('data: {'))
      .flatMap((f) => (JSON.parse(f.slice(6)) as { choices: { delta: { tool_calls?: Record<string, any>[] } }[] }).choices[0]?.delta.tool_calls ?? []);
    for (const index of [0, 1]) {
      const mine = deltas.filter((d) => d.index === index);
      assert.ok(mine[0]!.id && mine[0]!.type === 'function' && mine[0]!.function.name, `first fragment of call ${index} names it`);
      for (const later of mine.slice(1)) assert.deepEqual(Object.keys(later).sort(), ['function', 'index'], `later fragments of call ${index} carry only arguments`);
      assert.deepEqual(JSON.parse(mine.map((d) => d.function.arguments).join('')), index === 0 ? LYON_ARGS : TIME_ARGS);
    }
  });

  test('the agent loop\'s second request is journaled against the tool_result rule', async () => {
    const res = await post(`${server.url}/v1/chat/completions`, {
      model: OPENAI_MODEL,
      messages: [
        { role: 'user', content: 'what is the weather in Zürich?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_x', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_x', content: '21C' },
      ],
      tools: OPENAI_TOOLS,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-mockllm-match'), 'weather-answer');
  });

  test('a tool result for another tool does not match tool_result: get_weather', async () => {
    const res = await post(`${server.url}/v1/chat/completions`, {
      model: OPENAI_MODEL,
      messages: [
        { role: 'user', content: 'what time is it?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_t', type: 'function', function: { name: 'get_time', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_t', content: '12:00' },
      ],
      tools: OPENAI_TOOLS,
    });
    assert.equal(res.headers.get('x-mockllm-match'), 'none');
  });
});

describe('Vercel AI SDK', () => {
  const tools = {
    get_weather: tool({ description: 'Weather for a city', inputSchema: jsonSchema<Record<string, unknown>>({ type: 'object', properties: { city: { type: 'string' } } }) }),
  };

  test('generateText with openai.chat() gets the tool call with parsed input', async () => {
    const model = createOpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-ai' }).chat(OPENAI_MODEL);
    const result = await generateText({ model, tools, prompt: 'what is the weather in Zürich?', maxRetries: 0 });
    assert.equal(result.finishReason, 'tool-calls');
    assert.equal(result.toolCalls.length, 1);
    assert.equal(result.toolCalls[0]!.toolName, 'get_weather');
    assert.deepEqual(result.toolCalls[0]!.input, WEATHER_ARGS);
  });

  test('generateText with anthropic() gets the tool call with parsed input', async () => {
    const model = createAnthropic({ baseURL: `${server.url}/v1`, apiKey: 'sk-ant-ai' })(ANTHROPIC_MODEL);
    const result = await generateText({ model, tools, prompt: 'what is the weather in Zürich?', maxRetries: 0 });
    assert.equal(result.finishReason, 'tool-calls');
    assert.equal(result.toolCalls.length, 1);
    assert.equal(result.toolCalls[0]!.toolName, 'get_weather');
    assert.deepEqual(result.toolCalls[0]!.input, WEATHER_ARGS);
  });

  test('with an execute function the AI SDK runs the whole loop and ends on the tool_result rule', async () => {
    const executed: unknown[] = [];
    const looping = {
      get_weather: tool({
        description: 'Weather for a city',
        inputSchema: jsonSchema<Record<string, unknown>>({ type: 'object', properties: { city: { type: 'string' } } }),
        execute: async (input) => {
          executed.push(input);
          return { temp: 21 };
        },
      }),
    };
    for (const model of [
      createOpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-ai' }).chat(OPENAI_MODEL),
      createAnthropic({ baseURL: `${server.url}/v1`, apiKey: 'sk-ant-ai' })(ANTHROPIC_MODEL),
    ]) {
      executed.length = 0;
      const result = await generateText({ model, tools: looping, prompt: 'what is the weather in Zürich?', stopWhen: stepCountIs(3), maxRetries: 0 });
      assert.deepEqual(executed, [WEATHER_ARGS]);
      assert.equal(result.text, FINAL);
      assert.equal(result.steps.length, 2);
    }
  });
});
