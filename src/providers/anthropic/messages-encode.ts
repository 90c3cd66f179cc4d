import type { Conversation } from '../../engine/conversation.ts';
import type { Reply } from '../../engine/reply-plan.ts';
import { anthropicInputTokens, anthropicOutputTokens } from './usage.ts';
import { base58 } from '../../http/ids.ts';
import { CONTENT_CHUNK, type StreamItem } from '../../http/stream-writer.ts';
import type { MessagesRequest } from './messages-request.ts';
import { anthropicStopReason } from './finish.ts';

const messageId = () => `msg_01${base58(22)}`;
const toolUseId = () => `toolu_01${base58(22)}`;

/** The one estimate used for `usage.input_tokens` (and count_tokens) of a request. */
export function inputTokens(reply: Reply | undefined, conversation: Conversation): number {
  return reply?.delivery.usage?.input ?? anthropicInputTokens(conversation.system, conversation.messages);
}

export function renderMessage(reply: Reply, conversation: Conversation): unknown {
  const content: unknown[] = [];
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
    usage: {
      input_tokens: inputTokens(reply, conversation),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      output_tokens: anthropicOutputTokens(reply),
      service_tier: 'standard',
    },
  };
}

/**
 * The event ladder of API-FORMATS §8: message_start; per block in index order start, deltas, stop
 * (a text block, then one tool_use block per call with `input_json_delta` pieces); message_delta
 * with the cumulative output tokens; message_stop. A ping after the first block start. No `[DONE]`.
 */
export function* renderMessageStream(reply: Reply, conversation: Conversation, _request: MessagesRequest): Generator<StreamItem> {
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
      usage: { input_tokens: inputTokens(reply, conversation), cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
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
  yield `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"${anthropicStopReason(reply.delivery.finish)}","stop_sequence":null},"usage":{"output_tokens":${anthropicOutputTokens(reply)}}}\n\n`;
  yield 'event: message_stop\ndata: {"type":"message_stop"}\n\n';
}
