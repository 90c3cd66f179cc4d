// Converse answers (API-FORMATS §17): one JSON body, or ConverseStream's event-stream messages —
// messageStart, per block its deltas (tool blocks open with contentBlockStart; text blocks do not)
// and contentBlockStop, messageStop with the stopReason, then metadata with usage and metrics.
import type { Conversation } from '../../engine/conversation.ts';
import type { Reply } from '../../engine/reply-plan.ts';
import { alnum } from '../../http/ids.ts';
import { CONTENT_CHUNK, type StreamItem } from '../../http/stream-writer.ts';
import type { ConverseRequest } from './converse-request.ts';
import { eventFrame } from './eventstream.ts';
import { converseStopReason } from './finish.ts';
import { bedrockInputTokens, bedrockOutputTokens } from './usage.ts';

/** `tooluse_` and 22 letters and digits, as the service mints them. */
export const toolUseId = () => `tooluse_${alnum(22)}`;

const showsText = (reply: Reply) => reply.text !== undefined && (reply.text.text !== '' || reply.toolCalls.length === 0);

function usageOf(reply: Reply, conversation: Conversation) {
  const inputTokens = bedrockInputTokens(reply, conversation);
  const outputTokens = bedrockOutputTokens(reply);
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 };
}

const latencyMs = (request: ConverseRequest) => Math.max(1, Math.round(request.clock.now() - request.startedAt));

export function renderConverse(reply: Reply | undefined, conversation: Conversation, request: ConverseRequest): unknown {
  // `reply` is only absent for requests that match by `inputs`, which Converse does not use.
  if (!reply) return {};
  const content: unknown[] = [];
  if (showsText(reply)) content.push({ text: reply.text!.text });
  for (const { call } of reply.toolCalls) content.push({ toolUse: { toolUseId: call.id ?? toolUseId(), name: call.name, input: call.input } });
  return {
    output: { message: { role: 'assistant', content } },
    stopReason: converseStopReason(reply.delivery.finish),
    usage: usageOf(reply, conversation),
    metrics: { latencyMs: latencyMs(request) },
  };
}

export function* renderConverseStream(reply: Reply, conversation: Conversation, request: ConverseRequest): Generator<StreamItem> {
  yield eventFrame('messageStart', '{"role":"assistant"}');
  let index = 0;
  if (showsText(reply)) {
    const open = `{"contentBlockIndex":${index},"delta":{"text":`;
    if (reply.textChunksJson.length === 0) yield eventFrame('contentBlockDelta', `${open}""}}`);
    for (const chunk of reply.textChunksJson) {
      yield CONTENT_CHUNK;
      yield eventFrame('contentBlockDelta', `${open}${chunk}}}`);
    }
    yield eventFrame('contentBlockStop', `{"contentBlockIndex":${index}}`);
    index++;
  }
  for (const { call, fragmentsJson } of reply.toolCalls) {
    const start = { contentBlockIndex: index, start: { toolUse: { toolUseId: call.id ?? toolUseId(), name: call.name } } };
    yield eventFrame('contentBlockStart', JSON.stringify(start));
    // The input arrives as JSON text in string fragments.
    const open = `{"contentBlockIndex":${index},"delta":{"toolUse":{"input":`;
    for (const fragment of fragmentsJson) {
      yield CONTENT_CHUNK;
      yield eventFrame('contentBlockDelta', `${open}${fragment}}}}`);
    }
    yield eventFrame('contentBlockStop', `{"contentBlockIndex":${index}}`);
    index++;
  }
  yield eventFrame('messageStop', JSON.stringify({ stopReason: converseStopReason(reply.delivery.finish) }));
  yield eventFrame('metadata', JSON.stringify({ usage: usageOf(reply, conversation), metrics: { latencyMs: latencyMs(request) } }));
}
