// POST /v1/responses (the OpenAI Responses API) through the official openai SDK (create, the
// `.stream()` helper, raw stream iteration), the Vercel AI SDK's default `openai()` model, LangChain's
// ChatOpenAI with `useResponsesApi`, and plain fetch for the bytes: the same rules answer it as chat,
// including tool calls, tool results, sequences, errors and mid-stream faults.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { ChatOpenAI } from '@langchain/openai';
import { countTokens, encodeChat } from 'gpt-tokenizer/encoding/o200k_base';
import { parseSse, post, startTestServer, type SseFrame, type TestServer } from '../helpers/server.ts';

const HI = 'Hello from the Responses API.';
const SKY = 'The sky is blue during a clear day due to a phenomenon called Rayleigh scattering.';
const PIRATE = 'Arr, the instructions were read as the system prompt.';
const FINAL = 'It is 21°C and sunny in Zürich.';
const PREAMBLE = 'Let me look that up.';
const WEATHER_ARGS = { city: 'Zürich', units: 'celsius', detail: { note: 'say "hi" 🌧' } };
const UNKNOWN = 'No rule matched this Responses request.';
const FAULT_TEXT = 'abcdefghij';

const CONFIG = `
responses:
  hi: ${JSON.stringify(HI)}
  "what colour is the sky?": ${JSON.stringify(SKY)}
rules:
  - id: pirate
    match: {on: system, contains: "talk like a pirate"}
    response: ${JSON.stringify(PIRATE)}
  - id: weather-call
    match: {contains: "weather in", tools: get_weather, tool_result: false}
    response:
      tool_calls:
        - {name: get_weather, arguments: ${JSON.stringify(WEATHER_ARGS)}}
  - id: weather-answer
    match: {tool_result: get_weather}
    response: ${JSON.stringify(FINAL)}
  - id: talk-then-call
    match: {contains: "think first", tools: get_weather, tool_result: false}
    response:
      text: ${JSON.stringify(PREAMBLE)}
      tool_calls:
        - {name: get_weather, arguments: {city: Lyon}}
  - id: limited
    match: {prompt: "rate limit me"}
    response: {error: {status: 429, message: "Slow down", retry_after: 0}}
  - id: faulty
    match: {prompt: "fail midway"}
    response: {text: ${JSON.stringify(FAULT_TEXT)}, chunking: char, fault: {fail_after_chunks: 4, message: "upstream went away"}}
  - id: cut
    match: {prompt: "cut short"}
    response: {text: "This answer was cut", finish_reason: length}
  - id: steps
    match: {prompt: "count"}
    response: {sequence: ["one", "two"]}
defaults:
  unknown_response: ${JSON.stringify(UNKNOWN)}
`;

const MODEL = 'gpt-4o';
type Json = Record<string, any>;

let server: TestServer;
let strictServer: TestServer;
let client: OpenAI;

before(async () => {
  server = await startTestServer(CONFIG);
  strictServer = await startTestServer(`${CONFIG}settings:\n  strict: true\n`);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});

after(async () => {
  await Promise.all([server?.stop(), strictServer?.stop()]);
});

const WEATHER_TOOL: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: false,
};

/** Prompt tokens as OpenAI counts a chat of these messages (3 per message + role + content + 3). */
const promptTokens = (messages: { role: 'system' | 'user'; content: string }[]) => encodeChat(messages, 'gpt-4o').length;

describe('openai SDK responses.create', () => {
  test('a configured prompt comes back as one message item with an output_text part, and usage', async () => {
    const { data, response } = await client.responses.create({ model: MODEL, input: 'hi' }).withResponse();
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(data.id, /^resp_[0-9a-f]{48}$/);
    assert.equal(data.object, 'response');
    assert.equal(data.status, 'completed');
    assert.equal(data.model, MODEL);
    assert.ok(Math.abs(data.created_at - Date.now() / 1000) < 60);
    assert.equal(data.output_text, HI);
    assert.equal(data.output.length, 1);
    const item = data.output[0] as OpenAI.Responses.ResponseOutputMessage;
    assert.equal(item.type, 'message');
    assert.equal(item.role, 'assistant');
    assert.equal(item.status, 'completed');
    assert.match(item.id, /^msg_[0-9a-f]{48}$/);
    assert.equal(item.content.length, 1);
    const part = item.content[0] as OpenAI.Responses.ResponseOutputText;
    assert.equal(part.type, 'output_text');
    assert.equal(part.text, HI);
    assert.deepEqual(part.annotations, []);
    assert.deepEqual(part.logprobs, []);
    const expectedInput = promptTokens([{ role: 'user', content: 'hi' }]);
    assert.equal(expectedInput, 8);
    assert.deepEqual(data.usage, {
      input_tokens: expectedInput,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: countTokens(HI),
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: expectedInput + countTokens(HI),
    });
  });

  test('input as message items with input_text parts matches like a user message; instructions are the system prompt', async () => {
    const parts = await client.responses.create({
      model: MODEL,
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'what colour is the sky?' }] }],
    });
    assert.equal(parts.output_text, SKY);
    const pirate = await client.responses.create({ model: MODEL, instructions: 'Always talk like a pirate.', input: 'hello' });
    assert.equal(pirate.output_text, PIRATE);
    assert.equal(pirate.instructions, 'Always talk like a pirate.');
    assert.equal(pirate.usage!.input_tokens, promptTokens([{ role: 'system', content: 'Always talk like a pirate.' }, { role: 'user', content: 'hello' }]));
  });

  test('an unknown prompt gets defaults.unknown_response', async () => {
    assert.equal((await client.responses.create({ model: MODEL, input: 'something nobody configured' })).output_text, UNKNOWN);
  });

  test('a tool_calls rule answers with function_call items (flat tools), arguments as a JSON string', async () => {
    const data = await client.responses.create({ model: MODEL, input: 'what is the weather in Zürich?', tools: [WEATHER_TOOL] });
    assert.equal(data.status, 'completed');
    assert.equal(data.output.length, 1);
    const call = data.output[0] as OpenAI.Responses.ResponseFunctionToolCall;
    assert.equal(call.type, 'function_call');
    assert.equal(call.status, 'completed');
    assert.equal(call.name, 'get_weather');
    assert.match(call.id!, /^fc_[0-9a-f]{48}$/);
    assert.match(call.call_id, /^call_[A-Za-z0-9]{24}$/);
    assert.deepEqual(JSON.parse(call.arguments), WEATHER_ARGS);
    assert.equal(data.output_text, '');
    assert.equal(data.usage!.output_tokens, countTokens('get_weather') + countTokens(JSON.stringify(WEATHER_ARGS)));
    assert.equal((data.tools[0] as OpenAI.Responses.FunctionTool).name, 'get_weather');
  });

  test('text before the calls is a message item ahead of the function_call item', async () => {
    const data = await client.responses.create({ model: MODEL, input: 'think first, then call', tools: [WEATHER_TOOL] });
    assert.deepEqual(data.output.map((o) => o.type), ['message', 'function_call']);
    assert.equal(data.output_text, PREAMBLE);
  });

  test('a function_call_output, named through its function_call item, matches the tool_result rule', async () => {
    const first = await client.responses.create({ model: MODEL, input: 'what is the weather in Zürich?', tools: [WEATHER_TOOL], store: false });
    const call = first.output[0] as OpenAI.Responses.ResponseFunctionToolCall;
    const second = await client.responses.create({
      model: MODEL,
      tools: [WEATHER_TOOL],
      input: [
        { role: 'user', content: 'what is the weather in Zürich?' },
        { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: '{"temp":21}' },
      ],
    });
    assert.equal(second.output_text, FINAL);
  });

  test('previous_response_id continues a stored conversation: the tool result is named by the stored call', async () => {
    const first = await client.responses.create({ model: MODEL, input: 'what is the weather in Zürich?', tools: [WEATHER_TOOL] });
    const call = first.output[0] as OpenAI.Responses.ResponseFunctionToolCall;
    const second = await client.responses.create({
      model: MODEL,
      tools: [WEATHER_TOOL],
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temp":21}' }],
    });
    assert.equal(second.output_text, FINAL);
    assert.equal(second.previous_response_id, first.id);
    // The stored conversation counts: the user turn, the call and the result, not just the new item.
    assert.ok(second.usage!.input_tokens > promptTokens([{ role: 'user', content: '{"temp":21}' }]));
    // Without it, the same lone tool output names no call, and the rule for get_weather does not match.
    const orphan = await client.responses.create({ model: MODEL, input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temp":21}' }] });
    assert.equal(orphan.output_text, UNKNOWN);
  });

  test('an item_reference to an earlier output item resolves from the store', async () => {
    const first = await client.responses.create({ model: MODEL, input: 'what is the weather in Zürich?', tools: [WEATHER_TOOL] });
    const call = first.output[0] as OpenAI.Responses.ResponseFunctionToolCall;
    const second = await client.responses.create({
      model: MODEL,
      input: [
        { role: 'user', content: 'what is the weather in Zürich?' },
        { type: 'item_reference', id: call.id! },
        { type: 'function_call_output', call_id: call.call_id, output: '21' },
      ],
    });
    assert.equal(second.output_text, FINAL);
  });

  test('an unknown previous_response_id or item_reference, or one with store: false, is a 400', async () => {
    const notStored = await client.responses.create({ model: MODEL, input: 'hi', store: false });
    assert.equal((notStored as unknown as Json).store, false);
    for (const previous of ['resp_doesnotexist', notStored.id]) {
      await assert.rejects(client.responses.create({ model: MODEL, input: 'hi', previous_response_id: previous }), (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.equal(error.code, 'previous_response_not_found');
        assert.equal(error.param, 'previous_response_id');
        assert.equal(error.message, `400 Previous response with id '${previous}' not found.`);
        return true;
      });
    }
    await assert.rejects(client.responses.create({ model: MODEL, input: [{ type: 'item_reference', id: 'msg_nope' }] }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.equal(error.param, 'input[0].id');
      return true;
    });
  });

  test('a sequence rule steps through its answers', async () => {
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await client.responses.create({ model: MODEL, input: 'count' })).output_text);
    assert.deepEqual(answers, ['one', 'two', 'two']);
  });

  test('finish_reason length makes an incomplete response with incomplete_details', async () => {
    const data = await client.responses.create({ model: MODEL, input: 'cut short' });
    assert.equal(data.status, 'incomplete');
    assert.deepEqual(data.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(data.output_text, 'This answer was cut');
  });

  test('a rule error is the normal OpenAI HTTP error', async () => {
    await assert.rejects(client.responses.create({ model: MODEL, input: 'rate limit me' }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.RateLimitError);
      assert.equal(error.status, 429);
      assert.equal(error.message, '429 Slow down');
      return true;
    });
    await assert.rejects(client.responses.create({ model: MODEL, input: 'rate limit me', stream: true }), OpenAI.RateLimitError);
  });

  test('a fault on a non-stream request is a 500', async () => {
    await assert.rejects(client.responses.create({ model: MODEL, input: 'fail midway' }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.InternalServerError);
      return true;
    });
  });

  test('validation errors use OpenAI words, status and codes', async () => {
    const cases: [Json, number, string, string | null, string | null][] = [
      [{ input: 'hi' }, 400, "Missing required parameter: 'model'.", 'model', 'missing_required_parameter'],
      [{ model: MODEL, input: 42 }, 400, "Invalid type for 'input': expected a string or an array, but got an integer instead.", 'input', 'invalid_type'],
      [{ model: MODEL, input: [{ role: 'bot', content: 'x' }] }, 400, "Invalid value: 'bot'. Supported values are: 'user', 'assistant', 'system', and 'developer'.", 'input[0].role', 'invalid_value'],
      [{ model: MODEL, input: 'hi', temperature: 2.5 }, 400, "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.", 'temperature', 'decimal_above_max_value'],
      [{ model: MODEL, input: 'hi', max_output_tokens: 5 }, 400, "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 5 instead.", 'max_output_tokens', 'integer_below_min_value'],
    ];
    for (const [body, status, message, param, code] of cases) {
      const response = await post(`${server.url}/v1/responses`, body);
      assert.equal(response.status, status, JSON.stringify(body));
      const { error } = (await response.json()) as Json;
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.message, message);
      assert.equal(error.param, param);
      assert.equal(error.code, code);
    }
  });

  test('what is echoed back is checked first: metadata limits, nesting too deep to echo, non-string roles', async () => {
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    const cases: [string, number, string, string][] = [
      [`{"model":"m","input":"hi","tools":[{"type":"function","name":"f","parameters":${deep}}]}`, 400, 'tools', 'invalid_value'],
      [`{"model":"m","input":"hi","stream":true,"text":${deep}}`, 400, 'text', 'invalid_value'],
      [`{"model":"m","input":"hi","metadata":${deep}}`, 400, 'metadata.a', 'invalid_type'],
      [JSON.stringify({ model: 'm', input: 'hi', metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }), 400, 'metadata', 'object_above_max_properties'],
      [JSON.stringify({ model: 'm', input: 'hi', metadata: { a: 'v'.repeat(513) } }), 400, 'metadata.a', 'string_above_max_length'],
      [`{"model":"m","input":[{"role":{"toString":1},"content":"hi"}]}`, 400, 'input[0].role', 'invalid_type'],
      [`{"model":"m","input":[{"type":"function_call","call_id":"c","name":"f","arguments":{"a":1}}]}`, 400, 'input[0].arguments', 'invalid_type'],
    ];
    for (const [body, status, param, code] of cases) {
      const response = await post(`${server.url}/v1/responses`, body);
      assert.equal(response.status, status, body.slice(0, 60));
      const { error } = (await response.json()) as Json;
      assert.equal(error.param, param, body.slice(0, 60));
      assert.equal(error.code, code, body.slice(0, 60));
    }
    const ok = await client.responses.create({ model: MODEL, input: 'hi', metadata: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, 'v'.repeat(512)])) });
    assert.equal(ok.output_text, HI);
  });

  test('strict mode rejects an unknown parameter the Responses way, and accepts what the SDK sends', async () => {
    const response = await post(`${strictServer.url}/v1/responses`, { model: MODEL, input: 'hi', foo: 1 });
    assert.equal(response.status, 400);
    assert.deepEqual(((await response.json()) as Json).error, { message: "Unknown parameter: 'foo'.", type: 'invalid_request_error', param: 'foo', code: 'unknown_parameter' });
    const strictClient = new OpenAI({ baseURL: `${strictServer.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    const data = await strictClient.responses.create({
      model: MODEL,
      input: 'hi',
      instructions: 'Be brief.',
      max_output_tokens: 100,
      temperature: 0.2,
      top_p: 0.9,
      metadata: { run: 'ci' },
      text: { format: { type: 'text' } },
      tools: [WEATHER_TOOL],
      tool_choice: 'auto',
      store: true,
    });
    assert.equal(data.output_text, HI);
    assert.deepEqual(data.metadata, { run: 'ci' });
  });
});

describe('openai SDK responses streaming', () => {
  test('responses.stream(): finalResponse() and output_text carry the configured text; deltas rebuild it', async () => {
    const stream = client.responses.stream({ model: MODEL, input: 'what colour is the sky?' });
    const deltas: string[] = [];
    const types: string[] = [];
    stream.on('event', (event) => types.push(event.type));
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    assert.equal(final.output_text, SKY);
    assert.equal(final.status, 'completed');
    assert.equal(deltas.join(''), SKY);
    assert.ok(deltas.length > 1);
    assert.equal(final.usage!.output_tokens, countTokens(SKY));
    assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    assert.deepEqual(types.slice(-5), ['response.output_text.delta', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
  });

  test('a streamed function call: added item, argument deltas, done, in the final response', async () => {
    const stream = client.responses.stream({ model: MODEL, input: 'think first about Lyon', tools: [WEATHER_TOOL] });
    const argumentDeltas: string[] = [];
    stream.on('response.function_call_arguments.delta', (event) => argumentDeltas.push(event.delta));
    let done: { name?: string; arguments: string } | undefined;
    stream.on('response.function_call_arguments.done', (event) => (done = event as unknown as { name: string; arguments: string }));
    const final = await stream.finalResponse();
    assert.deepEqual(final.output.map((o) => o.type), ['message', 'function_call']);
    assert.equal(final.output_text, PREAMBLE);
    const call = final.output[1] as OpenAI.Responses.ResponseFunctionToolCall;
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Lyon' });
    assert.equal(argumentDeltas.join(''), call.arguments);
    assert.equal(done?.arguments, call.arguments);
    assert.equal(done?.name, 'get_weather');
  });

  test('raw iteration with create({stream: true}) yields typed events numbered 0..n-1', async () => {
    const events = [];
    for await (const event of await client.responses.create({ model: MODEL, input: 'hi', stream: true })) events.push(event);
    assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
    const completed = events.at(-1)!;
    assert.equal(completed.type, 'response.completed');
    if (completed.type === 'response.completed') assert.equal(completed.response.output_text ?? (completed.response.output[0] as Json).content[0].text, HI);
  });

  test('a fault mid-stream ends the stream with response.failed, which finalResponse() reports', async () => {
    const stream = client.responses.stream({ model: MODEL, input: 'fail midway' });
    const final = await stream.finalResponse();
    assert.equal(final.status, 'failed');
    assert.deepEqual(final.error, { code: 'server_error', message: 'upstream went away' });
    assert.equal(final.output_text, FAULT_TEXT.slice(0, 4));
  });
});

describe('Responses stream on the wire', () => {
  async function frames(body: Json): Promise<{ frames: SseFrame[]; events: Json[]; text: string; response: Response }> {
    const response = await post(`${server.url}/v1/responses`, { model: MODEL, stream: true, ...body });
    assert.equal(response.status, 200);
    const text = await response.text();
    const parsed = parseSse(text);
    return { frames: parsed, events: parsed.map((f) => JSON.parse(f.data) as Json), text, response };
  }

  function checkLadder(parsed: SseFrame[], events: Json[]): void {
    parsed.forEach((frame, i) => {
      assert.ok(frame.event, `frame ${i} has no event: line`);
      assert.equal(frame.event, events[i]!.type, `frame ${i}: event line and JSON type differ`);
      assert.equal(events[i]!.sequence_number, i, `frame ${i} has sequence_number ${events[i]!.sequence_number}`);
    });
    for (const [i, event] of events.entries()) {
      const usage = event.response?.usage;
      if (event.type === 'response.completed' || event.type === 'response.incomplete') assert.ok(usage && usage.total_tokens === usage.input_tokens + usage.output_tokens);
      else assert.ok(usage === undefined || usage === null, `usage outside response.completed (frame ${i}, ${event.type})`);
    }
  }

  test('text: every frame has event: equal to its type, sequence_number 0..n-1, usage only at the end, no [DONE]', async () => {
    const { frames: parsed, events, text, response } = await frames({ input: 'what colour is the sky?' });
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.ok(!text.includes('[DONE]'));
    checkLadder(parsed, events);
    const types = events.map((e) => e.type);
    const deltas = events.filter((e) => e.type === 'response.output_text.delta');
    assert.deepEqual(types, [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...deltas.map(() => 'response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const [created, , added, partAdded] = events as [Json, Json, Json, Json];
    assert.equal(created.response.status, 'in_progress');
    assert.deepEqual(created.response.output, []);
    assert.deepEqual(added.item.content, []);
    assert.equal(added.item.status, 'in_progress');
    assert.deepEqual(partAdded.part, { type: 'output_text', annotations: [], logprobs: [], text: '' });
    for (const delta of deltas) {
      assert.equal(delta.item_id, added.item.id);
      assert.equal(delta.output_index, 0);
      assert.equal(delta.content_index, 0);
      assert.deepEqual(delta.logprobs, []);
    }
    assert.equal(deltas.map((d) => d.delta).join(''), SKY);
    const textDone = events.find((e) => e.type === 'response.output_text.done')!;
    assert.equal(textDone.text, SKY);
    const completed = events.at(-1)!;
    assert.equal(completed.response.id, created.response.id);
    assert.equal(completed.response.status, 'completed');
    assert.deepEqual(completed.response.output[0].content, [{ type: 'output_text', annotations: [], logprobs: [], text: SKY }]);
    assert.equal(completed.response.output_text, undefined, 'output_text is computed by the SDK, never sent');
  });

  test('function call: output_item.added with the call, argument deltas, arguments.done, output_item.done', async () => {
    const { frames: parsed, events } = await frames({ input: 'what is the weather in Zürich?', tools: [WEATHER_TOOL] });
    checkLadder(parsed, events);
    const types = events.map((e) => e.type);
    const deltaCount = types.filter((t) => t === 'response.function_call_arguments.delta').length;
    assert.ok(deltaCount > 1);
    assert.deepEqual(types, [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      ...Array(deltaCount).fill('response.function_call_arguments.delta'),
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const added = events[2]!;
    assert.equal(added.item.type, 'function_call');
    assert.equal(added.item.arguments, '');
    assert.equal(added.item.name, 'get_weather');
    const joined = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('');
    assert.deepEqual(JSON.parse(joined), WEATHER_ARGS);
    const done = events.at(-2)!;
    assert.equal(done.item.status, 'completed');
    assert.equal(done.item.call_id, added.item.call_id);
  });

  test('a fault: response.failed with response.error {code, message}, numbered next, and the text sent so far', async () => {
    const { frames: parsed, events } = await frames({ input: 'fail midway' });
    parsed.forEach((frame, i) => {
      assert.equal(frame.event, events[i]!.type);
      assert.equal(events[i]!.sequence_number, i);
    });
    const failed = events.at(-1)!;
    assert.equal(failed.type, 'response.failed');
    assert.equal(failed.response.status, 'failed');
    assert.deepEqual(failed.response.error, { code: 'server_error', message: 'upstream went away' });
    assert.equal(failed.response.usage, null);
    assert.equal(failed.response.id, events[0]!.response.id);
    const deltas = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta);
    assert.deepEqual(deltas, [...FAULT_TEXT.slice(0, 4)]);
    assert.equal(failed.response.output[0].content[0].text, FAULT_TEXT.slice(0, 4));
    assert.ok(!events.some((e) => e.type === 'response.completed'));
  });

  test('finish_reason length ends the stream with response.incomplete', async () => {
    const { frames: parsed, events } = await frames({ input: 'cut short' });
    checkLadder(parsed, events);
    const last = events.at(-1)!;
    assert.equal(last.type, 'response.incomplete');
    assert.deepEqual(last.response.incomplete_details, { reason: 'max_output_tokens' });
  });
});

describe('Vercel AI SDK openai() (the Responses API)', () => {
  const model = () => createOpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-ai-sdk' })(MODEL);

  test('generateText gets the text, finishReason stop and the usage', async () => {
    const result = await generateText({ model: model(), prompt: 'hi', maxRetries: 0 });
    assert.equal(result.text, HI);
    assert.equal(result.finishReason, 'stop');
    assert.equal(result.usage.inputTokens, 8);
    assert.equal(result.usage.outputTokens, countTokens(HI));
  });

  test('streamText gets the same text and usage, with no error parts', async () => {
    const errors: unknown[] = [];
    const result = streamText({ model: model(), prompt: 'what colour is the sky?', maxRetries: 0, onError: ({ error }) => void errors.push(error) });
    const pieces: string[] = [];
    for await (const piece of result.textStream) pieces.push(piece);
    assert.deepEqual(errors, []);
    assert.equal(pieces.join(''), SKY);
    assert.ok(pieces.length > 1);
    assert.equal(await result.finishReason, 'stop');
    assert.equal((await result.usage).outputTokens, countTokens(SKY));
  });

  test('a system prompt reaches the rules as the system text', async () => {
    const result = await generateText({ model: model(), system: 'Please talk like a pirate.', prompt: 'hello', maxRetries: 0 });
    assert.equal(result.text, PIRATE);
  });

  for (const streamed of [false, true]) {
    test(`a tool call round trip (${streamed ? 'streamText' : 'generateText'}): call, execute, final answer from the tool_result rule`, async () => {
      const executed: unknown[] = [];
      const tools = {
        get_weather: tool({
          description: 'Weather for a city',
          inputSchema: jsonSchema<Record<string, unknown>>({ type: 'object', properties: { city: { type: 'string' } } }),
          execute: async (input) => {
            executed.push(input);
            return { temp: 21 };
          },
        }),
      };
      const options = { model: model(), tools, prompt: 'what is the weather in Zürich?', stopWhen: stepCountIs(3), maxRetries: 0 };
      let text: string;
      let steps: number;
      if (streamed) {
        const errors: unknown[] = [];
        const result = streamText({ ...options, onError: ({ error }) => void errors.push(error) });
        text = await result.text;
        steps = (await result.steps).length;
        assert.deepEqual(errors, []);
      } else {
        const result = await generateText(options);
        text = result.text;
        steps = result.steps.length;
        assert.equal(result.steps[0]!.finishReason, 'tool-calls');
      }
      assert.deepEqual(executed, [WEATHER_ARGS]);
      assert.equal(text, FINAL);
      assert.equal(steps, 2);
    });
  }

  test('text before a tool call survives the round trip (the AI SDK sends it back as an item_reference)', async () => {
    const tools = {
      get_weather: tool({
        inputSchema: jsonSchema<Record<string, unknown>>({ type: 'object', properties: { city: { type: 'string' } } }),
        execute: async () => ({ temp: 18 }),
      }),
    };
    const result = await generateText({ model: model(), tools, prompt: 'think first about the weather', stopWhen: stepCountIs(2), maxRetries: 0 });
    assert.equal(result.steps[0]!.text, PREAMBLE);
    assert.equal(result.text, FINAL);
  });

  test('a mid-stream fault is an error part with finishReason error, the text before it kept', async () => {
    const errors: unknown[] = [];
    const result = streamText({ model: model(), prompt: 'fail midway', maxRetries: 0, onError: ({ error }) => void errors.push(error) });
    assert.equal(await result.text, FAULT_TEXT.slice(0, 4));
    assert.equal(await result.finishReason, 'error');
    assert.equal(errors.length, 1);
    assert.match(String((errors[0] as Error).message), /upstream went away/);
  });
});

describe('LangChain ChatOpenAI with useResponsesApi', () => {
  test('invoke and stream return the configured text with usage', async () => {
    const model = new ChatOpenAI({ model: MODEL, apiKey: 'sk-langchain', maxRetries: 0, useResponsesApi: true, configuration: { baseURL: `${server.url}/v1` } });
    const message = await model.invoke('hi');
    assert.equal(message.text, HI);
    assert.equal(message.usage_metadata?.input_tokens, 8);
    assert.equal(message.usage_metadata?.output_tokens, countTokens(HI));
    let full;
    let chunks = 0;
    for await (const chunk of await model.stream('what colour is the sky?')) {
      full = full ? full.concat(chunk) : chunk;
      chunks++;
    }
    assert.ok(chunks > 1);
    assert.equal(full!.text, SKY);
    assert.equal(full!.usage_metadata?.output_tokens, countTokens(SKY));
  });
});
