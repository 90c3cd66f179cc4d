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
import { bedrockInputTokens, bedrockOutputTokens, bedrockTextTokens } from './usage.ts';
import { promptFigures } from '../../engine/prompt-cache.ts';
import type { ThinkingReply } from '../../engine/reply-plan.ts';
import { reasoningTokens, redactedThinkingData, thinkingOf, thinkingSignature } from '../../engine/thinking.ts';

/** `tooluse_` and 22 letters and digits, as the service mints them. */
export const toolUseId = () => `tooluse_${alnum(22)}`;

const showsText = (reply: Reply) => reply.text !== undefined && (reply.text.text !== '' || reply.toolCalls.length === 0);

/** Whether the body turns Claude's thinking on (`additionalModelRequestFields.thinking.type` `enabled` or `adaptive`). */
export function converseThinking(body: unknown): boolean {
  const fields = (body as { additionalModelRequestFields?: { thinking?: { type?: unknown } } } | null)?.additionalModelRequestFields;
  const type = fields?.thinking?.type;
  return type === 'enabled' || type === 'adaptive';
}

/**
 * `inputTokens` excludes what was read from or written to the cache, which the cache figures
 * report (as Anthropic's usage does; the SDK types list `cacheReadInputTokens` and
 * `cacheWriteInputTokens`); `totalTokens` is all of it.
 */
function usageOf(reply: Reply, conversation: Conversation, thinking: ThinkingReply | undefined) {
  const prompt = promptFigures(reply, bedrockInputTokens(undefined, conversation));
  const outputTokens = reply.delivery.usage?.output ?? bedrockOutputTokens(reply) + reasoningTokens(reply, thinking, (t) => bedrockTextTokens(t.text));
  return {
    inputTokens: prompt.uncached,
    outputTokens,
    totalTokens: prompt.total + outputTokens,
    cacheReadInputTokens: prompt.cacheRead,
    cacheWriteInputTokens: prompt.cacheCreation,
  };
}

/** Claude on Bedrock thinks, and shows it, only when the request turns thinking on: the rule's thinking, or the mock's own. */
function thinkingFor(reply: Reply, conversation: Conversation, request: ConverseRequest): ThinkingReply | undefined {
  return request.thinking === true ? thinkingOf(reply, conversation, true) : undefined;
}

/** A reasoning block whole: its text and signature, or the redacted content (a blob: base64 in JSON). */
function reasoningBlock(thinking: ThinkingReply): unknown {
  const text = thinking.text.text;
  if (thinking.redacted) return { reasoningContent: { redactedContent: redactedThinkingData(text) } };
  return { reasoningContent: { reasoningText: { text, signature: thinkingSignature(text) } } };
}

const latencyMs = (request: ConverseRequest) => Math.max(1, Math.round(request.clock.now() - request.startedAt));

export function renderConverse(reply: Reply | undefined, conversation: Conversation, request: ConverseRequest): unknown {
  // `reply` is only absent for requests that match by `inputs`, which Converse does not use.
  if (!reply) return {};
  const content: unknown[] = [];
  const thinking = thinkingFor(reply, conversation, request);
  if (thinking) content.push(reasoningBlock(thinking));
  if (showsText(reply)) content.push({ text: reply.text!.text });
  for (const { call } of reply.toolCalls) content.push({ toolUse: { toolUseId: call.id ?? toolUseId(), name: call.name, input: call.input } });
  return {
    output: { message: { role: 'assistant', content } },
    stopReason: converseStopReason(reply.delivery.finish),
    usage: usageOf(reply, conversation, thinking),
    metrics: { latencyMs: latencyMs(request) },
  };
}

export function* renderConverseStream(reply: Reply, conversation: Conversation, request: ConverseRequest): Generator<StreamItem> {
  yield eventFrame('messageStart', '{"role":"assistant"}');
  let index = 0;
  const thinking = thinkingFor(reply, conversation, request);
  if (thinking) {
    // Reasoning deltas (text pieces, then the signature; or the redacted content whole), no block
    // start, as for text (API-FORMATS §17). Not content chunks: pacing and faults count the answer's.
    const open = `{"contentBlockIndex":${index},"delta":{"reasoningContent":`;
    if (thinking.redacted) yield eventFrame('contentBlockDelta', `${open}{"redactedContent":"${redactedThinkingData(thinking.text.text)}"}}}`);
    else {
      for (const chunk of thinking.text.chunksJson(reply.delivery.chunking)) yield eventFrame('contentBlockDelta', `${open}{"text":${chunk}}}}`);
      yield eventFrame('contentBlockDelta', `${open}{"signature":"${thinkingSignature(thinking.text.text)}"}}}`);
    }
    yield eventFrame('contentBlockStop', `{"contentBlockIndex":${index}}`);
    index++;
  }
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
  yield eventFrame('metadata', JSON.stringify({ usage: usageOf(reply, conversation, thinking), metrics: { latencyMs: latencyMs(request) } }));
}
