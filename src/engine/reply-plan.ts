import { chunkText, type TextReply } from './reply.ts';
import type { PromptCacheUsage } from './prompt-cache.ts';
import type { Conversation } from './conversation.ts';
import { resolveText, type CompiledToolCall, type Delivery, type TextAnswer, type ToolCallsAnswer } from './response.ts';
import type { Rule } from './rules.ts';
import { countTextTokens } from './tokens.ts';

export interface ToolCallPlan {
  call: CompiledToolCall;
  /** The arguments JSON in streamed pieces, each a JSON string literal. */
  fragmentsJson: readonly string[];
}

/** Everything an encoder needs to render one answer, in no provider's words. */
export interface Reply {
  rule: Rule | null;
  /** The sequence step that answered (0-based), when the rule is a sequence. */
  step: number | undefined;
  text: TextReply | undefined;
  /** The text's streamed pieces, each a JSON string literal ready to splice into a frame. */
  textChunksJson: readonly string[];
  toolCalls: readonly ToolCallPlan[];
  /** What the rule says the model thought (engine/thinking.ts adds one when the request asks for thinking and the rule has none). */
  thinking: ThinkingReply | undefined;
  delivery: Delivery;
  /** The simulated prompt cache's figures for this request (`settings.prompt_cache`), set before rendering. */
  promptCache?: PromptCacheUsage;
}

export interface ThinkingReply {
  text: TextReply;
  redacted: boolean;
  /** Written by the mock (the request enabled thinking, the rule said none), not by the rule. */
  synthesized: boolean;
}

const fragmentCache = new WeakMap<CompiledToolCall, readonly string[]>();

// Arguments stream in token-sized pieces, as the real APIs send them, unless the rule asks for whole.
function argumentFragments(call: CompiledToolCall, delivery: Delivery): readonly string[] {
  if (delivery.chunking === 'whole') return [JSON.stringify(call.argumentsJson)];
  let fragments = fragmentCache.get(call);
  if (!fragments) {
    fragments = chunkText(call.argumentsJson, 'token').map((f) => JSON.stringify(f));
    fragmentCache.set(call, fragments);
  }
  return fragments;
}

export function planReply(rule: Rule | null, step: number | undefined, answer: TextAnswer | ToolCallsAnswer, conversation: Conversation): Reply {
  const text = answer.text === undefined ? undefined : resolveText(answer.text, conversation);
  const thinking = answer.thinking && { text: resolveText(answer.thinking.text, conversation), redacted: answer.thinking.redacted, synthesized: false };
  const reply: Reply = {
    rule,
    step,
    text,
    textChunksJson: text ? text.chunksJson(answer.delivery.chunking) : [],
    toolCalls: answer.kind === 'tool_calls' ? answer.calls.map((call) => ({ call, fragmentsJson: argumentFragments(call, answer.delivery) })) : [],
    thinking,
    delivery: answer.delivery,
  };
  // A fault counted past this answer's last chunk (how many chunks a text or its tool arguments
  // make is hard to know when writing the rule) fails the stream right after that chunk, as the
  // same rule fails a non-stream answer, instead of letting the stream finish cleanly.
  const fault = answer.delivery.fault;
  const chunks = contentChunkCount(reply);
  if (fault && fault.afterChunks > chunks) reply.delivery = { ...answer.delivery, fault: { ...fault, afterChunks: chunks } };
  return reply;
}

/** Content chunks a stream of this reply carries: what latency is spread over. */
export function contentChunkCount(reply: Reply): number {
  let count = reply.textChunksJson.length;
  for (const plan of reply.toolCalls) count += plan.fragmentsJson.length;
  return count;
}

/** Tokens of the reply's tool calls (names and arguments) by a provider's own count. */
export function toolTokens(reply: Reply, count: (text: string) => number = countTextTokens): number {
  let total = 0;
  for (const { call } of reply.toolCalls) total += count(call.name) + count(call.argumentsJson);
  return total;
}

/**
 * Output tokens by the reference count (o200k_base, OpenAI's), unless the rule fixes the figure:
 * what tokens_per_second spreads over the chunks, and OpenAI-family providers' completion tokens.
 */
export function outputTokens(reply: Reply): number {
  return reply.delivery.usage?.output ?? (reply.text?.tokens ?? 0) + toolTokens(reply);
}
