// The compact o200k counter (src/engine/bpe.ts, used by engine/tokens.ts for every usage figure)
// against gpt-tokenizer's own encoder, which it replaced at start-up: the same counts on this
// repository's prose and code, on hand-picked hard cases and on random Unicode.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import fc from 'fast-check';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import { bpeCounter, packVocabulary, parseTiktoken, unpackVocabulary } from '../../src/engine/bpe.ts';
import { boundedPieces, countTextTokens } from '../../src/engine/tokens.ts';

const REPO = new URL('../../', import.meta.url);
const tiktoken = readFileSync(createRequire(import.meta.url).resolve('gpt-tokenizer/data/o200k_base.tiktoken'));
const vocabulary = parseTiktoken(tiktoken);
const counter = bpeCounter(vocabulary, O200K_TOKEN_SPLIT_REGEX);
const reference = (text: string) => countTokens(text, { disallowedSpecial: new Set() });

const HARD_CASES = [
  '',
  ' ',
  'hello world, what is 2+2?',
  "I'm sure they'll say it's done; we've seen THEY'RE right",
  '1234567890 3.14159 -42 1e10 0x1F',
  'naïve café résumé Ångström',
  '日本語のテキストと中文文本 한국어 텍스트',
  'emoji 🚀🚀🚀 👩‍👩‍👧‍👦 🇫🇷 ✔️',
  'Ελληνικά, русский текст, עברית, العربية, हिन्दी',
  '\t\ttabs\n\n\nnewlines\r\n  trailing   ',
  '<|endoftext|> <|im_start|>user<|im_end|>',
  'a'.repeat(127),
  'https://example.com/path?query=1&b=2#frag',
  '{"type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}}',
  'lone surrogates \ud800 and \udc00 become U+FFFD',
  'zero\u200bwidth\u00a0nbsp\u3000ideographic space',
];

test('the compact counter gives gpt-tokenizer o200k_base counts on hard cases', () => {
  for (const text of HARD_CASES) assert.equal(counter.count(text), reference(text), JSON.stringify(text));
});

test("the compact counter gives gpt-tokenizer's counts on this repository's docs and sources, whole and line by line", () => {
  const files = [
    new URL('README.md', REPO),
    ...readdirSync(new URL('docs/', REPO)).filter((f) => f.endsWith('.md')).map((f) => new URL(`docs/${f}`, REPO)),
    ...readdirSync(new URL('src/engine/', REPO)).filter((f) => f.endsWith('.ts')).map((f) => new URL(`src/engine/${f}`, REPO)),
  ];
  let compared = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const sample of [text, ...text.split('\n')]) {
      assert.equal(counter.count(sample), reference(sample), `${file.pathname}: ${JSON.stringify(sample.slice(0, 80))}`);
      compared++;
    }
  }
  assert.ok(compared > 1000, `only ${compared} samples`);
});

test('the compact counter gives gpt-tokenizer counts on random Unicode text', () => {
  // U+FEFF aside: gpt-tokenizer looks merged byte pairs up as decoded strings, and its decoder drops
  // a leading byte-order mark, so it can find the wrong pair there; tiktoken (and this counter)
  // look bytes up as bytes.
  const text = fc.string({ unit: fc.oneof(fc.constantFrom(' ', '\n', "'", 'a', 'A', '1', '.'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 60 }).filter((s) => !s.includes('\ufeff'));
  fc.assert(
    fc.property(text, (s) => counter.count(s) === reference(s)),
    { numRuns: 300 },
  );
});

test('a packed vocabulary counts as the parsed one, and is refused when packed from another file', () => {
  const packed = packVocabulary(vocabulary, tiktoken.length);
  const unpacked = unpackVocabulary(packed, tiktoken.length);
  assert.ok(unpacked);
  const fromPacked = bpeCounter(unpacked, O200K_TOKEN_SPLIT_REGEX);
  assert.equal(fromPacked.size, 199_998);
  for (const text of HARD_CASES) assert.equal(fromPacked.count(text), counter.count(text));
  // A copy at an odd offset (a Buffer from Node's pool) is read as well.
  const shifted = new Uint8Array(packed.length + 1).subarray(1);
  shifted.set(packed);
  assert.equal(bpeCounter(unpackVocabulary(shifted, tiktoken.length)!, O200K_TOKEN_SPLIT_REGEX).count('hello world'), 2);
  assert.equal(unpackVocabulary(packed, tiktoken.length + 1), undefined);
  assert.equal(unpackVocabulary(packed.subarray(0, packed.length - 1), tiktoken.length), undefined);
});

test('usage counts (engine/tokens.ts) are o200k_base counts, long unbroken runs counted in slices', () => {
  assert.equal(countTextTokens('hello world, what is 2+2?'), reference('hello world, what is 2+2?'));
  const readme = readFileSync(new URL('README.md', REPO), 'utf8');
  assert.equal(countTextTokens(readme), boundedPieces(readme).reduce((sum, piece) => sum + reference(piece), 0));
  const run = 'x'.repeat(128 * 3);
  assert.equal(countTextTokens(run), 3 * reference('x'.repeat(128)));
});
