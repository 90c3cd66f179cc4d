import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';

// Prompts are user input: text that spells a special token (`<|endoftext|>`) is counted as plain
// text instead of making the tokenizer throw.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

// BPE merging is quadratic in the length of one pre-token: a 100k-character run without spaces
// takes seconds. Counting such runs in fixed slices keeps the cost linear; ordinary text never has
// runs this long, so its count is unchanged.
const LONG_RUN_LENGTH = 128;
const LONG_RUN = new RegExp(`\\S{${LONG_RUN_LENGTH},}`, 'g');
const HAS_LONG_RUN = new RegExp(`\\S{${LONG_RUN_LENGTH}}`);

/** o200k_base token count of plain text (gpt-4o, 4.1, 5.x, o-series). */
export function countTextTokens(text: string): number {
  if (text === '') return 0;
  if (!HAS_LONG_RUN.test(text)) return countO200k(text, PLAIN_TEXT);
  let total = 0;
  let last = 0;
  for (const run of text.matchAll(LONG_RUN)) {
    total += countO200k(text.slice(last, run.index), PLAIN_TEXT);
    for (let i = 0; i < run[0].length; i += LONG_RUN_LENGTH) {
      total += countO200k(run[0].slice(i, i + LONG_RUN_LENGTH), PLAIN_TEXT);
    }
    last = run.index + run[0].length;
  }
  return total + countO200k(text.slice(last), PLAIN_TEXT);
}

export interface FramedMessage {
  role: string;
  text: string;
  name?: string;
}

/**
 * Prompt tokens of a chat request as OpenAI counts them: 3 per message, the role, the content,
 * 1 more with `name`, and 3 to prime the reply. One user message "hi" gives 8.
 */
export function chatPromptTokens(messages: readonly FramedMessage[]): number {
  let total = 3;
  for (const message of messages) {
    total += 3 + countTextTokens(message.role) + countTextTokens(message.text);
    if (message.name) total += 1 + countTextTokens(message.name);
  }
  return total;
}

// Anthropic publishes no tokenizer for current models; Claude tokenizers yield somewhat more tokens
// than o200k, so one deterministic estimate serves usage and count_tokens alike.
const ANTHROPIC_FACTOR = 1.1;
const ANTHROPIC_PER_MESSAGE = 4;

export function anthropicTextTokens(text: string): number {
  return Math.ceil(countTextTokens(text) * ANTHROPIC_FACTOR);
}

/** Estimated `input_tokens` of an Anthropic request: system plus every message, each framed. */
export function anthropicInputTokens(system: string, messages: readonly FramedMessage[]): number {
  let total = system === '' ? 0 : ANTHROPIC_PER_MESSAGE + anthropicTextTokens(system);
  for (const message of messages) total += ANTHROPIC_PER_MESSAGE + anthropicTextTokens(message.text);
  return Math.max(total, 1);
}
