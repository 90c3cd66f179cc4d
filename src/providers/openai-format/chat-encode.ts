import type { Conversation } from '../../engine/conversation.ts';
import type { Reply } from '../../engine/reply-plan.ts';
import { chatPromptTokens, completionTokens, openAiCacheQuery } from './usage.ts';
import { promptFigures, type PromptCacheQuery } from '../../engine/prompt-cache.ts';
import { reasoningTokens, thinkingOf } from '../../engine/thinking.ts';
import { alnum, hex } from '../../http/ids.ts';
import { CONTENT_CHUNK, type StreamItem } from '../../http/stream-writer.ts';
import type { ChatRequest } from './chat-request.ts';
import { openAiFinishReason } from './finish.ts';

// One fingerprint per process, like one deployment of the real service.
const SYSTEM_FINGERPRINT = `fp_${hex(10)}`;

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  completion_tokens_details: {
    reasoning_tokens: number;
    audio_tokens: number;
    accepted_prediction_tokens: number;
    rejected_prediction_tokens: number;
  };
}

function choiceCount(request: ChatRequest): number {
  return request.n ?? 1;
}

/**
 * Chat has no visible reasoning, only its count: the rule's thinking, or the mock's own when the
 * request sets `reasoning_effort` (other than `none`), as a reasoning model thinks then.
 */
export function chatReasoningTokens(reply: Reply, conversation: Conversation, request: object): number {
  const effort = (request as { reasoning_effort?: unknown }).reasoning_effort;
  return reasoningTokens(reply, thinkingOf(reply, conversation, typeof effort === 'string' && effort !== 'none'));
}

/**
 * `prompt_tokens` is the whole prompt and `cached_tokens` the part of it read from the cache;
 * `completion_tokens` holds the reasoning tokens (API-FORMATS §19: cached ⊂ prompt, reasoning ⊂ completion).
 */
export function chatUsage(reply: Reply, conversation: Conversation, choices: number, request: object = {}): ChatUsage {
  const prompt = promptFigures(reply, chatPromptTokens(conversation.messages));
  const reasoning = chatReasoningTokens(reply, conversation, request);
  const outputTokens = (reply.delivery.usage?.output ?? completionTokens(reply) + reasoning) * choices;
  return {
    prompt_tokens: prompt.total,
    completion_tokens: outputTokens,
    total_tokens: prompt.total + outputTokens,
    prompt_tokens_details: { cached_tokens: prompt.cacheRead, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: reasoning * choices, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

/** Tool call ids are minted per answer, as the real API does, unless the rule fixes them. */
function toolCallIds(reply: Reply): string[] {
  return reply.toolCalls.map(({ call }) => call.id ?? `call_${alnum(24)}`);
}

export function renderChatCompletion(reply: Reply, conversation: Conversation, request: ChatRequest): unknown {
  const n = choiceCount(request);
  const choices = [];
  for (let index = 0; index < n; index++) {
    const ids = toolCallIds(reply);
    const message =
      reply.toolCalls.length === 0
        ? { role: 'assistant', content: reply.text?.text ?? '', refusal: null, annotations: [] }
        : {
            role: 'assistant',
            content: reply.text?.text ?? null,
            refusal: null,
            annotations: [],
            tool_calls: reply.toolCalls.map(({ call }, i) => ({ id: ids[i], type: 'function', function: { name: call.name, arguments: call.argumentsJson } })),
          };
    choices.push({ index, message, logprobs: null, finish_reason: openAiFinishReason(reply.delivery.finish) });
  }
  return {
    id: `chatcmpl-${alnum(29)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: conversation.model,
    choices,
    usage: chatUsage(reply, conversation, n, request),
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

/**
 * The chunk ladder of API-FORMATS §1: per choice a role chunk, the content deltas, each tool call
 * (its first fragment with id, type and name; then argument pieces) and a finish chunk; then the
 * usage chunk when `stream_options.include_usage` asks for it; then `[DONE]`. Frames are built by
 * splicing precomputed JSON pieces around each chunk, never by serialising an object per chunk.
 */
export function* renderChatStream(reply: Reply, conversation: Conversation, request: ChatRequest): Generator<StreamItem> {
  const includeUsage = request.stream_options?.include_usage === true;
  const head =
    `data: {"id":"chatcmpl-${alnum(29)}","object":"chat.completion.chunk","created":${Math.floor(Date.now() / 1000)},` +
    `"model":${JSON.stringify(conversation.model)},"service_tier":"default","system_fingerprint":"${SYSTEM_FINGERPRINT}","choices":[`;
  const tail = includeUsage ? '],"usage":null}\n\n' : ']}\n\n';
  const hasTools = reply.toolCalls.length > 0;
  const n = choiceCount(request);
  for (let index = 0; index < n; index++) {
    const open = `${head}{"index":${index},"delta":`;
    const close = `},"logprobs":null,"finish_reason":null}${tail}`;
    yield `${open}{"role":"assistant","content":${hasTools && !reply.text ? 'null' : '""'},"refusal":null${close}`;
    const contentOpen = `${open}{"content":`;
    for (const chunk of reply.textChunksJson) {
      yield CONTENT_CHUNK;
      yield contentOpen + chunk + close;
    }
    const ids = toolCallIds(reply);
    for (const [toolIndex, { call, fragmentsJson }] of reply.toolCalls.entries()) {
      yield `${open}{"tool_calls":[{"index":${toolIndex},"id":"${ids[toolIndex]}","type":"function","function":{"name":${JSON.stringify(call.name)},"arguments":""}}]${close}`;
      const fragmentOpen = `${open}{"tool_calls":[{"index":${toolIndex},"function":{"arguments":`;
      for (const fragment of fragmentsJson) {
        yield CONTENT_CHUNK;
        yield `${fragmentOpen}${fragment}}}]${close}`;
      }
    }
    yield `${open}{},"logprobs":null,"finish_reason":"${openAiFinishReason(reply.delivery.finish)}"}${tail}`;
  }
  if (includeUsage) yield `${head}],"usage":${JSON.stringify(chatUsage(reply, conversation, n, request))}}\n\n`;
  yield 'data: [DONE]\n\n';
}

/** The prompt-cache simulation's view of a chat request (`settings.prompt_cache`). */
export function chatCacheQuery(request: ChatRequest, conversation: Conversation): PromptCacheQuery | undefined {
  const body = request as ChatRequest & { prompt_cache_key?: unknown; prompt_cache_retention?: unknown };
  return openAiCacheQuery(conversation.model, conversation.messages, { promptCacheKey: body.prompt_cache_key, retention: body.prompt_cache_retention });
}
