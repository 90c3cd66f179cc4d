// Mid-stream faults as the clients see them: `error_event` (the provider's in-stream error frame)
// and `disconnect` (the socket closes with no terminator). Each SDK must throw, never hang (every
// stream is read under a deadline), and what arrived before the fault is exactly the first N
// content chunks. Non-stream requests for a faulting rule fail in the provider's shape.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { streamText } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { parseSse, post, startTestServer, type TestServer } from '../helpers/server.ts';
import { rejectionOf, withDeadline } from '../helpers/deadline.ts';

const OPENAI_MODEL = 'gpt-4o-mini';
const ANTHROPIC_MODEL = 'claude-sonnet-5-5';
const ANSWER = 'Alpha bravo charlie delta echo foxtrot golf.';
/** Word chunking: each word with the whitespace before it. */
const FIRST_THREE = 'Alpha bravo charlie';
const FAULT_MESSAGE = 'Injected mid-stream failure.';
const DEADLINE_MS = 20_000;

const CONFIG = `
rules:
  - id: fail-event
    match: {contains: "fail with an event"}
    response: {text: ${JSON.stringify(ANSWER)}, chunking: word, fault: {fail_after_chunks: 3, mode: error_event, message: ${JSON.stringify(FAULT_MESSAGE)}}}
  - id: fail-disconnect
    match: {contains: "fail with a disconnect"}
    response: {text: ${JSON.stringify(ANSWER)}, chunking: word, fault: {fail_after_chunks: 3, mode: disconnect}}
  - id: fail-at-once
    match: {contains: "fail at once"}
    response: {text: ${JSON.stringify(ANSWER)}, chunking: word, fault: {fail_after_chunks: 0}}
  - id: fail-after-all
    match: {contains: "fail after everything"}
    response: {text: ${JSON.stringify(ANSWER)}, chunking: whole, fault: {fail_after_chunks: 1}}
  - id: fail-past-the-end
    match: {contains: "fail past the end"}
    response: {text: ${JSON.stringify(ANSWER)}, chunking: word, fault: {fail_after_chunks: 50}}
  - id: fail-tool
    match: {contains: "fail a tool call"}
    response:
      tool_calls: [{name: get_weather, arguments: {city: Paris, days: 3}}]
      chunking: whole
      fault: {fail_after_chunks: 1}
defaults:
  unknown_response: "no rule matched"
`;

let server: TestServer;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  server = await startTestServer(CONFIG);
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-faults', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-faults', maxRetries: 0 });
});

after(async () => {
  await server?.stop();
});

/** Iterates an OpenAI stream, keeping the text received, until it throws (returned) or ends (fails the test). */
async function openaiUntilFailure(prompt: string): Promise<{ text: string; error: unknown }> {
  let text = '';
  const read = (async () => {
    const stream = await openai.chat.completions.create({ model: OPENAI_MODEL, stream: true, messages: [{ role: 'user', content: prompt }] });
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  })();
  const error = await rejectionOf(read, DEADLINE_MS, 'the openai stream');
  return { text, error };
}

async function anthropicUntilFailure(prompt: string): Promise<{ text: string; error: unknown }> {
  let text = '';
  const read = (async () => {
    const stream = await anthropic.messages.create({ model: ANTHROPIC_MODEL, max_tokens: 100, stream: true, messages: [{ role: 'user', content: prompt }] });
    for await (const event of stream) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
  })();
  const error = await rejectionOf(read, DEADLINE_MS, 'the Anthropic stream');
  return { text, error };
}

describe('fault mode error_event', () => {
  test('openai SDK stream iteration throws APIError with the fault message after the first 3 chunks', async () => {
    const { text, error } = await openaiUntilFailure('please fail with an event');
    assert.ok(error instanceof OpenAI.APIError, `got ${String(error)}`);
    assert.match(error.message, new RegExp(FAULT_MESSAGE.replace('.', '\\.')));
    assert.equal(error.type, 'server_error');
    assert.equal(text, FIRST_THREE);
  });

  test('openai SDK .stream().finalChatCompletion() rejects, with the same 3 chunks delivered as content events', async () => {
    const stream = openai.chat.completions.stream({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'please fail with an event' }] });
    const deltas: string[] = [];
    stream.on('content', (delta) => deltas.push(delta));
    const error = await rejectionOf(stream.finalChatCompletion(), DEADLINE_MS, 'finalChatCompletion');
    assert.ok(error instanceof OpenAI.APIError);
    assert.deepEqual(deltas, ['Alpha', ' bravo', ' charlie']);
  });

  test('Anthropic SDK stream iteration throws the overloaded_error event after the first 3 chunks', async () => {
    const { text, error } = await anthropicUntilFailure('please fail with an event');
    assert.ok(error instanceof Anthropic.APIError, `got ${String(error)}`);
    assert.match(error.message, /overloaded_error/);
    assert.match(error.message, new RegExp(FAULT_MESSAGE.replace('.', '\\.')));
    assert.equal(text, FIRST_THREE);
  });

  test('Anthropic SDK messages.stream().finalMessage() rejects', async () => {
    const stream = anthropic.messages.stream({ model: ANTHROPIC_MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'please fail with an event' }] });
    const deltas: string[] = [];
    stream.on('text', (delta) => deltas.push(delta));
    const error = await rejectionOf(stream.finalMessage(), DEADLINE_MS, 'finalMessage');
    assert.ok(error instanceof Anthropic.APIError, `got ${String(error)}`);
    assert.equal(deltas.join(''), FIRST_THREE);
  });

  test('the AI SDK reports the fault as an error part and finishReason error, keeping the text before it', async () => {
    for (const model of [
      createOpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-ai' }).chat(OPENAI_MODEL),
      createAnthropic({ baseURL: `${server.url}/v1`, apiKey: 'sk-ant-ai' })(ANTHROPIC_MODEL),
    ]) {
      const errors: unknown[] = [];
      const result = streamText({ model, prompt: 'please fail with an event', maxRetries: 0, onError: ({ error }) => void errors.push(error) });
      let text = '';
      const read = (async () => {
        for await (const piece of result.textStream) text += piece;
      })();
      await withDeadline(read, DEADLINE_MS, 'the AI SDK stream');
      assert.equal(text, FIRST_THREE);
      assert.equal(errors.length, 1, `one error part, got ${errors.length}`);
      assert.equal(await withDeadline(Promise.resolve(result.finishReason), DEADLINE_MS, 'finishReason'), 'error');
    }
  });

  test('on the wire: 3 content frames, the provider\'s error frame, and no terminator', async () => {
    const o = await post(`${server.url}/v1/chat/completions`, { model: OPENAI_MODEL, stream: true, messages: [{ role: 'user', content: 'fail with an event' }] });
    assert.equal(o.status, 200);
    const oFrames = parseSse(await o.text());
    const last = oFrames.at(-1)!;
    assert.deepEqual(JSON.parse(last.data), { error: { message: FAULT_MESSAGE, type: 'server_error', param: null, code: null } });
    assert.ok(!oFrames.some((f) => f.data === '[DONE]'));
    const contents = oFrames.slice(0, -1).map((f) => (JSON.parse(f.data) as { choices: { delta: { content?: string } }[] }).choices[0]!.delta.content).filter((c) => c);
    assert.deepEqual(contents, ['Alpha', ' bravo', ' charlie']);

    const a = await post(`${server.url}/v1/messages`, { model: ANTHROPIC_MODEL, max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'fail with an event' }] }, { 'anthropic-version': '2023-06-01' });
    const aFrames = parseSse(await a.text());
    assert.equal(aFrames.at(-1)!.event, 'error');
    assert.deepEqual(JSON.parse(aFrames.at(-1)!.data), { type: 'error', error: { type: 'overloaded_error', message: FAULT_MESSAGE } });
    assert.ok(!aFrames.some((f) => f.event === 'message_stop' || f.event === 'message_delta'));
    assert.equal(aFrames.filter((f) => f.event === 'content_block_delta').length, 3);
  });

  test('fail_after_chunks: 0 fails before any content', async () => {
    const o = await openaiUntilFailure('fail at once');
    assert.equal(o.text, '');
    assert.ok(o.error instanceof OpenAI.APIError);
    const a = await anthropicUntilFailure('fail at once');
    assert.equal(a.text, '');
    assert.ok(a.error instanceof Anthropic.APIError);
  });

  test('fail_after_chunks equal to the chunk count sends all the text, then the error instead of the finish', async () => {
    const o = await openaiUntilFailure('fail after everything');
    assert.equal(o.text, ANSWER);
    assert.ok(o.error instanceof OpenAI.APIError, `got ${String(o.error)}`);
    const a = await anthropicUntilFailure('fail after everything');
    assert.equal(a.text, ANSWER);
    assert.ok(a.error instanceof Anthropic.APIError, `got ${String(a.error)}`);
  });

  test('fail_after_chunks past the last chunk still fails the stream, as it fails the non-stream answer', async () => {
    const o = await openaiUntilFailure('fail past the end');
    assert.equal(o.text, ANSWER);
    assert.ok(o.error instanceof OpenAI.APIError, `got ${String(o.error)}`);
    const a = await anthropicUntilFailure('fail past the end');
    assert.equal(a.text, ANSWER);
    assert.ok(a.error instanceof Anthropic.APIError, `got ${String(a.error)}`);
  });

  test('a fault counts tool-argument fragments as chunks: a whole-chunked call fails after its one fragment', async () => {
    const res = await post(`${server.url}/v1/chat/completions`, { model: OPENAI_MODEL, stream: true, messages: [{ role: 'user', content: 'fail a tool call' }] });
    const frames = parseSse(await res.text());
    assert.ok('error' in JSON.parse(frames.at(-1)!.data), `the stream ends with an error frame, not ${frames.at(-1)!.data}`);
    assert.ok(!frames.some((f) => f.data.includes('"finish_reason":"tool_calls"')));
    const fragments = frames
      .slice(0, -1)
      .flatMap((f) => (JSON.parse(f.data) as { choices: { delta: { tool_calls?: { function: { arguments: string } }[] } }[] }).choices[0]!.delta.tool_calls ?? [])
      .map((c) => c.function.arguments)
      .filter((a) => a !== '');
    assert.deepEqual(fragments, ['{"city":"Paris","days":3}']);
  });
});

describe('fault mode disconnect', () => {
  test('openai SDK stream iteration throws (no hang) after the first 3 chunks', async () => {
    const { text, error } = await openaiUntilFailure('fail with a disconnect');
    assert.ok(error instanceof Error, `got ${String(error)}`);
    assert.equal(text, FIRST_THREE);
  });

  test('openai SDK finalChatCompletion rejects (no hang)', async () => {
    const stream = openai.chat.completions.stream({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'fail with a disconnect' }] });
    await rejectionOf(stream.finalChatCompletion(), DEADLINE_MS, 'finalChatCompletion');
  });

  test('Anthropic SDK stream iteration throws (no hang) after the first 3 chunks', async () => {
    const { text, error } = await anthropicUntilFailure('fail with a disconnect');
    assert.ok(error instanceof Error, `got ${String(error)}`);
    assert.equal(text, FIRST_THREE);
  });

  test('Anthropic SDK finalMessage rejects (no hang)', async () => {
    const stream = anthropic.messages.stream({ model: ANTHROPIC_MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'fail with a disconnect' }] });
    await rejectionOf(stream.finalMessage(), DEADLINE_MS, 'finalMessage');
  });

  test('on the wire: the bytes before the close are the start and 3 whole content frames, nothing after', async () => {
    const res = await post(`${server.url}/v1/chat/completions`, { model: OPENAI_MODEL, stream: true, messages: [{ role: 'user', content: 'fail with a disconnect' }] });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    const error = await rejectionOf(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          received += decoder.decode(value, { stream: true });
        }
      })(),
      DEADLINE_MS,
      'reading the raw stream',
    );
    assert.ok(error instanceof Error, 'the body ends with an error, not a clean end');
    const frames = parseSse(received);
    assert.equal(frames.length, 4, 'the role frame and 3 content frames');
    assert.ok(!received.includes('[DONE]'));
    assert.ok(!received.includes('"finish_reason":"stop"'));
  });
});

describe('faults on non-stream requests', () => {
  test('error_event makes a non-stream request a 500 in each provider\'s shape', async () => {
    const o = await post(`${server.url}/v1/chat/completions`, { model: OPENAI_MODEL, messages: [{ role: 'user', content: 'fail with an event' }] });
    assert.equal(o.status, 500);
    assert.deepEqual(await o.json(), { error: { message: FAULT_MESSAGE, type: 'server_error', param: null, code: null } });
    const a = await post(`${server.url}/v1/messages`, { model: ANTHROPIC_MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'fail with an event' }] }, { 'anthropic-version': '2023-06-01' });
    assert.equal(a.status, 500);
    const body = (await a.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'api_error');
    assert.equal(body.error.message, FAULT_MESSAGE);
  });

  test('the SDKs see that 500 as InternalServerError', async () => {
    const o = await rejectionOf(openai.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'fail with an event' }] }), DEADLINE_MS, 'openai create');
    assert.ok(o instanceof OpenAI.InternalServerError);
    const a = await rejectionOf(anthropic.messages.create({ model: ANTHROPIC_MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'fail with an event' }] }), DEADLINE_MS, 'anthropic create');
    assert.ok(a instanceof Anthropic.InternalServerError);
  });

  test('disconnect makes a non-stream request a connection error in both SDKs', async () => {
    const o = await rejectionOf(openai.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'fail with a disconnect' }] }), DEADLINE_MS, 'openai create');
    assert.ok(o instanceof OpenAI.APIConnectionError, `got ${String(o)}`);
    const a = await rejectionOf(anthropic.messages.create({ model: ANTHROPIC_MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'fail with a disconnect' }] }), DEADLINE_MS, 'anthropic create');
    assert.ok(a instanceof Anthropic.APIConnectionError, `got ${String(a)}`);
  });

  test('the server keeps answering after every kind of fault', async () => {
    const res = await post(`${server.url}/v1/chat/completions`, { model: OPENAI_MODEL, messages: [{ role: 'user', content: 'anything else' }] });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content, 'no rule matched');
  });
});
