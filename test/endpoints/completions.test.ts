// POST /v1/completions (legacy text completions) through the official openai SDK and plain fetch:
// text_completion objects with cmpl- ids, a choice per prompt (n each) answered by its own rule,
// streams of text pieces ending in data: [DONE], usage counted with cl100k_base.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { OpenAI as LangChainOpenAI } from '@langchain/openai';
import { countTokens, encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { parseSse, post, startTestServer, type TestServer } from '../helpers/server.ts';

const HELLO = 'Hello from the legacy endpoint.';
const TEST = 'This is indeed a test.';
const UNKNOWN = 'No completion rule matched.';
const MODEL = 'gpt-3.5-turbo-instruct';

const CONFIG = `
responses:
  "say hello": ${JSON.stringify(HELLO)}
  "say this is a test": ${JSON.stringify(TEST)}
rules:
  - match: {prompt: "only here", endpoint: /v1/completions}
    response: "endpoint-specific answer"
  - match: {prompt: "too long"}
    response: {text: "cut", finish_reason: length}
  - match: {prompt: "boom"}
    response: {error: {status: 503, message: "Engine overloaded"}}
  - match: {prompt: "fail midway"}
    response: {text: "abcdef", fault: {fail_after_chunks: 2, message: "stream broke"}}
defaults:
  unknown_response: ${JSON.stringify(UNKNOWN)}
`;

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

describe('openai SDK completions.create', () => {
  test('a string prompt is matched like a user message: a text_completion with a cmpl- id and cl100k usage', async () => {
    const { data, response } = await client.completions.create({ model: MODEL, prompt: 'say hello' }).withResponse();
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(data.id, /^cmpl-[A-Za-z0-9]{29}$/);
    assert.equal(data.object, 'text_completion');
    assert.equal(data.model, MODEL);
    assert.ok(Math.abs(data.created - Date.now() / 1000) < 60);
    assert.deepEqual(data.choices, [{ text: HELLO, index: 0, logprobs: null, finish_reason: 'stop' }]);
    const prompt = countTokens('say hello');
    const completion = countTokens(HELLO);
    assert.deepEqual(data.usage, { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });
  });

  test('each prompt of an array gets its own rule, n choices each, indexed prompt by prompt', async () => {
    const data = await client.completions.create({ model: MODEL, prompt: ['say hello', 'say this is a test', 'unconfigured'], n: 2 });
    assert.deepEqual(
      data.choices.map((c) => [c.index, c.text]),
      [[0, HELLO], [1, HELLO], [2, TEST], [3, TEST], [4, UNKNOWN], [5, UNKNOWN]],
    );
    const prompt = countTokens('say hello') + countTokens('say this is a test') + countTokens('unconfigured');
    const completion = 2 * (countTokens(HELLO) + countTokens(TEST) + countTokens(UNKNOWN));
    assert.deepEqual(data.usage, { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });
  });

  test('token prompts are decoded with cl100k_base and counted by their length', async () => {
    const one = await client.completions.create({ model: MODEL, prompt: encode('say hello') });
    assert.equal(one.choices[0]!.text, HELLO);
    assert.equal(one.usage!.prompt_tokens, encode('say hello').length);
    const many = await client.completions.create({ model: MODEL, prompt: [encode('say hello'), encode('say this is a test')] });
    assert.deepEqual(many.choices.map((c) => c.text), [HELLO, TEST]);
  });

  test('echo puts the prompt before the answer; endpoint rules and finish_reason length apply', async () => {
    assert.equal((await client.completions.create({ model: MODEL, prompt: 'say hello', echo: true })).choices[0]!.text, `say hello${HELLO}`);
    assert.equal((await client.completions.create({ model: MODEL, prompt: 'only here' })).choices[0]!.text, 'endpoint-specific answer');
    const cut = await client.completions.create({ model: MODEL, prompt: 'too long' });
    assert.equal(cut.choices[0]!.finish_reason, 'length');
  });

  test('a rule error is the HTTP error; validation speaks OpenAI', async () => {
    await assert.rejects(client.completions.create({ model: MODEL, prompt: 'boom' }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 503);
      return true;
    });
    const cases: [Json, string, string | null][] = [
      [{ prompt: 'x' }, 'you must provide a model parameter', null],
      [{ model: MODEL }, "Missing required parameter: 'prompt'.", 'prompt'],
      [{ model: MODEL, prompt: [] }, "Invalid 'prompt': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'prompt'],
      [{ model: MODEL, prompt: ['a', 1] }, "Invalid type for 'prompt[1]': expected one of a string, an array of strings, an array of integers, or an array of arrays of integers, but got an integer instead.", 'prompt[1]'],
      [{ model: MODEL, prompt: [999999] }, 'Invalid token in prompt: 999999. Minimum value is 0, maximum value is 100276 (inclusive).', null],
      [{ model: MODEL, prompt: 'x', n: 0 }, "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.", 'n'],
    ];
    for (const [body, message, param] of cases) {
      const response = await post(`${server.url}/v1/completions`, body);
      assert.equal(response.status, 400, JSON.stringify(body));
      const { error } = (await response.json()) as Json;
      assert.equal(error.message, message);
      assert.equal(error.param, param);
      assert.equal(error.type, 'invalid_request_error');
    }
  });

  test('strict mode: a chat model is a 404, unknown fields are refused, instruct models pass', async () => {
    const strict = new OpenAI({ baseURL: `${strictServer.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    await assert.rejects(strict.completions.create({ model: 'gpt-4o-mini', prompt: 'say hello' }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.NotFoundError);
      assert.match(error.message, /This is a chat model and not supported in the v1\/completions endpoint/);
      return true;
    });
    const response = await post(`${strictServer.url}/v1/completions`, { model: MODEL, prompt: 'x', messages: [] });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as Json).error.message, 'Unrecognized request argument supplied: messages');
    const ok = await strict.completions.create({ model: MODEL, prompt: 'say hello', max_tokens: 64, temperature: 0, stop: ['\n'], suffix: '', logprobs: null, user: 'u' });
    assert.equal(ok.choices[0]!.text, HELLO);
  });
});

describe('completions streaming', () => {
  test('the SDK iterates text pieces of one cmpl- id that rebuild the answer, the last with finish_reason', async () => {
    const stream = await client.completions.create({ model: MODEL, prompt: 'say this is a test', stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.length > 2);
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
    assert.match(chunks[0]!.id, /^cmpl-/);
    for (const chunk of chunks) assert.equal(chunk.object, 'text_completion');
    assert.equal(chunks.map((c) => c.choices[0]!.text).join(''), TEST);
    assert.deepEqual(chunks.map((c) => c.choices[0]!.finish_reason).filter((f) => f !== null), ['stop']);
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'stop');
  });

  test('on the wire: data: frames without event lines, usage chunk only with include_usage, then data: [DONE]', async () => {
    for (const includeUsage of [false, true]) {
      const response = await post(`${server.url}/v1/completions`, {
        model: MODEL,
        prompt: ['say hello', 'say this is a test'],
        stream: true,
        ...(includeUsage && { stream_options: { include_usage: true } }),
      });
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
      const frames = parseSse(await response.text());
      assert.equal(frames.at(-1)!.data, '[DONE]');
      for (const frame of frames) assert.equal(frame.event, undefined);
      const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.data) as Json);
      const byIndex = new Map<number, string>();
      for (const chunk of chunks) for (const c of chunk.choices) byIndex.set(c.index, (byIndex.get(c.index) ?? '') + c.text);
      assert.deepEqual([...byIndex], [[0, HELLO], [1, TEST]]);
      const usageChunks = chunks.filter((c) => c.usage);
      if (includeUsage) {
        assert.equal(usageChunks.length, 1);
        assert.deepEqual(chunks.at(-1)!.choices, []);
        const prompt = countTokens('say hello') + countTokens('say this is a test');
        const completion = countTokens(HELLO) + countTokens(TEST);
        assert.deepEqual(chunks.at(-1)!.usage, { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });
      } else assert.equal(usageChunks.length, 0);
    }
  });

  test('a fault mid-stream is an error frame the SDK throws on', async () => {
    const stream = await client.completions.create({ model: MODEL, prompt: 'fail midway', stream: true });
    const texts: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) texts.push(chunk.choices[0]?.text ?? '');
      })(),
      (error: unknown) => error instanceof OpenAI.APIError && /stream broke/.test(error.message),
    );
    assert.equal(texts.join(''), 'ab');
  });
});

describe('LangChain OpenAI (the legacy completions LLM)', () => {
  test('invoke returns the configured text', async () => {
    const llm = new LangChainOpenAI({ model: MODEL, apiKey: 'sk-langchain', maxRetries: 0, configuration: { baseURL: `${server.url}/v1` } });
    assert.equal(await llm.invoke('say hello'), HELLO);
  });
});
