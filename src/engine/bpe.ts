// A compact byte-pair-encoding token counter over the real vocabularies. gpt-tokenizer builds its
// encoder from a 2.4 MB JavaScript array literal and a Map of 200,000 strings: ~300 ms of CPU and
// ~70 MB of RSS at start-up (docs/benchmarks.md, S5). The counts here come from the same vocabulary
// file gpt-tokenizer ships (its data/<encoding>.tiktoken, tiktoken's own format: one base64 token
// and its rank per line), held as one byte array, an offset table and an open-addressing hash table
// (~6 MB, no objects per token, built in tens of milliseconds), with tiktoken's merge rule:
// pre-tokenize with the encoding's split pattern, then repeatedly merge the adjacent pair of parts
// whose bytes have the lowest rank (https://github.com/openai/tiktoken, src/lib.rs
// byte_pair_merge). test/engine/bpe.test.ts checks the counts against gpt-tokenizer's.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BASE64 = new Int8Array(128).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) BASE64[c.charCodeAt(0)] = i;
const NEWLINE = 10;
const SPACE = 32;
const EQUALS = 61;
const NONE = 0x7fffffff;

export interface BpeCounter {
  /** Tokens in `text` (special-token spellings count as plain text). */
  count(text: string): number;
  /** The number of tokens in the vocabulary (special tokens aside). */
  readonly size: number;
}

/** A vocabulary: every token's bytes, back to back, and a hash table from bytes to rank. */
export interface Vocabulary {
  /** Token t is bytes[offsets[t], offsets[t + 1]) and has rank ranks[t]. */
  offsets: Uint32Array;
  ranks: Int32Array;
  bytes: Uint8Array;
  /** Open addressing, linear probing, at most half full: slot → t + 1 (0 = empty). */
  table: Int32Array;
}

/** Parses a `.tiktoken` file: `<base64 token> <rank>` per line. */
export function parseTiktoken(data: Uint8Array, name = 'vocabulary'): Vocabulary {
  // Token bytes are at most 3/4 of their base64 text: one buffer holds them all.
  const bytes = new Uint8Array(Math.ceil(data.length * 0.75));
  const lines = countByte(data, NEWLINE) + 1;
  const offsets = new Uint32Array(lines + 1);
  const ranks = new Int32Array(lines);
  let used = 0;
  let tokens = 0;
  let at = 0;
  while (at < data.length) {
    const end = indexOf(data, NEWLINE, at);
    const space = indexOf(data, SPACE, at, end);
    if (space > at && space < end) {
      // base64 → bytes, six bits a character ("=" pads the last group).
      let bits = 0;
      let held = 0;
      for (let i = at; i < space; i++) {
        const c = data[i]!;
        if (c === EQUALS) break;
        const v = c < 128 ? BASE64[c]! : -1;
        if (v < 0) throw new Error(`${name}: not base64 at byte ${i}`);
        bits = ((bits << 6) | v) & 0xffffff;
        held += 6;
        if (held >= 8) {
          held -= 8;
          bytes[used++] = (bits >> held) & 0xff;
        }
      }
      let rank = 0;
      for (let i = space + 1; i < end; i++) rank = rank * 10 + (data[i]! - 48);
      offsets[tokens + 1] = used;
      ranks[tokens] = rank;
      tokens++;
    }
    at = end + 1;
  }
  const vocabulary = { offsets: offsets.slice(0, tokens + 1), ranks: ranks.slice(0, tokens), bytes: bytes.slice(0, used) };
  return { ...vocabulary, table: hashTable(vocabulary.offsets, vocabulary.bytes) };
}

function hashTable(offsets: Uint32Array, bytes: Uint8Array): Int32Array {
  const tokens = offsets.length - 1;
  let capacity = 1;
  while (capacity < tokens * 2) capacity <<= 1;
  const mask = capacity - 1;
  const table = new Int32Array(capacity);
  for (let t = 0; t < tokens; t++) {
    let slot = hash(bytes, offsets[t]!, offsets[t + 1]!) & mask;
    while (table[slot] !== 0) slot = (slot + 1) & mask;
    table[slot] = t + 1;
  }
  return table;
}

// The packed form (written at build time, scripts/pack-tokenizer.mjs): a header of 32-bit words
// (magic, tokens, table slots, byte count, and the size of the .tiktoken file it came from), then
// offsets, ranks, table and bytes. Loading it is a file read and four typed-array views.
const MAGIC = 0x31455042; // "BPE1"
const HEADER_WORDS = 5;

export function packVocabulary(vocabulary: Vocabulary, sourceSize: number): Uint8Array {
  const { offsets, ranks, table, bytes } = vocabulary;
  const words = HEADER_WORDS + offsets.length + ranks.length + table.length;
  const out = new Uint8Array(words * 4 + bytes.length);
  const view = new Uint32Array(out.buffer, 0, words);
  view.set([MAGIC, ranks.length, table.length, bytes.length, sourceSize]);
  view.set(offsets, HEADER_WORDS);
  view.set(new Uint32Array(ranks.buffer, ranks.byteOffset, ranks.length), HEADER_WORDS + offsets.length);
  view.set(new Uint32Array(table.buffer, table.byteOffset, table.length), HEADER_WORDS + offsets.length + ranks.length);
  out.set(bytes, words * 4);
  return out;
}

/** The vocabulary in a packed file, or undefined when the file is not one packed from a source of `sourceSize` bytes. */
export function unpackVocabulary(data: Uint8Array, sourceSize: number): Vocabulary | undefined {
  if (data.length < HEADER_WORDS * 4) return undefined;
  // Typed-array views need 4-byte alignment; a Buffer from the pool may not have it.
  const buffer = data.byteOffset % 4 === 0 ? data : data.slice();
  const header = new Uint32Array(buffer.buffer, buffer.byteOffset, HEADER_WORDS);
  const [magic, tokens, slots, byteCount, packedFrom] = header as unknown as number[];
  if (magic !== MAGIC || packedFrom !== sourceSize) return undefined;
  let at = buffer.byteOffset + HEADER_WORDS * 4;
  const take = <A>(make: (at: number) => A, words: number): A => {
    const array = make(at);
    at += words * 4;
    return array;
  };
  const offsets = take((p) => new Uint32Array(buffer.buffer, p, tokens! + 1), tokens! + 1);
  const ranks = take((p) => new Int32Array(buffer.buffer, p, tokens!), tokens!);
  const table = take((p) => new Int32Array(buffer.buffer, p, slots!), slots!);
  if (at - buffer.byteOffset + byteCount! !== buffer.length) return undefined;
  return { offsets, ranks, table, bytes: new Uint8Array(buffer.buffer, at, byteCount!) };
}

/**
 * A counter over `vocabulary` that splits text with `split` (the encoding's pre-tokenizer regex)
 * and merges each piece with tiktoken's rule.
 */
export function bpeCounter(vocabulary: Vocabulary, split: RegExp): BpeCounter {
  const { offsets, ranks, bytes, table } = vocabulary;
  const mask = table.length - 1;

  /** The rank of buf[start, end), or NONE when it is not a token. */
  const rankOf = (buf: Uint8Array, start: number, end: number): number => {
    const length = end - start;
    let slot = hash(buf, start, end) & mask;
    for (;;) {
      const entry = table[slot]!;
      if (entry === 0) return NONE;
      const t = entry - 1;
      const from = offsets[t]!;
      if (offsets[t + 1]! - from === length) {
        let i = 0;
        while (i < length && bytes[from + i] === buf[start + i]) i++;
        if (i === length) return ranks[t]!;
      }
      slot = (slot + 1) & mask;
    }
  };

  const encoder = new TextEncoder();
  let scratch = new Uint8Array(1024);
  let starts = new Int32Array(1024);
  let pairRanks = new Int32Array(1024);

  /** Tokens in one pre-token of `length` bytes held in scratch: tiktoken's byte_pair_merge, counting parts. */
  const mergeCount = (length: number): number => {
    if (length <= 1) return length;
    if (rankOf(scratch, 0, length) !== NONE) return 1;
    if (starts.length < length + 1) {
      starts = new Int32Array(length * 2);
      pairRanks = new Int32Array(length * 2);
    }
    // Part i starts at starts[i] (the last entry is the end); pairRanks[i] is the rank of parts i
    // and i + 1 joined, NONE when that is no token.
    let parts = length + 1;
    for (let i = 0; i <= length; i++) {
      starts[i] = i;
      pairRanks[i] = i + 2 <= length ? rankOf(scratch, i, i + 2) : NONE;
    }
    const pairRank = (i: number) => (i + 2 < parts ? rankOf(scratch, starts[i]!, starts[i + 2]!) : NONE);
    while (parts > 1) {
      let lowest = NONE;
      let at = -1;
      for (let i = 0; i < parts - 1; i++) {
        if (pairRanks[i]! < lowest) {
          lowest = pairRanks[i]!;
          at = i;
        }
      }
      if (at < 0) break;
      // Join parts `at` and `at + 1`: drop the start of `at + 1`.
      starts.copyWithin(at + 1, at + 2, parts);
      pairRanks.copyWithin(at + 1, at + 2, parts);
      parts--;
      pairRanks[at] = pairRank(at);
      if (at > 0) pairRanks[at - 1] = pairRank(at - 1);
    }
    return parts - 1;
  };

  // Merging is quadratic in a piece's length, and long pieces repeat (identifiers, base64, the
  // 128-character slices tokens.ts cuts a long run into): their counts are remembered. Short pieces
  // are mostly one token, found by one lookup, cheaper than a cache's.
  const CACHED_FROM_LENGTH = 8;
  const CACHE_MAX_ENTRIES = 10_000;
  const pieceCounts = new Map<string, number>();

  const pattern = new RegExp(split.source, split.flags.includes('g') ? split.flags : `${split.flags}g`);
  return {
    size: ranks.length,
    count(text: string): number {
      let total = 0;
      for (const [piece] of text.matchAll(pattern)) {
        const cached = piece.length >= CACHED_FROM_LENGTH;
        if (cached) {
          const known = pieceCounts.get(piece);
          if (known !== undefined) {
            total += known;
            continue;
          }
        }
        if (scratch.length < piece.length * 3) scratch = new Uint8Array(piece.length * 3);
        const { written } = encoder.encodeInto(piece, scratch);
        const count = mergeCount(written);
        if (cached) {
          if (pieceCounts.size >= CACHE_MAX_ENTRIES) pieceCounts.clear();
          pieceCounts.set(piece, count);
        }
        total += count;
      }
      return total;
    },
  };
}

/**
 * A counter for the vocabulary in `tiktoken` (a `.tiktoken` file), read from `packed` when that
 * file exists and was packed from it (the build writes one beside the built module), else parsed.
 */
export function loadBpe(tiktoken: URL, split: RegExp, packed?: URL): BpeCounter {
  const sourceSize = statSync(tiktoken).size;
  let vocabulary: Vocabulary | undefined;
  if (packed && existsSync(packed)) vocabulary = unpackVocabulary(readFileSync(packed), sourceSize);
  vocabulary ??= parseTiktoken(readFileSync(tiktoken), fileURLToPath(tiktoken));
  return bpeCounter(vocabulary, split);
}

/** FNV-1a over buf[start, end). */
function hash(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}

function countByte(data: Uint8Array, byte: number): number {
  let n = 0;
  for (let at = data.indexOf(byte); at >= 0; at = data.indexOf(byte, at + 1)) n++;
  return n;
}

function indexOf(data: Uint8Array, byte: number, from: number, limit = data.length): number {
  const at = data.indexOf(byte, from);
  return at < 0 || at > limit ? limit : at;
}
