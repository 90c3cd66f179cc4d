// Extended thinking through the official `@anthropic-ai/sdk`, in strict mode: thinking blocks with
// signatures before the tool use they lead to, sent back unchanged through a two-step tool loop,
// streamed (thinking_delta, then signature_delta) and not; redacted thinking; the mock's own
// thinking when the request enables it and the rule has none; and the 400s the real API answers
// around thinking (a dropped or edited thinking block, a budget out of range, a forced tool).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const MODEL = 'claude-sonnet-5-5';
const PLAN = 'The user wants the weather in Paris. I should call get_weather with city Paris.';
const AFTER = 'The tool says 18 degrees and sunny. I can answer now.';
const ANSWER = 'It is 18 °C and sunny in Paris.';
const SECRET = 'Reasoning the safety systems flagged.';

const CONFIG = `settings:
  strict: true
rules:
  - id: weather-answer
    priority: 2
    match: { contains: "weather in Paris", tool_result: get_weather }
    response:
      thinking: ${JSON.stringify(AFTER)}
      text: ${JSON.stringify(ANSWER)}
  - id: weather-call
    priority: 1
    match: { contains: "weather in Paris" }
    response:
      thinking: ${JSON.stringify(PLAN)}
      text: "Let me check."
      tool_calls:
        - { name: get_weather, arguments: { city: Paris } }
  - id: redacted
    match: { contains: "redacted please" }
    response: { thinking: ${JSON.stringify(SECRET)}, redacted: true, text: "Done." }
  - id: plain
    match: { contains: "no thinking in the rule" }
    response: "Plain answer."
`;

const tools: Anthropic.Tool[] = [{ name: 'get_weather', description: 'Current weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];
const thinking = { type: 'enabled', budget_tokens: 2048 } as const;

let server: TestServer;
let client: Anthropic;

before(async () => {
  server = await startTestServer(CONFIG);
  client = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-test', maxRetries: 0 });
});

after(async () => {
  await server?.stop();
});

const ask = (messages: Anthropic.MessageParam[], extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}) =>
  client.messages.create({ model: MODEL, max_tokens: 4096, thinking, tools, messages, ...extra });

const first: Anthropic.MessageParam = { role: 'user', content: 'What is the weather in Paris?' };

function toolResultFor(message: Anthropic.Message): Anthropic.MessageParam {
  const use = message.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
  assert.ok(use, 'the first step calls the tool');
  return { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '18 degrees, sunny' }] };
}

/** A 400 from the SDK, with the API's error type and a message matching `pattern`. */
async function rejects400(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof Anthropic.BadRequestError, String(error));
    assert.equal((error.error as { error?: { type?: string } }).error?.type, 'invalid_request_error');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('thinking through a two-step tool loop (strict mode)', () => {
  test('non-stream: each step opens with a signed thinking block, sent back unchanged the loop completes', async () => {
    const step1 = await ask([first]);
    assert.deepEqual(step1.content.map((b) => b.type), ['thinking', 'text', 'tool_use']);
    const block = step1.content[0] as Anthropic.ThinkingBlock;
    assert.equal(block.thinking, PLAN);
    assert.ok(block.signature.length > 20, 'a signature is present');
    assert.equal(step1.stop_reason, 'tool_use');
    // Thinking tokens are inside output_tokens, and SDK 1.x's output_tokens_details says how many.
    const thinkingTokens = step1.usage.output_tokens_details!.thinking_tokens;
    assert.ok(thinkingTokens > 0 && step1.usage.output_tokens > thinkingTokens, JSON.stringify(step1.usage));

    const step2 = await ask([first, { role: 'assistant', content: step1.content }, toolResultFor(step1)]);
    assert.deepEqual(step2.content.map((b) => b.type), ['thinking', 'text']);
    assert.equal((step2.content[0] as Anthropic.ThinkingBlock).thinking, AFTER);
    assert.equal((step2.content[1] as Anthropic.TextBlock).text, ANSWER);
    assert.equal(step2.stop_reason, 'end_turn');
  });

  test('stream: the helper rebuilds the same thinking and signature, and the streamed message continues the loop', async () => {
    const whole = await ask([first]);
    const stream = client.messages.stream({ model: MODEL, max_tokens: 4096, thinking, tools, messages: [first] });
    const deltas: string[] = [];
    const signatures: string[] = [];
    stream.on('thinking', (delta) => deltas.push(delta));
    stream.on('signature', (signature) => signatures.push(signature));
    const step1 = await stream.finalMessage();
    assert.deepEqual(step1.content.map((b) => b.type), ['thinking', 'text', 'tool_use']);
    assert.equal(deltas.join(''), PLAN);
    assert.ok(deltas.length > 1, 'thinking arrives in several deltas');
    assert.deepEqual(signatures, [(whole.content[0] as Anthropic.ThinkingBlock).signature], 'one signature, the same as the non-stream one');
    assert.deepEqual(step1.content[0], whole.content[0]);

    const step2 = client.messages.stream({ model: MODEL, max_tokens: 4096, thinking, tools, messages: [first, { role: 'assistant', content: step1.content }, toolResultFor(step1)] });
    const final = await step2.finalMessage();
    assert.equal((final.content[0] as Anthropic.ThinkingBlock).thinking, AFTER);
    assert.equal(await step2.finalText(), ANSWER);
  });

  test('a continuation that drops the thinking block is a 400, as the real API answers it', async () => {
    const step1 = await ask([first]);
    const withoutThinking = step1.content.filter((b) => b.type !== 'thinking');
    await rejects400(ask([first, { role: 'assistant', content: withoutThinking }, toolResultFor(step1)]), /messages\.1\.content\.0\.type: Expected `thinking` or `redacted_thinking`, but found `text`/);
  });

  test('under adaptive thinking a continuation whose tool-use turn has no thinking block is accepted, as the model may skip thinking', async () => {
    const step1 = await ask([first]);
    const withoutThinking = step1.content.filter((b) => b.type !== 'thinking');
    const adaptive = { type: 'adaptive' } as unknown as Anthropic.ThinkingConfigParam;
    const step2 = await ask([first, { role: 'assistant', content: withoutThinking }, toolResultFor(step1)], { thinking: adaptive });
    assert.equal(step2.stop_reason, 'end_turn');
    assert.equal((step2.content.find((b) => b.type === 'text') as Anthropic.TextBlock).text, ANSWER);
  });

  test('a thinking block sent back edited fails its signature; one sent back unsigned misses a field', async () => {
    const step1 = await ask([first]);
    const edited = step1.content.map((b) => (b.type === 'thinking' ? { ...b, thinking: `${b.thinking} (edited)` } : b));
    await rejects400(ask([first, { role: 'assistant', content: edited }, toolResultFor(step1)]), /messages\.1\.content\.0: Invalid `signature` in `thinking` block/);
    const unsigned = step1.content.map((b) => (b.type === 'thinking' ? { type: 'thinking', thinking: b.thinking } : b)) as Anthropic.ContentBlockParam[];
    await rejects400(ask([first, { role: 'assistant', content: unsigned }, toolResultFor(step1)]), /messages\.1\.content\.0\.thinking\.signature: Field required/);
  });

  test('without thinking enabled the rule\'s thinking is left out, as the API sends none, and the loop needs none sent back', async () => {
    const step1 = await client.messages.create({ model: MODEL, max_tokens: 1024, tools, messages: [first] });
    assert.deepEqual(step1.content.map((b) => b.type), ['text', 'tool_use']);
    assert.equal(step1.usage.output_tokens_details ?? null, null, 'no thinking counted');
    const step2 = await client.messages.create({ model: MODEL, max_tokens: 1024, tools, messages: [first, { role: 'assistant', content: step1.content }, toolResultFor(step1)] });
    assert.deepEqual(step2.content.map((b) => b.type), ['text']);
  });

  test('budget_tokens under 1024 or not below max_tokens, and a forced tool with thinking, are 400s', async () => {
    await rejects400(ask([first], { thinking: { type: 'enabled', budget_tokens: 512 } }), /thinking\.enabled\.budget_tokens: Input should be greater than or equal to 1024/);
    await rejects400(ask([first], { max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 2048 } }), /`max_tokens` must be greater than `thinking\.budget_tokens`/);
    await rejects400(ask([first], { tool_choice: { type: 'any' } }), /Thinking may not be enabled when tool_choice forces tool use/);
  });
});

describe('redacted and synthesised thinking', () => {
  test('a redacted rule answers a redacted_thinking block with opaque data, whole in its stream start event', async () => {
    const message = await ask([{ role: 'user', content: 'redacted please' }]);
    assert.equal(message.content[0]!.type, 'redacted_thinking');
    const data = (message.content[0] as Anthropic.RedactedThinkingBlock).data;
    assert.ok(data.length > 20 && !data.includes(SECRET));
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const event of await client.messages.create({ model: MODEL, max_tokens: 4096, thinking, messages: [{ role: 'user', content: 'redacted please' }], stream: true })) events.push(event);
    const start = events.find((e) => e.type === 'content_block_start' && e.index === 0) as Anthropic.RawContentBlockStartEvent;
    assert.deepEqual(start.content_block, { type: 'redacted_thinking', data });
    assert.ok(!events.some((e) => e.type === 'content_block_delta' && e.index === 0), 'no deltas for redacted thinking');
  });

  test('with thinking enabled and none in the rule, the answer still opens with a signed thinking block; without, it has none', async () => {
    const thought = await ask([{ role: 'user', content: 'no thinking in the rule' }]);
    assert.deepEqual(thought.content.map((b) => b.type), ['thinking', 'text']);
    const block = thought.content[0] as Anthropic.ThinkingBlock;
    assert.match(block.thinking, /no thinking in the rule/);
    const again = await ask([{ role: 'user', content: 'no thinking in the rule' }]);
    assert.deepEqual(again.content[0], block, 'the same request gets the same thinking');
    const plain = await client.messages.create({ model: MODEL, max_tokens: 1024, messages: [{ role: 'user', content: 'no thinking in the rule' }] });
    assert.deepEqual(plain.content.map((b) => b.type), ['text']);
  });

  test('display "omitted" sends empty thinking with a signature, accepted back in the loop', async () => {
    const omitted = { type: 'enabled', budget_tokens: 2048, display: 'omitted' } as unknown as Anthropic.ThinkingConfigParam;
    const step1 = await ask([first], { thinking: omitted });
    const block = step1.content[0] as Anthropic.ThinkingBlock;
    assert.equal(block.type, 'thinking');
    assert.equal(block.thinking, '');
    assert.ok(block.signature.length > 20);
    const step2 = await ask([first, { role: 'assistant', content: step1.content }, toolResultFor(step1)], { thinking: omitted });
    assert.equal((step2.content.at(-1) as Anthropic.TextBlock).text, ANSWER);
  });
});

describe('thinking on the wire', () => {
  test('SSE frames: a thinking block starts empty, carries thinking_delta then one signature_delta, and stops before the text block', async () => {
    const response = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: MODEL, max_tokens: 4096, thinking, tools, stream: true, messages: [first] }),
    });
    assert.equal(response.status, 200);
    const frames = (await response.text()).split('\n\n').filter(Boolean).map((frame) => {
      const [eventLine, dataLine] = frame.split('\n');
      const data = JSON.parse(dataLine!.slice('data: '.length)) as Record<string, any>;
      assert.equal(eventLine, `event: ${data.type}`);
      return data;
    });
    const block0 = frames.filter((f) => f.index === 0);
    assert.deepEqual(block0[0], { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } });
    const deltas = block0.slice(1, -1).map((f) => f.delta.type as string);
    assert.ok(deltas.length >= 3);
    assert.deepEqual(new Set(deltas.slice(0, -1)), new Set(['thinking_delta']));
    assert.equal(deltas.at(-1), 'signature_delta');
    assert.deepEqual(block0.at(-1), { type: 'content_block_stop', index: 0 });
    const stopAt = frames.indexOf(block0.at(-1)!);
    const textStart = frames.findIndex((f) => f.type === 'content_block_start' && f.index === 1);
    assert.ok(textStart > stopAt, 'the text block starts after the thinking block stops');
    assert.equal(frames[textStart]!.content_block.type, 'text');
    assert.equal(frames.find((f) => f.type === 'content_block_start' && f.index === 2)?.content_block.type, 'tool_use');
  });
});
