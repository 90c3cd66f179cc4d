// How a text answer is delivered: chunking (char, word, token, whole and the settings default)
// byte for byte per provider, templates, usage overrides, and finish_reason / stop_reason mapped
// between the providers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { parseSse, post, startTestServer, type TestServer } from '../helpers/server.ts';

const OPENAI_MODEL = 'gpt-4o-mini';
const ANTHROPIC_MODEL = 'claude-sonnet-5-5';

// Double spaces, a newline, a tab, accents, an emoji with a skin-tone modifier and a ZWJ family.
const UNICODE_TEXT = 'Hello,  world!\nLine two\t— ünïcödé 👋🏽 and 👨‍👩‍👧 done.';
const ASCII_TEXT = 'Tokens are cut exactly where the tokenizer cuts them, nowhere else.';

const graphemeCount = (text: string) => [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)].length;
const wordCount = (text: string) => text.match(/\S+/g)!.length;

const CONFIG = `
rules:
  - id: char
    match: {prompt: chunk char}
    response: {text: ${JSON.stringify(UNICODE_TEXT)}, chunking: char}
  - id: word
    match: {prompt: chunk word}
    response: {text: ${JSON.stringify(UNICODE_TEXT)}, chunking: word}
  - id: token
    match: {prompt: chunk token}
    response: {text: ${JSON.stringify(UNICODE_TEXT)}, chunking: token}
  - id: token-ascii
    match: {prompt: chunk token ascii}
    response: {text: ${JSON.stringify(ASCII_TEXT)}, chunking: token}
  - id: whole
    match: {prompt: chunk whole}
    response: {text: ${JSON.stringify(UNICODE_TEXT)}, chunking: whole}
  - id: default-chunking
    match: {prompt: chunk default}
    response: ${JSON.stringify(UNICODE_TEXT)}
  - id: echo
    match: {regex: "^echo:"}
    response: "You said <{{prompt}}> to {{ model }} via {{provider}} at {{endpoint}}; system <{{system}}>."
  - id: usage-openai-names
    match: {prompt: usage openai names}
    response: {text: "Counted by the rule.", usage: {prompt_tokens: 11, completion_tokens: 22}}
  - id: usage-anthropic-names
    match: {prompt: usage anthropic names}
    response: {text: "Counted by the rule.", usage: {input_tokens: 13, output_tokens: 31}}
  - id: usage-output-only
    match: {prompt: usage output only}
    response: {text: "Counted by the rule.", usage: {completion_tokens: 7}}
  - id: finish-length
    match: {prompt: finish length}
    response: {text: "Cut off mid", finish_reason: length}
  - id: stop-max-tokens
    match: {prompt: stop max_tokens}
    response: {text: "Cut off mid", stop_reason: max_tokens}
  - id: finish-content-filter
    match: {prompt: finish content_filter}
    response: {text: "", finish_reason: content_filter}
  - id: stop-refusal
    match: {prompt: stop refusal}
    response: {text: "I can't help with that.", stop_reason: refusal}
  - id: stop-sequence
    match: {prompt: stop stop_sequence}
    response: {text: "Up to the stop", stop_reason: stop_sequence}
  - id: both-reasons
    match: {prompt: both reasons}
    response: {text: "Each its own.", finish_reason: content_filter, stop_reason: end_turn}
  - id: tool-default-finish
    match: {prompt: tool default finish}
    response: {tool_calls: [{name: get_weather}]}
defaults:
  unknown_response: "no rule matched"
settings:
  chunking: word
`;

let server: TestServer;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  server = await startTestServer(CONFIG);
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-answers', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-answers', maxRetries: 0 });
});

after(async () => {
  await server?.stop();
});

/** The content deltas of a raw OpenAI stream, exactly as sent (empty role content excluded). */
async function openaiDeltas(prompt: string): Promise<string[]> {
  const res = await post(`${server.url}/v1/chat/completions`, { model: OPENAI_MODEL, stream: true, messages: [{ role: 'user', content: prompt }] });
  assert.equal(res.status, 200);
  return parseSse(await res.text())
    .filter((f) => f.data !== '[DONE]')
    .map((f) => (JSON.parse(f.data) as { choices: { delta: { content?: string | null } }[] }).choices[0]?.delta.content)
    .filter((c): c is string => typeof c === 'string' && c !== '');
}

/** The text_delta pieces of a raw Anthropic stream. */
async function anthropicDeltas(prompt: string): Promise<string[]> {
  const res = await post(`${server.url}/v1/messages`, { model: ANTHROPIC_MODEL, max_tokens: 100, stream: true, messages: [{ role: 'user', content: prompt }] }, { 'anthropic-version': '2023-06-01' });
  assert.equal(res.status, 200);
  return parseSse(await res.text())
    .filter((f) => f.event === 'content_block_delta')
    .map((f) => (JSON.parse(f.data) as { delta: { type: string; text?: string } }).delta)
    .filter((d) => d.type === 'text_delta')
    .map((d) => d.text!);
}

describe('chunking', () => {
  const cases: [mode: string, prompt: string, text: string, frames: number | ((pieces: string[]) => void)][] = [
    ['char', 'chunk char', UNICODE_TEXT, graphemeCount(UNICODE_TEXT)],
    ['word', 'chunk word', UNICODE_TEXT, wordCount(UNICODE_TEXT)],
    ['whole', 'chunk whole', UNICODE_TEXT, 1],
    ['token (ASCII: one frame per o200k token)', 'chunk token ascii', ASCII_TEXT, countTokens(ASCII_TEXT)],
    [
      'token (Unicode: tokens merged only where one splits a character)',
      'chunk token',
      UNICODE_TEXT,
      (pieces) => {
        assert.ok(pieces.length > wordCount(UNICODE_TEXT) && pieces.length <= countTokens(UNICODE_TEXT), `${pieces.length} token pieces`);
        for (const piece of pieces) assert.ok(piece.isWellFormed(), `${JSON.stringify(piece)} splits a surrogate pair`);
      },
    ],
    ['settings.chunking (word) for a rule without its own', 'chunk default', UNICODE_TEXT, wordCount(UNICODE_TEXT)],
  ];

  for (const [mode, prompt, text, frames] of cases) {
    test(`${mode}: the concatenated deltas equal the text byte for byte, in the expected number of frames, for both providers`, async () => {
      for (const pieces of [await openaiDeltas(prompt), await anthropicDeltas(prompt)]) {
        assert.equal(pieces.join(''), text);
        if (typeof frames === 'number') assert.equal(pieces.length, frames);
        else frames(pieces);
      }
    });
  }

  test('word chunks carry the whitespace before each word', async () => {
    assert.deepEqual((await openaiDeltas('chunk word')).slice(0, 4), ['Hello,', '  world!', '\nLine', ' two']);
  });

  test('char chunks are whole graphemes: the emoji with its modifier and the ZWJ family stay one piece', async () => {
    const pieces = await anthropicDeltas('chunk char');
    assert.ok(pieces.includes('👋🏽'));
    assert.ok(pieces.includes('👨‍👩‍👧'));
  });
});

describe('templates', () => {
  const PROMPT = 'echo: Grüße 👋 "quoted"';
  const expected = (model: string, provider: string, endpoint: string, system: string) => `You said <${PROMPT}> to ${model} via ${provider} at ${endpoint}; system <${system}>.`;

  test('{{prompt}}, {{model}}, {{provider}}, {{endpoint}} and {{system}} are filled in per request (openai)', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: PROMPT }];
    const completion = await openai.chat.completions.create({ model: 'gpt-4.1', messages });
    const text = expected('gpt-4.1', 'openai', '/v1/chat/completions', 'Be terse.');
    assert.equal(completion.choices[0]!.message.content, text);
    assert.equal(completion.usage?.completion_tokens, countTokens(text), 'usage counts the rendered text');
    const streamed = await openai.chat.completions.stream({ model: 'gpt-4o', messages }).finalChatCompletion();
    assert.equal(streamed.choices[0]!.message.content, expected('gpt-4o', 'openai', '/v1/chat/completions', 'Be terse.'));
  });

  test('templates render for Anthropic too, streamed and not', async () => {
    const body = { model: ANTHROPIC_MODEL, max_tokens: 100, system: 'Be terse.', messages: [{ role: 'user' as const, content: PROMPT }] };
    const text = expected(ANTHROPIC_MODEL, 'anthropic', '/v1/messages', 'Be terse.');
    assert.deepEqual((await anthropic.messages.create(body)).content, [{ type: 'text', text }]);
    assert.equal(await anthropic.messages.stream(body).finalText(), text);
  });

  test('without a system prompt {{system}} is empty', async () => {
    const completion = await openai.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: PROMPT }] });
    assert.equal(completion.choices[0]!.message.content, expected(OPENAI_MODEL, 'openai', '/v1/chat/completions', ''));
  });
});

describe('usage overrides', () => {
  test('prompt_tokens / completion_tokens replace the counted figures for both providers', async () => {
    const o = await openai.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'usage openai names' }] });
    assert.deepEqual([o.usage?.prompt_tokens, o.usage?.completion_tokens, o.usage?.total_tokens], [11, 22, 33]);
    const a = await anthropic.messages.create({ model: ANTHROPIC_MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'usage openai names' }] });
    assert.deepEqual([a.usage.input_tokens, a.usage.output_tokens], [11, 22]);
  });

  test('input_tokens / output_tokens are the same override under Anthropic\'s names', async () => {
    const o = await openai.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'usage anthropic names' }] });
    assert.deepEqual([o.usage?.prompt_tokens, o.usage?.completion_tokens, o.usage?.total_tokens], [13, 31, 44]);
    const a = await anthropic.messages.create({ model: ANTHROPIC_MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'usage anthropic names' }] });
    assert.deepEqual([a.usage.input_tokens, a.usage.output_tokens], [13, 31]);
  });

  test('streams report the overridden usage: OpenAI\'s usage chunk, Anthropic\'s message_start and message_delta', async () => {
    const stream = await openai.chat.completions.create({ model: OPENAI_MODEL, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'usage openai names' }] });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    assert.deepEqual([usage?.prompt_tokens, usage?.completion_tokens, usage?.total_tokens], [11, 22, 33]);
    const message = await anthropic.messages.stream({ model: ANTHROPIC_MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'usage anthropic names' }] }).finalMessage();
    assert.deepEqual([message.usage.input_tokens, message.usage.output_tokens], [13, 31]);
  });

  test('overriding only the output keeps the counted input', async () => {
    const o = await openai.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'usage output only' }] });
    assert.equal(o.usage?.completion_tokens, 7);
    // One user message: 3 + (3 + role + content) tokens, as the real API counts it.
    assert.equal(o.usage?.prompt_tokens, 3 + 3 + countTokens('user') + countTokens('usage output only'));
    assert.equal(o.usage?.total_tokens, o.usage!.prompt_tokens + 7);
  });
});

describe('finish_reason and stop_reason', () => {
  async function reasons(prompt: string): Promise<{ openai: string[]; anthropic: string[] }> {
    const o = await openai.chat.completions.create({ model: OPENAI_MODEL, messages: [{ role: 'user', content: prompt }] });
    const oStream = await openai.chat.completions.create({ model: OPENAI_MODEL, stream: true, messages: [{ role: 'user', content: prompt }] });
    let oStreamed = '';
    for await (const chunk of oStream) oStreamed = chunk.choices[0]?.finish_reason ?? oStreamed;
    const body = { model: ANTHROPIC_MODEL, max_tokens: 100, messages: [{ role: 'user' as const, content: prompt }] };
    const a = await anthropic.messages.create(body);
    const aStreamed = await anthropic.messages.stream(body).finalMessage();
    return { openai: [o.choices[0]!.finish_reason, oStreamed], anthropic: [a.stop_reason!, aStreamed.stop_reason!] };
  }

  const cases: [prompt: string, openai: string, anthropic: string][] = [
    ['finish length', 'length', 'max_tokens'],
    ['stop max_tokens', 'length', 'max_tokens'],
    ['finish content_filter', 'content_filter', 'refusal'],
    ['stop refusal', 'content_filter', 'refusal'],
    ['stop stop_sequence', 'stop', 'stop_sequence'],
    ['both reasons', 'content_filter', 'end_turn'],
    ['tool default finish', 'tool_calls', 'tool_use'],
    ['usage output only', 'stop', 'end_turn'],
  ];
  for (const [prompt, openaiReason, anthropicReason] of cases) {
    test(`"${prompt}" finishes with ${openaiReason} (OpenAI) and ${anthropicReason} (Anthropic), streamed or not`, async () => {
      const got = await reasons(prompt);
      assert.deepEqual(got.openai, [openaiReason, openaiReason]);
      assert.deepEqual(got.anthropic, [anthropicReason, anthropicReason]);
    });
  }
});
