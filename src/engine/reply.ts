import { anthropicTextTokens, countTextTokens } from './tokens.ts';

// Splitting into user-perceived characters means a streamed delta never ends inside a surrogate
// pair, a combining sequence or an emoji ZWJ sequence.
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const SIMPLE_TEXT = /^[\x20-\x7e\n\t]*$/;

export function splitCharacters(text: string): string[] {
  if (SIMPLE_TEXT.test(text)) return text.split('');
  return Array.from(graphemes.segment(text), (s) => s.segment);
}

/**
 * A configured text answer. Everything derived from the text (stream chunks, their JSON
 * encodings, token counts) is computed on first use and then kept, so a config of 100,000 entries
 * loads fast and a hot entry pays the cost once, never per request.
 */
export class TextReply {
  readonly kind = 'text';
  readonly text: string;
  #chunks: readonly string[] | undefined;
  #chunksJson: readonly string[] | undefined;
  #openaiTokens: number | undefined;
  #anthropicTokens: number | undefined;

  constructor(text: string) {
    this.text = text;
  }

  /** The streamed pieces: one user-perceived character each. */
  get chunks(): readonly string[] {
    return (this.#chunks ??= splitCharacters(this.text));
  }

  /** `chunks`, each already a JSON string literal, ready to splice into a frame. */
  get chunksJson(): readonly string[] {
    return (this.#chunksJson ??= this.chunks.map((c) => JSON.stringify(c)));
  }

  get openaiTokens(): number {
    return (this.#openaiTokens ??= countTextTokens(this.text));
  }

  get anthropicTokens(): number {
    return (this.#anthropicTokens ??= Math.max(anthropicTextTokens(this.text), 1));
  }
}
