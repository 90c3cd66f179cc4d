import type { Conversation } from '../../engine/conversation.ts';
import type { Match } from '../../engine/match.ts';
import { chatPromptTokens } from '../../engine/tokens.ts';
import { alnum, hex } from '../../http/ids.ts';
import { CONTENT_CHUNK, type StreamItem } from '../../http/sse.ts';
import type { ChatRequest } from './chat-request.ts';

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

function usageOf(match: Match, conversation: Conversation, choices: number): ChatUsage {
  const promptTokens = chatPromptTokens(conversation.messages);
  const completionTokens = match.reply.openaiTokens * choices;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

export function renderChatCompletion(match: Match, conversation: Conversation, request: ChatRequest): unknown {
  const n = choiceCount(request);
  const choices = [];
  for (let index = 0; index < n; index++) {
    choices.push({
      index,
      message: { role: 'assistant', content: match.reply.text, refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: 'stop',
    });
  }
  return {
    id: `chatcmpl-${alnum(29)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: conversation.model,
    choices,
    usage: usageOf(match, conversation, n),
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

/**
 * The chunk ladder of API-FORMATS §1: per choice a role chunk, the content deltas and a finish
 * chunk; then the usage chunk when `stream_options.include_usage` asks for it; then `[DONE]`.
 * Every frame is built by splicing precomputed JSON pieces around the chunk, never by
 * serialising an object per chunk.
 */
export function* renderChatStream(match: Match, conversation: Conversation, request: ChatRequest): Generator<StreamItem> {
  const includeUsage = request.stream_options?.include_usage === true;
  const head =
    `data: {"id":"chatcmpl-${alnum(29)}","object":"chat.completion.chunk","created":${Math.floor(Date.now() / 1000)},` +
    `"model":${JSON.stringify(conversation.model)},"service_tier":"default","system_fingerprint":"${SYSTEM_FINGERPRINT}","choices":[`;
  const tail = includeUsage ? '],"usage":null}\n\n' : ']}\n\n';
  const chunks = match.reply.chunksJson;
  const n = choiceCount(request);
  for (let index = 0; index < n; index++) {
    const open = `${head}{"index":${index},"delta":`;
    yield `${open}{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}${tail}`;
    const contentOpen = `${open}{"content":`;
    const contentClose = `},"logprobs":null,"finish_reason":null}${tail}`;
    for (const chunk of chunks) {
      yield CONTENT_CHUNK;
      yield contentOpen + chunk + contentClose;
    }
    yield `${open}{},"logprobs":null,"finish_reason":"stop"}${tail}`;
  }
  if (includeUsage) yield `${head}],"usage":${JSON.stringify(usageOf(match, conversation, n))}}\n\n`;
  yield 'data: [DONE]\n\n';
}
