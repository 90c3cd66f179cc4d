// How the mock counts tokens on Bedrock. Most Bedrock traffic is Claude; its tokenizers yield
// somewhat more tokens than o200k, so one deterministic estimate (o200k × 1.1, plus a few tokens of
// framing per message) serves Converse, InvokeModel and CountTokens alike: the same conversation
// reports the same input tokens through each.
import { toolTokens, type Reply } from '../../engine/reply-plan.ts';
import type { Conversation } from '../../engine/conversation.ts';
import { countTextTokens } from '../../engine/tokens.ts';

const FACTOR = 1.1;
const PER_MESSAGE = 4;

export function bedrockTextTokens(text: string): number {
  return Math.ceil(countTextTokens(text) * FACTOR);
}

/** Input tokens: what the rule fixes, else the estimate of system plus every message. */
export function bedrockInputTokens(reply: Reply | undefined, conversation: Conversation): number {
  if (reply?.delivery.usage?.input !== undefined) return reply.delivery.usage.input;
  let total = conversation.system === '' ? 0 : PER_MESSAGE + bedrockTextTokens(conversation.system);
  for (const message of conversation.messages) total += PER_MESSAGE + bedrockTextTokens(message.text);
  return Math.max(total, 1);
}

/** Output tokens by the estimate, unless the rule fixes the figure; never 0. */
export function bedrockOutputTokens(reply: Reply): number {
  const text = reply.text ? Math.ceil(reply.text.tokens * FACTOR) : 0;
  return reply.delivery.usage?.output ?? Math.max(text + toolTokens(reply, bedrockTextTokens), 1);
}
