// Text fidelity: whatever text a rule holds, a stream carries it byte for byte, in every chunking
// mode and through every streaming endpoint, and no delta ends inside a surrogate pair or a
// grapheme cluster (emoji, ZWJ sequences, flags, combining marks, conjuncts, CRLF).
// The text is configured through the admin API and read back over raw SSE.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PROVIDERS } from '../../src/providers/index.ts';
import { parseSse, startTestServer, type TestServer } from '../helpers/server.ts';
import { admin } from '../helpers/admin.ts';
import { FUZZ_RUNS, rawRequest } from './support.ts';

const MODES = ['char', 'word', 'token', 'whole'] as const;
type Mode = (typeof MODES)[number];

interface StreamingEndpoint {
  name: string;
  path: string;
  headers: Record<string, string>;
  body(prompt: string, stream: boolean): unknown;
  /** The text pieces of a stream, in order. */
  deltas(frames: { event?: string; data: string }[]): string[];
  /** The text of a non-stream answer. */
  text(json: any): string;
}

const ENDPOINTS: StreamingEndpoint[] = [
  {
    name: 'OpenAI chat completions',
    path: '/v1/chat/completions',
    headers: {},
    body: (prompt, stream) => ({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: prompt }] }),
    deltas: (frames) =>
      frames.filter((f) => f.data !== '[DONE]').flatMap((f) => {
        const content = (JSON.parse(f.data) as { choices: { delta: { content?: string | null } }[] }).choices[0]?.delta.content;
        return typeof content === 'string' && content !== '' ? [content] : [];
      }),
    text: (json) => json.choices[0].message.content,
  },
  {
    name: 'Anthropic messages',
    path: '/v1/messages',
    headers: { 'anthropic-version': '2023-06-01' },
    body: (prompt, stream) => ({ model: 'claude-sonnet-4-5', max_tokens: 4096, stream, messages: [{ role: 'user', content: prompt }] }),
    deltas: (frames) =>
      frames.filter((f) => f.event === 'content_block_delta').flatMap((f) => {
        const delta = (JSON.parse(f.data) as { delta: { type: string; text?: string } }).delta;
        return delta.type === 'text_delta' ? [delta.text!] : [];
      }),
    text: (json) => json.content.map((block: { text?: string }) => block.text ?? '').join(''),
  },
  {
    name: 'OpenAI Responses',
    path: '/v1/responses',
    headers: {},
    body: (prompt, stream) => ({ model: 'gpt-4.1', stream, input: prompt }),
    deltas: (frames) => frames.filter((f) => f.event === 'response.output_text.delta').map((f) => (JSON.parse(f.data) as { delta: string }).delta),
    text: (json) => json.output.flatMap((item: any) => (item.type === 'message' ? item.content.map((c: any) => c.text) : [])).join(''),
  },
  {
    name: 'OpenAI legacy completions',
    path: '/v1/completions',
    headers: {},
    body: (prompt, stream) => ({ model: 'gpt-3.5-turbo-instruct', stream, prompt, max_tokens: 16 }),
    deltas: (frames) =>
      frames.filter((f) => f.data !== '[DONE]').flatMap((f) => {
        const text = (JSON.parse(f.data) as { choices: { text?: string }[] }).choices[0]?.text;
        return typeof text === 'string' && text !== '' ? [text] : [];
      }),
    text: (json) => json.choices[0].text,
  },
];
// The two the issue names are required; the others are tested once their routes exist.
const REGISTERED = new Set(PROVIDERS.flatMap((p) => p.routes.map((r) => r.path)));
const ACTIVE = ENDPOINTS.filter((e) => e.path === '/v1/chat/completions' || e.path === '/v1/messages' || REGISTERED.has(e.path));

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Offsets (UTF-16) where the text may be cut: its grapheme boundaries. */
function boundaries(text: string): Set<number> {
  const set = new Set([text.length]);
  for (const { index } of graphemes.segment(text)) set.add(index);
  return set;
}

let server: TestServer;
let nextId = 0;

before(async () => {
  server = await startTestServer('responses:\n  "hello": "world"\n');
});
after(async () => {
  await server?.stop();
});

const adminCall = (method: string, path: string, body?: unknown) => admin(server, method, path, { body, timeoutMs: 10_000 });

/** Configures `text` with `mode` through the admin API; returns the prompt that selects it and the rule id. */
async function configure(text: string, mode: Mode): Promise<{ prompt: string; id: string }> {
  const id = `fidelity-${nextId++}`;
  const prompt = `fidelity case ${id}`;
  const res = await adminCall('POST', '/admin/responses', { id, match: { prompt }, response: { text, chunking: mode } });
  assert.equal(res.status, 201, res.text);
  return { prompt, id };
}

interface Observed {
  deltas: string[];
  whole: string;
}

async function stream(endpoint: StreamingEndpoint, prompt: string): Promise<Observed> {
  const res = await rawRequest(server.url, {
    method: 'POST',
    path: endpoint.path,
    headers: { 'content-type': 'application/json', ...endpoint.headers },
    body: JSON.stringify(endpoint.body(prompt, true)),
  });
  assert.equal(res.status, 200, `${endpoint.name}: ${res.text.slice(0, 200)}`);
  // The wire bytes are valid UTF-8 as a whole (a split surrogate would be encoded as U+FFFD or fail).
  utf8.decode(res.body);
  const deltas = endpoint.deltas(parseSse(res.text));
  return { deltas, whole: deltas.join('') };
}

/** The property, for one text in one mode through one endpoint. */
function assertFaithful(text: string, mode: Mode, endpoint: StreamingEndpoint, observed: Observed): void {
  const what = `${endpoint.name}, chunking ${mode}, text ${JSON.stringify(text)}; deltas ${JSON.stringify(observed.deltas)}`;
  assert.equal(observed.whole, text, what);
  assert.ok(Buffer.from(observed.whole, 'utf8').equals(Buffer.from(text, 'utf8')), what);
  if (mode === 'whole') assert.ok(observed.deltas.length <= 1, what);
  const allowed = boundaries(text);
  let offset = 0;
  for (const delta of observed.deltas) {
    assert.ok(delta.length > 0, `an empty delta: ${what}`);
    assert.ok(delta.isWellFormed(), `a delta with a lone surrogate: ${what}`);
    offset += delta.length;
    if (!allowed.has(offset)) assert.fail(`a delta ends inside a grapheme cluster at UTF-16 offset ${offset}: ${what}`);
  }
}

// Pieces that are hard to cut right: ZWJ families, flags, skin tones, keycaps, variation selectors,
// combining marks (one and several), Hangul jamo, Devanagari conjuncts, Thai, Arabic, CJK, CRLF,
// tabs, NBSP and other spaces, RTL marks, a BOM, astral letters, and text that looks like JSON or SSE.
const TRICKY = [
  '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇫🇷', '🇯🇵🇺🇸', '👋🏽', '🧑🏿‍🚀', '1️⃣', '#️⃣', '❤️', '☺︎',
  'e\u0301', 'a\u0300\u0316\u0317', 'Z\u0351\u0352\u0353\u0354', '\u1100\u1161\u11A8', '한국어', 'क्षि', 'नमस्ते', 'ภาษาไทย', 'مرحبا', 'שָׁלוֹם',
  '漢字', 'かな', '𠜎𠜱', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '\r\n', '\t', '\u00a0', '\u3000', '\u2028', '\u200f', '\ufeff',
  ' ', ' ', 'a', 'word', '"', '\\', '\n\n', 'data: [DONE]', '{"x":1}', '</script>', '\u0000',
];
const trickyText = fc.array(fc.constantFrom(...TRICKY), { minLength: 1, maxLength: 24 }).map((parts) => parts.join(''));

// `{{prompt}}` and friends are templates; a literal text must not contain one.
const isLiteral = (text: string) => text !== '' && text.isWellFormed() && !text.includes('{{');

const anyText = fc
  .oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme-composite', minLength: 1, maxLength: 30 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }) },
    { weight: 3, arbitrary: trickyText },
    { weight: 1, arbitrary: fc.tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), trickyText).map(([a, b]) => `${a} ${b} ${a}`) },
  )
  .filter(isLiteral);

describe('streamed text equals the configured text, cut only at grapheme boundaries', () => {
  test(`random Unicode texts (${Math.ceil(FUZZ_RUNS / 2)} cases) in every chunking mode through ${ACTIVE.map((e) => e.path).join(', ')}`, async (t) => {
    let requests = 0;
    await fc.assert(
      fc.asyncProperty(anyText, async (text) => {
        for (const mode of MODES) {
          const { prompt, id } = await configure(text, mode);
          for (const endpoint of ACTIVE) {
            assertFaithful(text, mode, endpoint, await stream(endpoint, prompt));
            requests++;
          }
          assert.equal((await adminCall('DELETE', `/admin/responses/${id}`)).status, 204);
        }
      }),
      { numRuns: Math.ceil(FUZZ_RUNS / 2), endOnFailure: true },
    );
    t.diagnostic(`streams read: ${requests}`);
  });

  test('a fixed corpus of hard texts, each in every chunking mode, streamed and not, through every endpoint', async () => {
    const corpus = [
      TRICKY.join(''),
      TRICKY.join(' '),
      'Hello, 世界! 👋🏽 café naïve — “quotes” and 𝒰𝓃𝒾𝒸ℴ𝒹ℯ.',
      '👨‍👩‍👧‍👦👨‍👩‍👧‍👦 👨‍👩‍👧‍👦',
      'e\u0301e\u0301 e\u0301',
      'line one\r\nline two\r\n\r\nend',
      'x'.repeat(5000) + '🙂',
      Array.from({ length: 300 }, (_, i) => TRICKY[i % TRICKY.length]).join(' '),
    ];
    for (const text of corpus) {
      for (const mode of MODES) {
        const { prompt, id } = await configure(text, mode);
        for (const endpoint of ACTIVE) {
          assertFaithful(text, mode, endpoint, await stream(endpoint, prompt));
          const res = await rawRequest(server.url, {
            method: 'POST',
            path: endpoint.path,
            headers: { 'content-type': 'application/json', ...endpoint.headers },
            body: JSON.stringify(endpoint.body(prompt, false)),
          });
          assert.equal(res.status, 200, res.text.slice(0, 200));
          assert.equal(endpoint.text(JSON.parse(res.text)), text, `${endpoint.name} non-stream, ${mode}`);
        }
        await adminCall('DELETE', `/admin/responses/${id}`);
      }
    }
  });
});

test(
  'word chunking never ends a delta inside a grapheme whose Prepend character precedes a space ("\u0600 x"; found by this file, fixed in src/engine/reply.ts)',
  async () => {
    for (const text of ['\u0600 x', 'a\u0600 b', 'number \u06DD 1']) {
      const { prompt, id } = await configure(text, 'word');
      const observed = await stream(ENDPOINTS[0]!, prompt);
      assert.equal(observed.whole, text);
      const allowed = boundaries(text);
      let offset = 0;
      for (const delta of observed.deltas) {
        offset += delta.length;
        assert.ok(allowed.has(offset), `${JSON.stringify(text)}: ${JSON.stringify(observed.deltas)} ends a delta inside a grapheme at ${offset}`);
      }
      await adminCall('DELETE', `/admin/responses/${id}`);
    }
  },
);
