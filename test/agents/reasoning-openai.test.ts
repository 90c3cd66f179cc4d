// Reasoning through the official `openai` SDK: Responses reasoning items (a summary only when the
// request asks for one, encrypted_content only when `include` lists it), their stream events, the
// reasoning tokens in usage, a stateless tool loop that sends the reasoning item back, and chat
// completions' reasoning_tokens (chat shows no reasoning, only its count).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const MODEL = 'gpt-5.5';
const THOUGHT = 'The user wants the weather in Oslo. Calling get_weather is the way to find out.';
const AFTER = 'The tool answered; summarise it.';
const ANSWER = 'It is 4 °C and raining in Oslo.';

const CONFIG = `settings:
  strict: true
rules:
  - id: oslo-answer
    priority: 2
    match: { contains: "weather in Oslo", tool_result: get_weather }
    response: { thinking: ${JSON.stringify(AFTER)}, text: ${JSON.stringify(ANSWER)} }
  - id: oslo-call
    priority: 1
    match: { contains: "weather in Oslo" }
    response:
      thinking: ${JSON.stringify(THOUGHT)}
      tool_calls: [{ name: get_weather, arguments: { city: Oslo } }]
  - id: redacted
    match: { contains: "keep it secret" }
    response: { thinking: "Private.", redacted: true, text: "Sure." }
  - id: plain
    match: { contains: "plain question" }
    response: "Plain answer."
`;

const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, strict: true }];

let server: TestServer;
let client: OpenAI;

before(async () => {
  server = await startTestServer(CONFIG);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});

after(async () => {
  await server?.stop();
});

const reasoningOf = (response: OpenAI.Responses.Response) => response.output.find((item): item is OpenAI.Responses.ResponseReasoningItem => item.type === 'reasoning');

describe('Responses reasoning items', () => {
  test('reasoning.summary and include give a reasoning item first, with the summary and encrypted_content, and reasoning tokens in usage', async () => {
    const response = await client.responses.create({
      model: MODEL, input: 'What is the weather in Oslo?', tools,
      reasoning: { effort: 'medium', summary: 'auto' }, include: ['reasoning.encrypted_content'],
    });
    assert.deepEqual(response.output.map((item) => item.type), ['reasoning', 'function_call']);
    const reasoning = reasoningOf(response)!;
    assert.match(reasoning.id, /^rs_/);
    assert.deepEqual(reasoning.summary, [{ type: 'summary_text', text: THOUGHT }]);
    assert.ok(typeof reasoning.encrypted_content === 'string' && reasoning.encrypted_content.length > 20);
    assert.deepEqual(response.reasoning, { effort: 'medium', summary: 'auto' });
    const usage = response.usage!;
    assert.ok(usage.output_tokens_details.reasoning_tokens > 0);
    assert.ok(usage.output_tokens > usage.output_tokens_details.reasoning_tokens, 'reasoning is part of the output tokens');
    assert.equal(usage.total_tokens, usage.input_tokens + usage.output_tokens);
  });

  test('without a summary asked the item has an empty summary; without include, no encrypted_content', async () => {
    const response = await client.responses.create({ model: MODEL, input: 'What is the weather in Oslo?', tools, reasoning: { effort: 'low' } });
    const reasoning = reasoningOf(response)!;
    assert.deepEqual(reasoning.summary, []);
    assert.equal('encrypted_content' in reasoning, false);
    assert.ok(response.usage!.output_tokens_details.reasoning_tokens > 0, 'the thinking is counted even when not shown');
  });

  test('a redacted rule shows no summary even when asked', async () => {
    const response = await client.responses.create({ model: MODEL, input: 'keep it secret', reasoning: { effort: 'low', summary: 'detailed' } });
    assert.deepEqual(reasoningOf(response)!.summary, []);
    assert.equal(response.output_text, 'Sure.');
  });

  test('with reasoning asked and no thinking in the rule, a reasoning item still comes first; with effort none, none does', async () => {
    const thought = await client.responses.create({ model: MODEL, input: 'plain question', reasoning: { effort: 'high', summary: 'auto' } });
    assert.deepEqual(thought.output.map((item) => item.type), ['reasoning', 'message']);
    assert.match(reasoningOf(thought)!.summary[0]!.text, /plain question/);
    const none = await client.responses.create({ model: MODEL, input: 'plain question', reasoning: { effort: 'none' } });
    assert.deepEqual(none.output.map((item) => item.type), ['message']);
    assert.equal(none.usage!.output_tokens_details.reasoning_tokens, 0);
  });

  test('the stream sends the summary part events in order and the final response matches the non-stream one', async () => {
    const params = { model: MODEL, input: 'What is the weather in Oslo?', tools, reasoning: { effort: 'medium', summary: 'auto' }, include: ['reasoning.encrypted_content'] } satisfies Omit<OpenAI.Responses.ResponseCreateParamsNonStreaming, 'stream'>;
    const whole = await client.responses.create(params);
    const stream = client.responses.stream(params);
    const types: string[] = [];
    let summary = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.reasoning_summary_text.delta') {
        assert.equal(event.summary_index, 0);
        assert.equal(event.output_index, 0);
        summary += event.delta;
      }
    }
    assert.equal(summary, THOUGHT);
    const reasoningEvents = types.filter((t) => t.includes('reasoning') || t.startsWith('response.output_item'));
    assert.deepEqual(reasoningEvents.slice(0, 2), ['response.output_item.added', 'response.reasoning_summary_part.added']);
    const doneAt = types.indexOf('response.reasoning_summary_text.done');
    assert.ok(doneAt > types.lastIndexOf('response.reasoning_summary_text.delta'));
    assert.equal(types[doneAt + 1], 'response.reasoning_summary_part.done');
    assert.equal(types[doneAt + 2], 'response.output_item.done');
    const final = await stream.finalResponse();
    assert.deepEqual(reasoningOf(final)!.summary, reasoningOf(whole)!.summary);
    assert.equal(reasoningOf(final)!.encrypted_content, reasoningOf(whole)!.encrypted_content, 'encrypted content is deterministic');
    assert.deepEqual(final.usage, whole.usage);
  });

  test('a stateless tool loop (store: false) sends the reasoning item back in the input, and strict mode takes it', async () => {
    const params = { model: MODEL, tools, store: false, reasoning: { effort: 'medium' }, include: ['reasoning.encrypted_content'] } satisfies Omit<OpenAI.Responses.ResponseCreateParamsNonStreaming, 'input'>;
    const input: OpenAI.Responses.ResponseInputItem[] = [{ role: 'user', content: 'What is the weather in Oslo?' }];
    const step1 = await client.responses.create({ ...params, input });
    const call = step1.output.find((item): item is OpenAI.Responses.ResponseFunctionToolCall => item.type === 'function_call')!;
    input.push(...(step1.output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: call.call_id, output: '4 degrees, rain' });
    const step2 = await client.responses.create({ ...params, input });
    assert.equal(step2.output_text, ANSWER);
    assert.equal(step2.output[0]!.type, 'reasoning');
  });
});

describe('chat completions reasoning tokens', () => {
  test('a rule with thinking reports completion_tokens_details.reasoning_tokens inside completion_tokens, with no visible reasoning', async () => {
    const chat = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    const completion = await chat.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'keep it secret' }] });
    assert.equal(completion.choices[0]!.message.content, 'Sure.');
    const usage = completion.usage!;
    assert.ok(usage.completion_tokens_details!.reasoning_tokens! > 0);
    assert.ok(usage.completion_tokens > usage.completion_tokens_details!.reasoning_tokens!);
  });

  test('reasoning_effort with no thinking in the rule still counts reasoning tokens; none without it', async () => {
    const reasoned = await client.chat.completions.create({ model: MODEL, reasoning_effort: 'high', messages: [{ role: 'user', content: 'plain question' }] });
    assert.ok(reasoned.usage!.completion_tokens_details!.reasoning_tokens! > 0);
    const plain = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'plain question' }] });
    assert.equal(plain.usage!.completion_tokens_details!.reasoning_tokens, 0);
    assert.ok(reasoned.usage!.completion_tokens > plain.usage!.completion_tokens);
  });

  test('a streamed chat answer reports the same reasoning tokens in its usage chunk', async () => {
    const whole = await client.chat.completions.create({ model: MODEL, reasoning_effort: 'low', messages: [{ role: 'user', content: 'plain question' }] });
    const stream = await client.chat.completions.create({ model: MODEL, reasoning_effort: 'low', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'plain question' }] });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    assert.deepEqual(usage, whole.usage);
  });
});
