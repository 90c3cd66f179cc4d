import type { Conversation } from '../../engine/conversation.ts';
import type { Match } from '../../engine/match.ts';
import { anthropicInputTokens } from '../../engine/tokens.ts';
import { base58 } from '../../http/ids.ts';
import { CONTENT_CHUNK, type StreamItem } from '../../http/sse.ts';
import type { MessagesRequest } from './messages-request.ts';

const messageId = () => `msg_01${base58(22)}`;

export function inputTokens(conversation: Conversation): number {
  return anthropicInputTokens(conversation.system, conversation.messages);
}

export function renderMessage(match: Match, conversation: Conversation): unknown {
  return {
    id: messageId(),
    type: 'message',
    role: 'assistant',
    model: conversation.model,
    content: [{ type: 'text', text: match.reply.text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: inputTokens(conversation),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      output_tokens: match.reply.anthropicTokens,
      service_tier: 'standard',
    },
  };
}

/**
 * The event ladder of API-FORMATS §8: message_start, one text block (start, ping, deltas, stop),
 * message_delta with the cumulative output tokens, message_stop. No `[DONE]`.
 */
export function* renderMessageStream(match: Match, conversation: Conversation, _request: MessagesRequest): Generator<StreamItem> {
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
      usage: { input_tokens: inputTokens(conversation), cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
    },
  };
  yield `event: message_start\ndata: ${JSON.stringify(start)}\n\n`;
  yield 'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n';
  yield 'event: ping\ndata: {"type": "ping"}\n\n';
  const open = 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":';
  for (const chunk of match.reply.chunksJson) {
    yield CONTENT_CHUNK;
    yield open + chunk + '}}\n\n';
  }
  yield 'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n';
  yield `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":${match.reply.anthropicTokens}}}\n\n`;
  yield 'event: message_stop\ndata: {"type":"message_stop"}\n\n';
}
