// Shared config text and small helpers for the client-level tests. Every answer a test compares
// against comes from here, so the expected value is always the configured text, never a copy of
// what the server happened to send.

export interface ConfigOptions {
  responses: Record<string, string>;
  unknown?: string;
  settings?: { match?: 'normalized' | 'exact'; strict?: boolean; body_limit_bytes?: number };
}

/** YAML for a config. Scalars are written as JSON strings, which YAML reads as double-quoted scalars. */
export function configYaml({ responses, unknown, settings }: ConfigOptions): string {
  const lines = ['responses:'];
  for (const [prompt, answer] of Object.entries(responses)) lines.push(`  ${JSON.stringify(prompt)}: ${JSON.stringify(answer)}`);
  if (unknown !== undefined) lines.push('defaults:', `  unknown_response: ${JSON.stringify(unknown)}`);
  if (settings) {
    lines.push('settings:');
    for (const [key, value] of Object.entries(settings)) lines.push(`  ${key}: ${JSON.stringify(value)}`);
  }
  return lines.join('\n') + '\n';
}

export const UNKNOWN = 'No rule matched this prompt; this is the configured fallback.';

/**
 * An answer that breaks naive chunking: astral emoji (surrogate pairs), a skin-tone modifier,
 * ZWJ family and rainbow-flag sequences, a regional-indicator flag, combining marks (e + U+0301,
 * Hangul jamo), CJK, mathematical alphanumerics and a keycap sequence.
 */
export const UNICODE_ANSWER =
  'Grüße 👋🏽! Family: 👨‍👩‍👧‍👦, flag: 🇯🇵, pride: 🏳️‍🌈. Cafe\u0301 and \u1100\u1161\u11A8. ' +
  '日本語のテキストと中文。 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 1\uFE0F\u20E3 done.';

/** Character offsets at which `text` may be cut without splitting a grapheme cluster. */
export function graphemeBoundaries(text: string): Set<number> {
  const boundaries = new Set<number>([0]);
  for (const { index, segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)) {
    boundaries.add(index + segment.length);
  }
  return boundaries;
}

/**
 * Asserts-by-throwing that a sequence of streamed pieces is a clean cut of `text`: every piece is
 * well-formed UTF-16 and every cut falls on a grapheme boundary. Returns the joined text.
 */
export function checkCleanCuts(pieces: readonly string[], text: string): string {
  const boundaries = graphemeBoundaries(text);
  let offset = 0;
  for (const [i, piece] of pieces.entries()) {
    if (!piece.isWellFormed()) throw new Error(`piece ${i} holds a lone surrogate: ${JSON.stringify(piece)}`);
    offset += piece.length;
    if (!boundaries.has(offset)) throw new Error(`piece ${i} (${JSON.stringify(piece)}) ends inside a grapheme cluster at offset ${offset}`);
  }
  return pieces.join('');
}

/** Wraps fetch to record the headers of every request an SDK sends. */
export function recordingFetch(): { fetch: typeof fetch; requests: Headers[] } {
  const requests: Headers[] = [];
  const wrapped: typeof fetch = (input, init) => {
    requests.push(new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)));
    return fetch(input, init);
  };
  return { fetch: wrapped, requests };
}
