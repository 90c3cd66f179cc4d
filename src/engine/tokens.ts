import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import { loadBpe, type BpeCounter } from './bpe.ts';

// o200k_base, the vocabulary of gpt-4o, 4.1, 5.x and the o-series, from the .tiktoken file
// gpt-tokenizer ships with its own pre-tokenizer pattern, counted by ./bpe.ts: loaded on the first
// count (~10 ms from the packed file the build writes beside this module, dist/engine/; ~100 ms
// parsing the .tiktoken file when running from src/), ~6 MB, instead of gpt-tokenizer's encoder
// (~300 ms and ~70 MB at import). Special-token spellings (`<|endoftext|>`) in prompts count as
// plain text, as they did with gpt-tokenizer's `disallowedSpecial: new Set()`.
let o200k: BpeCounter | undefined;
const countO200k = (text: string): number => (o200k ??= loadO200k()).count(text);

function loadO200k(): BpeCounter {
  // CommonJS resolution: import.meta.resolve costs ~15 ms more on a cold ESM resolver.
  const tiktoken = pathToFileURL(createRequire(import.meta.url).resolve('gpt-tokenizer/data/o200k_base.tiktoken'));
  return loadBpe(tiktoken, O200K_TOKEN_SPLIT_REGEX, new URL('o200k_base.bpe', import.meta.url));
}

// BPE merging is quadratic in the length of one pre-token: a 100k-character run without spaces
// takes seconds. Counting such runs in fixed slices keeps the cost linear; ordinary text never has
// runs this long, so its count is unchanged.
const LONG_RUN_LENGTH = 128;
const LONG_RUN = new RegExp(`\\S{${LONG_RUN_LENGTH},}`, 'g');
const HAS_LONG_RUN = new RegExp(`\\S{${LONG_RUN_LENGTH}}`);

/** o200k_base token count of plain text (gpt-4o, 4.1, 5.x, o-series). */
export function countTextTokens(text: string): number {
  if (text === '') return 0;
  if (text.length > MEMO_MAX_TEXT_CHARS) return countUncached(text);
  const known = memo.get(text);
  if (known !== undefined) {
    // Most recently used last: Map keeps insertion order, so the first key is the eviction candidate.
    memo.delete(text);
    memo.set(text, known);
    return known;
  }
  const count = countUncached(text);
  memo.set(text, count);
  memoChars += text.length;
  while (memo.size > MEMO_MAX_ENTRIES || memoChars > MEMO_MAX_CHARS) {
    const oldest = memo.keys().next().value!;
    memo.delete(oldest);
    memoChars -= oldest.length;
  }
  return count;
}

// Every request's usage counts the tokens of every message it sends, and clients resend the same
// system prompt and history on every turn (a load test resends the same prompts all the time):
// BPE costs ~15 µs per 1,000 characters, a lookup of a known text a fraction of that. The memo is
// bounded in entries and in characters held (1 or 2 bytes each), so it never holds more than 4 MB.
const MEMO_MAX_ENTRIES = 10_000;
const MEMO_MAX_CHARS = 2_000_000;
const MEMO_MAX_TEXT_CHARS = 200_000;
const memo = new Map<string, number>();
let memoChars = 0;

/**
 * The text cut where the tokenizer would otherwise go quadratic: runs of 128+ non-space characters
 * become 128-character slices; everything else stays whole. Counting and token chunking both
 * tokenize these pieces one by one.
 */
export function boundedPieces(text: string): string[] {
  if (!HAS_LONG_RUN.test(text)) return [text];
  const pieces: string[] = [];
  let last = 0;
  for (const run of text.matchAll(LONG_RUN)) {
    if (run.index > last) pieces.push(text.slice(last, run.index));
    for (let i = 0; i < run[0].length; i += LONG_RUN_LENGTH) pieces.push(run[0].slice(i, i + LONG_RUN_LENGTH));
    last = run.index + run[0].length;
  }
  if (last < text.length) pieces.push(text.slice(last));
  return pieces;
}

function countUncached(text: string): number {
  let total = 0;
  for (const piece of boundedPieces(text)) total += countO200k(piece);
  return total;
}
