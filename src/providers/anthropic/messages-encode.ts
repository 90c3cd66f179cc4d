import type { Conversation } from '../../engine/conversation.ts';
import type { Reply } from '../../engine/reply-plan.ts';
import { promptFigures, type PromptFigures } from '../../engine/prompt-cache.ts';
import type { ThinkingReply } from '../../engine/reply-plan.ts';
import { redactedThinkingData, thinkingOf, thinkingSignature } from '../../engine/thinking.ts';
import { thinkingRequest } from './thinking.ts';
import { anthropicOutputTokens, anthropicPromptTokens, anthropicThinkingTokens } from './usage.ts';
import { base58 } from '../../http/ids.ts';
import { CONTENT_CHUNK, type StreamItem } from '../../http/stream-writer.ts';
import type { MessagesRequest } from './messages-request.ts';
import { anthropicStopReason } from './finish.ts';

const messageId = () => `msg_01${base58(22)}`;
const toolUseId = () => `toolu_01${base58(22)}`;

/** The request's prompt figures: the whole prompt (count_tokens), the part outside the cache, and the cache's. */
export function promptUsage(reply: Reply | undefined, request: MessagesRequest): PromptFigures {
  return promptFigures(reply, anthropicPromptTokens(request));
}

function usageOf(reply: Reply, request: MessagesRequest, thinking: ThinkingReply | undefined) {
  const prompt = promptUsage(reply, request);
  const thinkingTokens = anthropicThinkingTokens(reply, thinking);
  const output = anthropicOutputTokens(reply, thinking);
  return {
    input_tokens: prompt.uncached,
    cache_creation_input_tokens: prompt.cacheCreation,
    cache_read_input_tokens: prompt.cacheRead,
    cache_creation: { ephemeral_5m_input_tokens: prompt.creation5m, ephemeral_1h_input_tokens: prompt.creation1h },
    output_tokens: output,
    // SDK 1.x: the part of output_tokens spent thinking, never more than the whole.
    ...(thinkingTokens > 0 && { output_tokens_details: { thinking_tokens: Math.min(thinkingTokens, output) } }),
    service_tier: 'standard',
  };
}

/**
 * The thinking this answer shows when the request enables thinking: the rule's, or the mock's own.
 * Without thinking enabled the API never sends thinking blocks (a client that reads `content[0]`
 * as the text relies on it), so a rule's thinking is then left out, and not counted.
 */
function thinkingFor(reply: Reply, conversation: Conversation, request: MessagesRequest): ThinkingReply | undefined {
  return thinkingRequest(request).enabled ? thinkingOf(reply, conversation, true) : undefined;
}

/** A thinking block as sent whole: `redacted_thinking` with opaque data, or `thinking` with its signature. */
function thinkingBlock(thinking: ThinkingReply, omitted: boolean): Record<string, string> {
  const text = thinking.text.text;
  if (thinking.redacted) return { type: 'redacted_thinking', data: redactedThinkingData(text) };
  return { type: 'thinking', thinking: omitted ? '' : text, signature: thinkingSignature(text, omitted) };
}

export function renderMessage(reply: Reply, conversation: Conversation, request: MessagesRequest): unknown {
  const content: unknown[] = [];
  const thinking = thinkingFor(reply, conversation, request);
  // Thinking comes first, before the text or tool use it leads to (API-FORMATS §18).
  if (thinking) content.push(thinkingBlock(thinking, thinkingRequest(request).omitted));
  if (reply.text && (reply.text.text !== '' || reply.toolCalls.length === 0)) content.push({ type: 'text', text: reply.text.text });
  for (const { call } of reply.toolCalls) content.push({ type: 'tool_use', id: call.id ?? toolUseId(), name: call.name, input: call.input });
  return {
    id: messageId(),
    type: 'message',
    role: 'assistant',
    model: conversation.model,
    content,
    stop_reason: anthropicStopReason(reply.delivery.finish),
    stop_sequence: null,
    usage: usageOf(reply, request, thinking),
  };
}

/**
 * The event ladder of API-FORMATS §8: message_start; per block in index order start, deltas, stop
 * (a text block, then one tool_use block per call with `input_json_delta` pieces); message_delta
 * with the cumulative output tokens; message_stop. A ping after the first block start. No `[DONE]`.
 */
export function* renderMessageStream(reply: Reply, conversation: Conversation, request: MessagesRequest): Generator<StreamItem> {
  const thinking = thinkingFor(reply, conversation, request);
  const usage = usageOf(reply, request, thinking);
  const start = {
    type: 'message_start',
    message: {
      id: messageId(),
      type: 'message',
      role: 'assistant',
      model: conversation.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: usage.input_tokens,
        cache_creation_input_tokens: usage.cache_creation_input_tokens,
        cache_read_input_tokens: usage.cache_read_input_tokens,
        cache_creation: usage.cache_creation,
        output_tokens: 1,
        service_tier: usage.service_tier,
      },
    },
  };
  yield `event: message_start\ndata: ${JSON.stringify(start)}\n\n`;
  let index = 0;
  let pinged = false;
  const ping = function* () {
    if (!pinged) {
      pinged = true;
      yield 'event: ping\ndata: {"type": "ping"}\n\n';
    }
  };
  if (thinking) {
    const omitted = thinkingRequest(request).omitted;
    if (thinking.redacted) {
      // Redacted thinking arrives whole in its start event, with no deltas.
      yield `event: content_block_start\ndata: {"type":"content_block_start","index":${index},"content_block":${JSON.stringify(thinkingBlock(thinking, omitted))}}\n\n`;
      yield* ping();
    } else {
      yield `event: content_block_start\ndata: {"type":"content_block_start","index":${index},"content_block":{"type":"thinking","thinking":"","signature":""}}\n\n`;
      yield* ping();
      // Thinking deltas are not content chunks: pacing and faults count the answer's text and tool input.
      const open = `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"thinking_delta","thinking":`;
      if (!omitted) for (const chunk of thinking.text.chunksJson(reply.delivery.chunking)) yield open + chunk + '}}\n\n';
      const signature = thinkingSignature(thinking.text.text, omitted);
      yield `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"signature_delta","signature":"${signature}"}}\n\n`;
    }
    yield `event: content_block_stop\ndata: {"type":"content_block_stop","index":${index}}\n\n`;
    index++;
  }
  if (reply.text && (reply.text.text !== '' || reply.toolCalls.length === 0)) {
    yield `event: content_block_start\ndata: {"type":"content_block_start","index":${index},"content_block":{"type":"text","text":""}}\n\n`;
    yield* ping();
    const open = `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":`;
    for (const chunk of reply.textChunksJson) {
      yield CONTENT_CHUNK;
      yield open + chunk + '}}\n\n';
    }
    yield `event: content_block_stop\ndata: {"type":"content_block_stop","index":${index}}\n\n`;
    index++;
  }
  for (const { call, fragmentsJson } of reply.toolCalls) {
    const block = { type: 'tool_use', id: call.id ?? toolUseId(), name: call.name, input: {} };
    yield `event: content_block_start\ndata: {"type":"content_block_start","index":${index},"content_block":${JSON.stringify(block)}}\n\n`;
    yield* ping();
    const open = `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"input_json_delta","partial_json":`;
    yield `${open}""}}\n\n`;
    for (const fragment of fragmentsJson) {
      yield CONTENT_CHUNK;
      yield open + fragment + '}}\n\n';
    }
    yield `event: content_block_stop\ndata: {"type":"content_block_stop","index":${index}}\n\n`;
    index++;
  }
  yield `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"${anthropicStopReason(reply.delivery.finish)}","stop_sequence":null},"usage":${JSON.stringify(deltaUsage(usage))}}\n\n`;
  yield 'event: message_stop\ndata: {"type":"message_stop"}\n\n';
}

/**
 * message_delta's usage: the cumulative output, and the input and cache figures repeated, as current
 * API versions send them (the SDK overwrites its totals with these, never adds: API-FORMATS §8).
 */
function deltaUsage(usage: ReturnType<typeof usageOf>) {
  return {
    input_tokens: usage.input_tokens,
    cache_creation_input_tokens: usage.cache_creation_input_tokens,
    cache_read_input_tokens: usage.cache_read_input_tokens,
    output_tokens: usage.output_tokens,
    ...(usage.output_tokens_details && { output_tokens_details: usage.output_tokens_details }),
  };
}
