// How the mock counts Gemini tokens. Gemini's tokenizer is not o200k, but no public one matches the
// served models either; one deterministic estimate serves usageMetadata and countTokens alike, so
// `countTokens` always equals the `promptTokenCount` of the same request.
import { toolTokens, type Reply } from '../../engine/reply-plan.ts';
import { countTextTokens } from '../../engine/tokens.ts';
import { jsonText, type Content, type GenerateContentBody } from './request.ts';

/** An image costs 258 tokens (https://ai.google.dev/gemini-api/docs/tokens#multimodal-tokens); other media alike here. */
export const MEDIA_PART_TOKENS = 258;

function contentTokens(content: Content | string | undefined): number {
  if (content === undefined) return 0;
  if (typeof content === 'string') return countTextTokens(content);
  let total = 0;
  for (const part of content.parts) {
    if (typeof part.text === 'string') total += countTextTokens(part.text);
    if (part.functionCall) total += countTextTokens(part.functionCall.name ?? '') + countTextTokens(jsonText(part.functionCall.args ?? {}));
    if (part.functionResponse) total += countTextTokens(part.functionResponse.name ?? '') + countTextTokens(jsonText(part.functionResponse.response ?? {}));
    if (part.inlineData !== undefined || part.fileData !== undefined) total += MEDIA_PART_TOKENS;
  }
  return total;
}

/** `promptTokenCount`: the system instruction, every turn and the tool declarations; never 0. */
export function geminiPromptTokens(body: Pick<GenerateContentBody, 'contents' | 'systemInstruction' | 'tools'>): number {
  let total = contentTokens(body.systemInstruction);
  for (const content of body.contents) total += contentTokens(content);
  if (body.tools && body.tools.length > 0) total += countTextTokens(jsonText(body.tools));
  return Math.max(total, 1);
}

/** `candidatesTokenCount`: text and function calls by the estimate, unless the rule fixes the figure. */
export function geminiCandidatesTokens(reply: Reply): number {
  return reply.delivery.usage?.output ?? Math.max((reply.text?.tokens ?? 0) + toolTokens(reply), 1);
}

export interface UsageMetadata {
  promptTokenCount: number;
  candidatesTokenCount?: number;
  /** Prompt tokens read from a cache (within promptTokenCount). */
  cachedContentTokenCount?: number;
  /** Thinking tokens (not within candidatesTokenCount; within totalTokenCount). */
  thoughtsTokenCount?: number;
  totalTokenCount: number;
  promptTokensDetails: { modality: string; tokenCount: number }[];
  candidatesTokensDetails?: { modality: string; tokenCount: number }[];
}

/**
 * usageMetadata with the rule's `usage` overrides mapped: input → promptTokenCount, output →
 * candidatesTokenCount; `cached` (read from a cache) and `thoughts` when there are any
 * (API-FORMATS §11: promptTokenCount includes cached tokens, candidatesTokenCount excludes thoughts).
 */
export function usageMetadata(reply: Reply | undefined, prompt: number, candidates: number | undefined, extra: { cached?: number; thoughts?: number } = {}): UsageMetadata {
  const promptTokens = reply?.delivery.usage?.input ?? prompt;
  const thoughts = extra.thoughts ?? 0;
  const usage: UsageMetadata = {
    promptTokenCount: promptTokens,
    ...(extra.cached ? { cachedContentTokenCount: extra.cached } : {}),
    totalTokenCount: promptTokens + (candidates ?? 0) + thoughts,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }],
  };
  if (thoughts > 0) usage.thoughtsTokenCount = thoughts;
  if (candidates !== undefined) {
    usage.candidatesTokenCount = candidates;
    usage.candidatesTokensDetails = [{ modality: 'TEXT', tokenCount: candidates }];
  }
  return usage;
}
