// How the mock counts Anthropic tokens. Anthropic publishes no tokenizer for current models; Claude
// tokenizers yield somewhat more tokens than o200k, so one deterministic estimate serves usage and
// count_tokens alike.
import { toolTokens, type Reply } from '../../engine/reply-plan.ts';
import { countTextTokens } from '../../engine/tokens.ts';

const ANTHROPIC_FACTOR = 1.1;
const ANTHROPIC_PER_MESSAGE = 4;

export function anthropicTextTokens(text: string): number {
  return Math.ceil(countTextTokens(text) * ANTHROPIC_FACTOR);
}

/** Estimated `input_tokens` of an Anthropic request: system plus every message, each framed. */
export function anthropicInputTokens(system: string, messages: readonly { text: string }[]): number {
  let total = system === '' ? 0 : ANTHROPIC_PER_MESSAGE + anthropicTextTokens(system);
  for (const message of messages) total += ANTHROPIC_PER_MESSAGE + anthropicTextTokens(message.text);
  return Math.max(total, 1);
}

/** Output tokens by the estimate, unless the rule fixes the figure; never 0. */
export function anthropicOutputTokens(reply: Reply): number {
  const text = reply.text ? Math.ceil(reply.text.tokens * ANTHROPIC_FACTOR) : 0;
  return reply.delivery.usage?.output ?? Math.max(text + toolTokens(reply, anthropicTextTokens), 1);
}
