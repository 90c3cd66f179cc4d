// How the mock counts Anthropic tokens. Anthropic publishes no tokenizer for current models; Claude
// tokenizers yield somewhat more tokens than o200k, so one deterministic estimate serves usage and
// count_tokens alike. The prompt is counted block by block, in the order the API caches it (tools,
// then system, then messages: https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching),
// so that the prompt-cache simulation can cut it at any block and its parts add up to the whole.
import { createHash, type Hash } from 'node:crypto';
import { toolTokens, type Reply, type ThinkingReply } from '../../engine/reply-plan.ts';
import { TTL_MS, type CacheTtl, type PromptCacheQuery, type PromptPrefix, type PromptWrite } from '../../engine/prompt-cache.ts';
import { reasoningTokens } from '../../engine/thinking.ts';
import { countTextTokens } from '../../engine/tokens.ts';

const ANTHROPIC_FACTOR = 1.1;
const ANTHROPIC_PER_MESSAGE = 4;

export function anthropicTextTokens(text: string): number {
  return Math.ceil(countTextTokens(text) * ANTHROPIC_FACTOR);
}

type Block = Record<string, unknown>;

/** What the counting reads of a /v1/messages (or count_tokens) body. */
export interface PromptSource {
  model?: unknown;
  system?: unknown;
  messages?: unknown;
  tools?: unknown;
  /** Top-level `cache_control`: automatic caching, a breakpoint on the last cacheable block. */
  cache_control?: unknown;
}

/** One block of the prompt in cache order: its tokens, its content for the prefix hash, and its breakpoint. */
interface PromptBlock {
  tokens: number;
  content: unknown;
  ttl: CacheTtl | undefined;
}

const isBlock = (value: unknown): value is Block => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * o200k tokens of a JSON value's strings (keys and values, each counted once and remembered), plus
 * one per value for its punctuation: close to the count of its JSON text, without serialising it.
 * Tool definitions are tens of kilobytes of schema on every agent request, resent unchanged, and
 * JSON.stringify of them costs several times the counting.
 */
function jsonTokens(value: unknown): number {
  // An explicit stack, not recursion: a request body nested thousands deep (the JSON parser
  // accepts it) must get its count, not a RangeError.
  let total = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    total += 1;
    if (typeof item === 'string') total += stringTokens(item);
    else if (Array.isArray(item)) for (const inner of item) pending.push(inner);
    else if (item !== null && typeof item === 'object') {
      for (const key in item) {
        total += stringTokens(key) + 1;
        pending.push((item as Block)[key]);
      }
    }
  }
  return total;
}

// Schema strings repeat across tools and requests ("type", "string", each description): a plain
// map, emptied when full, is cheaper per lookup than the shared LRU memo for thousands of them.
const SCHEMA_STRINGS_MAX = 20_000;
const SCHEMA_STRING_MAX_CHARS = 2_000;
const schemaStrings = new Map<string, number>();

function stringTokens(text: string): number {
  if (text.length > SCHEMA_STRING_MAX_CHARS) return countTextTokens(text);
  let count = schemaStrings.get(text);
  if (count === undefined) {
    if (schemaStrings.size >= SCHEMA_STRINGS_MAX) schemaStrings.clear();
    schemaStrings.set(text, (count = countTextTokens(text)));
  }
  return count;
}

const jsonTextTokens = (value: unknown) => Math.ceil(jsonTokens(value) * ANTHROPIC_FACTOR);

function ttlOf(block: Block): CacheTtl | undefined {
  const control = block.cache_control;
  if (!isBlock(control)) return undefined;
  return control.ttl === '1h' ? '1h' : '5m';
}

function withoutCacheControl(block: Block): Block {
  if (!('cache_control' in block)) return block;
  const { cache_control: _, ...rest } = block;
  return rest;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (isBlock(part) && typeof part.text === 'string' ? part.text : '')).join('\n');
}

/** Tokens of one content block, as input. */
function blockTokens(block: Block, countThinking: boolean): number {
  switch (block.type) {
    case 'text':
      return typeof block.text === 'string' ? anthropicTextTokens(block.text) : 0;
    case 'tool_use':
    case 'server_tool_use':
      return anthropicTextTokens(typeof block.name === 'string' ? block.name : '') + jsonTextTokens(block.input ?? {});
    case 'tool_result':
      return anthropicTextTokens(contentText(block.content));
    case 'thinking':
      return countThinking && typeof block.thinking === 'string' ? anthropicTextTokens(block.thinking) : 0;
    default:
      return 0;
  }
}

/**
 * The prompt's blocks. Thinking blocks sent back count only in the assistant turn a tool result
 * answers (the API drops earlier turns' thinking from the context and does not count it:
 * https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#how-context-window-is-calculated-with-extended-thinking).
 */
function promptBlocks(request: PromptSource): PromptBlock[] {
  const blocks: PromptBlock[] = [];
  if (Array.isArray(request.tools)) {
    for (const tool of request.tools) {
      if (!isBlock(tool)) continue;
      const definition = withoutCacheControl(tool);
      blocks.push({ tokens: jsonTextTokens(definition), content: definition, ttl: ttlOf(tool) });
    }
  }
  const framed = (parts: PromptBlock[]) => {
    if (parts.length === 0) parts.push({ tokens: 0, content: '', ttl: undefined });
    parts[0]!.tokens += ANTHROPIC_PER_MESSAGE;
    blocks.push(...parts);
  };
  const { system } = request;
  if (typeof system === 'string' && system !== '') framed([{ tokens: anthropicTextTokens(system), content: system, ttl: undefined }]);
  else if (Array.isArray(system) && system.length > 0) {
    framed(system.filter(isBlock).map((block) => ({ tokens: blockTokens(block, false), content: withoutCacheControl(block), ttl: ttlOf(block) })));
  }
  const messages = Array.isArray(request.messages) ? request.messages.filter(isBlock) : [];
  const continuing = messages.length >= 2 && Array.isArray(messages.at(-1)!.content) && (messages.at(-1)!.content as unknown[]).some((b) => isBlock(b) && b.type === 'tool_result');
  messages.forEach((message, i) => {
    const role = message.role;
    const { content } = message;
    const countThinking = continuing && i === messages.length - 2;
    if (typeof content === 'string') framed([{ tokens: anthropicTextTokens(content), content: { role, content }, ttl: undefined }]);
    else if (Array.isArray(content)) {
      const parts = content.filter(isBlock).map((block) => ({ tokens: blockTokens(block, countThinking), content: withoutCacheControl(block), ttl: ttlOf(block) }));
      if (parts.length > 0) parts[0]!.content = { role, first: parts[0]!.content };
      framed(parts);
    } else framed([]);
  });
  if (isBlock(request.cache_control) && blocks.length > 0) blocks.at(-1)!.ttl ??= ttlOf({ cache_control: request.cache_control });
  return blocks;
}

/** Estimated input tokens of a request (system, tool definitions, every message); never 0. What count_tokens reports. */
export function anthropicPromptTokens(request: PromptSource): number {
  let total = 0;
  for (const block of promptBlocks(request)) total += block.tokens;
  return Math.max(total, 1);
}

/** How many blocks before a breakpoint the API looks for an earlier cache entry. */
const LOOKBACK_BLOCKS = 20;
/**
 * A shorter prefix is not cached (no error: it is billed as ordinary input). 1,024 is the
 * documented minimum of the Sonnet and Opus models
 * (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#cache-limitations).
 */
export const ANTHROPIC_CACHE_MIN_TOKENS = 1024;

/**
 * The prompt as the cache sees it: every block boundary within 20 blocks before a breakpoint may
 * be read; each breakpoint is written; prefixes under 1,024 tokens are neither. Prefix keys hash the
 * model and the exact content (without the `cache_control` markers, which do not change the text).
 * Undefined when nothing is cacheable.
 */
export function anthropicCacheQuery(request: PromptSource): PromptCacheQuery | undefined {
  const blocks = promptBlocks(request);
  if (!blocks.some((b) => b.ttl !== undefined)) return undefined;
  const hash: Hash = createHash('sha256').update(`anthropic\0${String(request.model)}\0`);
  const prefixes: PromptPrefix[] = [];
  let tokens = 0;
  for (const block of blocks) {
    hash.update(JSON.stringify(block.content) ?? '').update('\0');
    tokens += block.tokens;
    prefixes.push({ key: hash.copy().digest('base64url'), tokens });
  }
  const reads = new Map<string, PromptPrefix>();
  const writes: PromptWrite[] = [];
  blocks.forEach((block, i) => {
    if (block.ttl === undefined) return;
    for (let j = Math.max(0, i - LOOKBACK_BLOCKS + 1); j <= i; j++) if (prefixes[j]!.tokens >= ANTHROPIC_CACHE_MIN_TOKENS) reads.set(prefixes[j]!.key, prefixes[j]!);
    if (prefixes[i]!.tokens >= ANTHROPIC_CACHE_MIN_TOKENS) writes.push({ ...prefixes[i]!, ttl: block.ttl, ttlMs: TTL_MS[block.ttl] });
  });
  if (reads.size === 0 && writes.length === 0) return undefined;
  return { reads: [...reads.values()], writes, billsWrites: true };
}

/** Reasoning (thinking) tokens by the estimate, unless the rule fixes the figure. */
export function anthropicThinkingTokens(reply: Reply, thinking: ThinkingReply | undefined): number {
  return reasoningTokens(reply, thinking, (text) => Math.ceil(text.tokens * ANTHROPIC_FACTOR));
}

/** Output tokens (thinking included, as the API counts it) by the estimate, unless the rule fixes the figure; never 0. */
export function anthropicOutputTokens(reply: Reply, thinking?: ThinkingReply): number {
  const text = reply.text ? Math.ceil(reply.text.tokens * ANTHROPIC_FACTOR) : 0;
  return reply.delivery.usage?.output ?? Math.max(text + toolTokens(reply, anthropicTextTokens) + anthropicThinkingTokens(reply, thinking), 1);
}
