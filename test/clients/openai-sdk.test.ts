// The official `openai` package as a client of a real mockllm on 127.0.0.1: non-stream, raw stream
// iteration, the `.stream()` helper, include_usage, n>1, multi-turn, content parts, matching modes,
// system prompts, the unknown-prompt fallback and token usage.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { countTokens, encodeChat } from 'gpt-tokenizer/encoding/o200k_base';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { configYaml, recordingFetch, UNKNOWN } from './fixtures.ts';

const HI = 'Hello! I am the mock. Ask me anything you like.';
const SKY = 'The sky is blue during a clear day due to a phenomenon called Rayleigh scattering.';
const FIRST = 'This is the answer to the first question.';
const SECOND = 'And this one answers the second question.';
const PARTS = 'Both text parts arrived, joined by a newline.';
const SYSTEM_TRAP = 'Wrong: the system prompt was matched instead of the user message.';

const RESPONSES = {
  hi: HI,
  'what colour is the sky?': SKY,
  'first question': FIRST,
  'second question': SECOND,
  'part one\npart two': PARTS,
  'you are a helpful assistant.': SYSTEM_TRAP,
};

const MODEL = 'gpt-4o-mini';

let server: TestServer;
let exactServer: TestServer;
let client: OpenAI;
let exactClient: OpenAI;

before(async () => {
  server = await startTestServer(configYaml({ responses: RESPONSES, unknown: UNKNOWN }));
  exactServer = await startTestServer(configYaml({ responses: RESPONSES, unknown: UNKNOWN, settings: { match: 'exact' } }));
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test-openai' });
  exactClient = new OpenAI({ baseURL: `${exactServer.url}/v1`, apiKey: 'sk-test-openai' });
});

after(async () => {
  await Promise.all([server?.stop(), exactServer?.stop()]);
});

const user = (content: string): ChatCompletionMessageParam[] => [{ role: 'user', content }];

async function ask(messages: ChatCompletionMessageParam[], on: OpenAI = client): Promise<string | null> {
  const completion = await on.chat.completions.create({ model: MODEL, messages });
  return completion.choices[0]!.message.content;
}

async function collectRaw(params: Omit<OpenAI.ChatCompletionCreateParamsStreaming, 'model' | 'stream'>): Promise<ChatCompletionChunk[]> {
  const stream = await client.chat.completions.create({ model: MODEL, stream: true, ...params });
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const expectedUsage = (prompt: number, completion: number) => ({ prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });

describe('openai SDK, non-stream', () => {
  test('a configured prompt gets its configured text in a complete chat.completion', async () => {
    const { data, response } = await client.chat.completions.create({ model: MODEL, messages: user('what colour is the sky?') }).withResponse();
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(data.id, /^chatcmpl-[A-Za-z0-9]{29}$/);
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.model, MODEL);
    assert.ok(Number.isInteger(data.created) && Math.abs(data.created - Date.now() / 1000) < 60, `created ${data.created} is not now in Unix seconds`);
    assert.equal(data.choices.length, 1);
    const [choice] = data.choices;
    assert.equal(choice!.index, 0);
    assert.equal(choice!.finish_reason, 'stop');
    assert.equal(choice!.logprobs, null);
    assert.equal(choice!.message.role, 'assistant');
    assert.equal(choice!.message.content, SKY);
  });

  test('an unknown prompt gets defaults.unknown_response', async () => {
    assert.equal(await ask(user('what is the airspeed of an unladen swallow?')), UNKNOWN);
  });

  test('one user message "hi" costs 8 prompt tokens and total = prompt + completion', async () => {
    const completion = await client.chat.completions.create({ model: MODEL, messages: user('hi') });
    assert.equal(completion.choices[0]!.message.content, HI);
    assert.deepEqual(
      { prompt_tokens: completion.usage!.prompt_tokens, completion_tokens: completion.usage!.completion_tokens, total_tokens: completion.usage!.total_tokens },
      expectedUsage(8, countTokens(HI)),
    );
  });

  test('prompt tokens of a system + user conversation match the OpenAI chat token formula', async () => {
    const messages: ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You answer in one short sentence.' },
      { role: 'user', content: 'hi' },
    ];
    const completion = await client.chat.completions.create({ model: MODEL, messages });
    const formula = encodeChat(messages.map((m) => ({ role: m.role as 'system' | 'user', content: m.content as string })), 'gpt-4o').length;
    assert.equal(completion.usage!.prompt_tokens, formula);
    assert.ok(completion.usage!.prompt_tokens > 8);
  });

  test('n=3 returns three choices indexed 0..2, each with the text, and completion tokens cover all of them', async () => {
    const completion = await client.chat.completions.create({ model: MODEL, messages: user('hi'), n: 3 });
    assert.deepEqual(completion.choices.map((c) => c.index), [0, 1, 2]);
    for (const choice of completion.choices) {
      assert.equal(choice.message.content, HI);
      assert.equal(choice.finish_reason, 'stop');
    }
    assert.equal(completion.usage!.completion_tokens, 3 * countTokens(HI));
    assert.equal(completion.usage!.total_tokens, completion.usage!.prompt_tokens + completion.usage!.completion_tokens);
  });
});

describe('openai SDK, prompt matching', () => {
  test('in a multi-turn conversation the last user message is what is matched', async () => {
    assert.equal(
      await ask([
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: FIRST },
        { role: 'user', content: 'second question' },
      ]),
      SECOND,
    );
    assert.equal(
      await ask([
        { role: 'user', content: 'second question' },
        { role: 'assistant', content: SECOND },
        { role: 'user', content: 'first question' },
      ]),
      FIRST,
    );
  });

  test('a trailing assistant turn does not hide the last user message', async () => {
    assert.equal(
      await ask([
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'Let me think' },
      ]),
      FIRST,
    );
  });

  test('system and developer messages are instructions, not the prompt', async () => {
    assert.equal(
      await ask([
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'developer', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'what colour is the sky?' },
      ]),
      SKY,
    );
    assert.equal(
      await ask([
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'something nobody configured' },
      ]),
      UNKNOWN,
    );
  });

  test('content given as text parts is joined with newlines before matching', async () => {
    const messages: ChatCompletionMessageParam[] = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'part one' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'text', text: 'part two' },
        ],
      },
    ];
    assert.equal(await ask(messages), PARTS);
    // Exact mode proves the separator is a newline: a space or nothing would not match byte for byte.
    assert.equal(await ask(messages, exactClient), PARTS);
  });

  test('normalised matching ignores case, surrounding space and runs of whitespace', async () => {
    assert.equal(await ask(user('  WHAT   Colour is\tthe\n SKY?  ')), SKY);
    assert.equal(await ask(user('Part One   PART two')), PARTS);
  });

  test('settings.match exact compares the prompt byte for byte', async () => {
    assert.equal(await ask(user('what colour is the sky?'), exactClient), SKY);
    assert.equal(await ask(user('What colour is the sky?'), exactClient), UNKNOWN);
    assert.equal(await ask(user('what colour is the sky? '), exactClient), UNKNOWN);
    assert.equal(await ask(user('what  colour is the sky?'), exactClient), UNKNOWN);
  });
});

describe('openai SDK, streaming', () => {
  test('raw create({stream:true}) yields the configured text with one id, role first and finish_reason stop last', async () => {
    const chunks = await collectRaw({ messages: user('what colour is the sky?') });
    assert.ok(chunks.length >= 3);
    const ids = new Set(chunks.map((c) => c.id));
    assert.equal(ids.size, 1, `ids differ across chunks: ${[...ids].join(', ')}`);
    assert.match(chunks[0]!.id, /^chatcmpl-/);
    for (const chunk of chunks) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.model, MODEL);
      assert.equal(chunk.choices.length, 1);
      assert.equal(chunk.choices[0]!.index, 0);
    }
    assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
    const finishes = chunks.map((c) => c.choices[0]!.finish_reason);
    assert.deepEqual(finishes.slice(0, -1).filter((f) => f !== null), []);
    assert.equal(finishes.at(-1), 'stop');
    assert.equal(chunks.map((c) => c.choices[0]!.delta.content ?? '').join(''), SKY);
  });

  test('without include_usage no chunk carries usage', async () => {
    const chunks = await collectRaw({ messages: user('hi') });
    for (const chunk of chunks) assert.equal(chunk.usage, undefined, 'a chunk has a usage key although include_usage was not asked for');
  });

  test('include_usage adds a last chunk with choices [] whose usage equals the non-stream usage', async () => {
    const chunks = await collectRaw({ messages: user('hi'), stream_options: { include_usage: true } });
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    for (const chunk of chunks.slice(0, -1)) assert.equal(chunk.usage, null);
    const plain = await client.chat.completions.create({ model: MODEL, messages: user('hi') });
    assert.deepEqual(last.usage, plain.usage);
    assert.deepEqual(
      { prompt_tokens: last.usage!.prompt_tokens, completion_tokens: last.usage!.completion_tokens, total_tokens: last.usage!.total_tokens },
      expectedUsage(8, countTokens(HI)),
    );
  });

  test('the .stream() helper assembles the configured text into finalChatCompletion()', async () => {
    const deltas: string[] = [];
    const stream = client.chat.completions.stream({ model: MODEL, messages: user('what colour is the sky?') });
    stream.on('content', (delta) => deltas.push(delta));
    const final = await stream.finalChatCompletion();
    assert.equal(final.choices.length, 1);
    assert.equal(final.choices[0]!.message.role, 'assistant');
    assert.equal(final.choices[0]!.message.content, SKY);
    assert.equal(final.choices[0]!.finish_reason, 'stop');
    assert.equal(deltas.join(''), SKY);
  });

  test('the .stream() helper reports the same usage as the non-stream call when include_usage is set', async () => {
    const messages: ChatCompletionMessageParam[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: FIRST },
      { role: 'user', content: 'second question' },
    ];
    const final = await client.chat.completions.stream({ model: MODEL, messages, stream_options: { include_usage: true } }).finalChatCompletion();
    const plain = await client.chat.completions.create({ model: MODEL, messages });
    assert.equal(final.choices[0]!.message.content, SECOND);
    assert.deepEqual(final.usage, plain.usage);
    assert.equal(final.usage!.completion_tokens, countTokens(SECOND));
    assert.equal(final.usage!.total_tokens, final.usage!.prompt_tokens + final.usage!.completion_tokens);
  });

  test('n=2 streams each choice under its own index with its own role and finish chunk', async () => {
    const chunks = await collectRaw({ messages: user('hi'), n: 2 });
    for (const index of [0, 1]) {
      const mine = chunks.flatMap((c) => c.choices.filter((choice) => choice.index === index));
      assert.equal(mine[0]!.delta.role, 'assistant', `choice ${index} does not start with its role`);
      assert.equal(mine.at(-1)!.finish_reason, 'stop', `choice ${index} does not end with finish_reason stop`);
      assert.equal(mine.map((c) => c.delta.content ?? '').join(''), HI);
    }
    const final = await client.chat.completions.stream({ model: MODEL, messages: user('hi'), n: 2 }).finalChatCompletion();
    assert.deepEqual(
      final.choices.map((c) => [c.index, c.message.content, c.finish_reason]),
      [
        [0, HI, 'stop'],
        [1, HI, 'stop'],
      ],
    );
  });

  test('content parts and the last-user-message rule apply to streams too', async () => {
    const final = await client.chat.completions
      .stream({
        model: MODEL,
        messages: [
          { role: 'user', content: 'first question' },
          { role: 'assistant', content: FIRST },
          { role: 'user', content: [{ type: 'text', text: 'part one' }, { type: 'text', text: 'part two' }] },
        ],
      })
      .finalChatCompletion();
    assert.equal(final.choices[0]!.message.content, PARTS);
  });
});

describe('openai SDK, headers', () => {
  test('the SDK authenticates with Authorization: Bearer and every answer carries an x-request-id', async () => {
    const recorder = recordingFetch();
    const recording = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-bearer-check', fetch: recorder.fetch });
    const { data, response, request_id } = await recording.chat.completions.create({ model: MODEL, messages: user('hi') }).withResponse();
    assert.equal(data.choices[0]!.message.content, HI);
    assert.equal(recorder.requests[0]!.get('authorization'), 'Bearer sk-bearer-check');
    assert.ok(request_id, 'no x-request-id on a successful answer');
    assert.equal(response.headers.get('x-request-id'), request_id);
  });
});
