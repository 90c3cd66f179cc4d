// cl100k_base, the tokenizer of OpenAI's embedding models and of gpt-3.5-turbo-instruct (legacy
// completions). Loaded on the first request that needs it (≈50 ms, ≈15 MB), not at start-up: most
// servers only ever answer chat.
import { invalidRequest, type ApiError } from '../../http/errors.ts';

type Cl100k = typeof import('gpt-tokenizer/encoding/cl100k_base');

let loaded: Cl100k | undefined;
let loading: Promise<Cl100k> | undefined;

export function loadCl100k(): Promise<Cl100k> {
  if (loaded) return Promise.resolve(loaded);
  return (loading ??= import('gpt-tokenizer/encoding/cl100k_base').then((module) => (loaded = module)));
}

function tokenizer(): Cl100k {
  if (!loaded) throw new Error('cl100k_base is used before loadCl100k() finished');
  return loaded;
}

const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };
// As in engine/tokens.ts: BPE is quadratic in the length of one pre-token, so runs without
// whitespace this long are counted in slices (ordinary text never has them; its count is exact).
const LONG_RUN_LENGTH = 128;
const LONG_RUN = new RegExp(`\\S{${LONG_RUN_LENGTH},}`, 'g');
const HAS_LONG_RUN = new RegExp(`\\S{${LONG_RUN_LENGTH}}`);

/** cl100k_base token count of plain text (special-token spellings count as text). */
export function countCl100k(text: string): number {
  if (text === '') return 0;
  const { countTokens } = tokenizer();
  if (!HAS_LONG_RUN.test(text)) return countTokens(text, PLAIN_TEXT);
  let total = 0;
  let last = 0;
  for (const run of text.matchAll(LONG_RUN)) {
    total += countTokens(text.slice(last, run.index), PLAIN_TEXT);
    for (let i = 0; i < run[0].length; i += LONG_RUN_LENGTH) total += countTokens(run[0].slice(i, i + LONG_RUN_LENGTH), PLAIN_TEXT);
    last = run.index + run[0].length;
  }
  return total + countTokens(text.slice(last), PLAIN_TEXT);
}

/** The highest token id cl100k_base knows (its last special token). */
export const CL100K_MAX_TOKEN = 100_276;

/** The text a token array stands for; a 400 in OpenAI's words for an id outside the vocabulary. */
export function decodeCl100k(tokens: readonly number[], where: string): string {
  for (const token of tokens) {
    if (!Number.isInteger(token) || token < 0 || token > CL100K_MAX_TOKEN) throw invalidToken(token, where);
  }
  return tokenizer().decode(tokens as number[]);
}

function invalidToken(token: number, where: string): ApiError {
  return invalidRequest(`Invalid token in ${where}: ${token}. Minimum value is 0, maximum value is ${CL100K_MAX_TOKEN} (inclusive).`);
}
