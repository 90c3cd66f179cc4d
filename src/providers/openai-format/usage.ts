// How OpenAI counts tokens: o200k_base (gpt-4o, 4.1, 5.x, o-series) with its chat framing.
import { createHash } from 'node:crypto';
import type { PromptCacheQuery, PromptWrite } from '../../engine/prompt-cache.ts';
import { countTextTokens } from '../../engine/tokens.ts';

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

export { outputTokens as completionTokens } from '../../engine/reply-plan.ts';

/** OpenAI caches prompts of this many tokens or more (https://platform.openai.com/docs/guides/prompt-caching). */
export const OPENAI_CACHE_MIN_TOKENS = 1024;
/** Past the minimum, the cached part grows in steps of this many tokens. */
export const OPENAI_CACHE_STEP = 128;
// In-memory retention keeps a prefix 5–10 minutes after its last use; `prompt_cache_retention: "24h"` a day.
const RETENTION_MS = { in_memory: 5 * 60_000, '24h': 24 * 60 * 60_000 };

/**
 * The prompt as the cache simulation sees it: a prefix at every message boundary, its token count
 * rounded down to the 128-token steps past 1,024 (shorter prefixes are never cached), keyed by the
 * model, the `prompt_cache_key` and the exact messages. Undefined when the prompt is under 1,024 tokens.
 */
export function openAiCacheQuery(model: string, messages: readonly FramedMessage[], options: { promptCacheKey?: unknown; retention?: unknown }): PromptCacheQuery | undefined {
  if (chatPromptTokens(messages) < OPENAI_CACHE_MIN_TOKENS) return undefined;
  const ttlMs = options.retention === '24h' ? RETENTION_MS['24h'] : RETENTION_MS.in_memory;
  const hash = createHash('sha256').update(`openai\0${model}\0${typeof options.promptCacheKey === 'string' ? options.promptCacheKey : ''}\0`);
  const prefixes: PromptWrite[] = [];
  let tokens = 0;
  for (const message of messages) {
    tokens += 3 + countTextTokens(message.role) + countTextTokens(message.text) + (message.name ? 1 + countTextTokens(message.name) : 0);
    hash.update(JSON.stringify([message.role, message.name ?? null, message.text])).update('\0');
    if (tokens < OPENAI_CACHE_MIN_TOKENS) continue;
    const cacheable = OPENAI_CACHE_MIN_TOKENS + Math.floor((tokens - OPENAI_CACHE_MIN_TOKENS) / OPENAI_CACHE_STEP) * OPENAI_CACHE_STEP;
    prefixes.push({ key: hash.copy().digest('base64url'), tokens: cacheable, ttl: '5m', ttlMs });
  }
  if (prefixes.length === 0) return undefined;
  return { reads: prefixes, writes: prefixes, billsWrites: false };
}
