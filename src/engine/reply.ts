import { createRequire } from 'node:module';
import type { Chunking } from '../config/schema.ts';
import { boundedPieces, countTextTokens } from './tokens.ts';

// gpt-tokenizer's o200k encoder (token ids and their text) is only needed by `chunking: token`, and
// costs ~300 ms and ~70 MB to load: loaded (synchronously, its CommonJS build) on first use, not
// at start-up. Counting uses the compact counter in ./tokens.ts.
type O200k = typeof import('gpt-tokenizer/encoding/o200k_base');
let o200k: O200k | undefined;
const tokenizer = (): O200k => (o200k ??= createRequire(import.meta.url)('gpt-tokenizer/encoding/o200k_base') as O200k);

// Splitting into user-perceived characters means a streamed delta never ends inside a surrogate
// pair, a combining sequence or an emoji ZWJ sequence. Created on first use: constructing a
// segmenter loads ICU's break rules (~100 ms in the start-up profile, docs/benchmarks.md S5), and
// plain ASCII text never needs one.
let segmenter: Intl.Segmenter | undefined;
const graphemes = { segment: (text: string) => (segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })).segment(text) };
const SIMPLE_TEXT = /^[\x20-\x7e\n\t]*$/;

export function splitCharacters(text: string): string[] {
  if (SIMPLE_TEXT.test(text)) return text.split('');
  return Array.from(graphemes.segment(text), (s) => s.segment);
}

/** Words with the whitespace before them, as model tokens usually carry it: "Hello", " world". */
function splitWords(text: string): string[] {
  return text.split(/(?<=\S)(?=\s+\S)/);
}

/** Merges pieces so that every boundary is also a grapheme boundary. */
function snapToGraphemes(text: string, pieces: string[]): string[] {
  if (SIMPLE_TEXT.test(text)) return pieces;
  const boundaries = new Set<number>();
  for (const { index } of graphemes.segment(text)) boundaries.add(index);
  const out: string[] = [];
  let pending = '';
  let offset = 0;
  for (const piece of pieces) {
    pending += piece;
    offset += piece.length;
    if (offset === text.length || boundaries.has(offset)) {
      out.push(pending);
      pending = '';
    }
  }
  if (pending) out.push(pending);
  return out;
}

/**
 * Token pieces cut from the text itself: decoded tokens only say where to cut. The decoder drops
 * what it takes for a byte-order mark (a leading U+FEFF), so joining decoded tokens could lose a
 * character; slicing the original cannot.
 */
function splitTokens(text: string): string[] {
  const pieces: string[] = [];
  let offset = 0;
  for (const part of boundedPieces(text)) {
    const { decodeGenerator, encode } = tokenizer();
    for (const decoded of decodeGenerator(encode(part, { disallowedSpecial: new Set() }))) {
      if (decoded === '') continue;
      const at = text.indexOf(decoded, offset);
      if (at < 0) continue;
      pieces.push(text.slice(offset, at + decoded.length));
      offset = at + decoded.length;
    }
  }
  if (offset < text.length) pieces.push(text.slice(offset));
  return snapToGraphemes(text, pieces);
}

export function chunkText(text: string, chunking: Chunking): string[] {
  if (text === '') return [];
  switch (chunking) {
    case 'char':
      return splitCharacters(text);
    case 'word':
      // Whitespace is nearly always a grapheme boundary, but not after a Prepend character.
      return snapToGraphemes(text, splitWords(text));
    case 'token':
      return splitTokens(text);
    case 'whole':
      return [text];
  }
}

/**
 * A text answer. Everything derived from the text (stream chunks per chunking mode, their JSON
 * encodings, token counts) is computed on first use and then kept, so a config of 100,000 entries
 * loads fast and a hot entry pays the cost once, never per request.
 */
export class TextReply {
  readonly text: string;
  #chunksJson = new Map<Chunking, readonly string[]>();
  #tokens: number | undefined;

  constructor(text: string) {
    this.text = text;
  }

  /** The streamed pieces for a chunking mode, each already a JSON string literal ready to splice into a frame. */
  chunksJson(chunking: Chunking): readonly string[] {
    let chunks = this.#chunksJson.get(chunking);
    if (!chunks) {
      chunks = chunkText(this.text, chunking).map((c) => JSON.stringify(c));
      this.#chunksJson.set(chunking, chunks);
    }
    return chunks;
  }

  /** Its o200k_base token count, the reference every provider's own count derives from. */
  get tokens(): number {
    return (this.#tokens ??= countTextTokens(this.text));
  }
}
