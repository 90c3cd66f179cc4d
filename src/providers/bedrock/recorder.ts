// Decodes Bedrock Runtime answers into rule responses for `--record` (src/proxy/record.ts):
// Converse's JSON (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html)
// and ConverseStream's events (API_runtime_ConverseStream.html; AWS event stream frames, split by
// src/proxy/frames.ts), whole once `messageStop` has come; InvokeModel with Anthropic's body (the
// Messages object, https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages.html)
// and InvokeModelWithResponseStream, whose `chunk` events carry Anthropic's stream events as base64.
import type { AnthropicStopReason, OpenAiFinishReason, ResponseObject, ToolCallSpec } from '../../config/schema.ts';
import { decodeMessage, decodeMessageEvents, type TimedEvent } from '../anthropic-messages-recorded.ts';
import type { ProviderRecorder, Recording, UpstreamAnswer, UpstreamFrame } from '../provider.ts';
import { int, isObject, parseJsonObject as parse, str, type Json } from '../recorded-json.ts';

/** Converse stop reasons the rule names in Anthropic's words (the shared ones), or as a neutral finish. */
const CONVERSE_STOP: Record<string, { stop_reason: AnthropicStopReason } | { finish_reason: OpenAiFinishReason }> = {
  end_turn: { stop_reason: 'end_turn' },
  tool_use: { stop_reason: 'tool_use' },
  max_tokens: { stop_reason: 'max_tokens' },
  stop_sequence: { stop_reason: 'stop_sequence' },
  // Replayed as `content_filtered`: the mock has no guardrails to intervene.
  content_filtered: { finish_reason: 'content_filter' },
  guardrail_intervened: { finish_reason: 'content_filter' },
  // Replayed as `max_tokens`: the input filled the window, so the output was cut short.
  model_context_window_exceeded: { finish_reason: 'length' },
};

interface Decoded {
  text: string | undefined;
  calls: ToolCallSpec[];
  finish: ResponseObject;
  input: number | undefined;
  output: number | undefined;
  /** Prompt tokens read from and written to the prompt cache, when the upstream reports any. */
  cache?: { read: number | undefined; write: number | undefined };
}

function responseOf({ text, calls, finish, input, output, cache }: Decoded): ResponseObject {
  const response: ResponseObject = {};
  if (text !== undefined || calls.length === 0) response.text = text ?? '';
  if (calls.length > 0) response.tool_calls = calls;
  Object.assign(response, finish);
  if (input !== undefined || output !== undefined) response.usage = { ...(input !== undefined && { input_tokens: input }), ...(output !== undefined && { output_tokens: output }) };
  // `inputTokens` leaves out the cached part, which these report (as the rule's usage means them).
  if (response.usage && cache?.read) response.usage.cache_read_input_tokens = cache.read;
  if (response.usage && cache?.write) response.usage.cache_creation_input_tokens = cache.write;
  return response;
}

const converseCache = (usage: Json) => ({ read: int(usage.cacheReadInputTokens), write: int(usage.cacheWriteInputTokens) });

const converseStop = (reason: string | undefined): ResponseObject => (reason !== undefined ? { ...CONVERSE_STOP[reason] } : {});

/** Converse: the output message's text and toolUse blocks (reasoning left out), stopReason, usage. */
function converseJson(body: Json): Recording | undefined {
  const message = isObject(body.output) && isObject(body.output.message) ? body.output.message : undefined;
  if (!message || !Array.isArray(message.content) || str(body.stopReason) === undefined) return undefined;
  let text: string | undefined;
  const calls: ToolCallSpec[] = [];
  for (const block of message.content) {
    if (!isObject(block)) continue;
    if (typeof block.text === 'string') text = (text ?? '') + block.text;
    else if (isObject(block.toolUse) && str(block.toolUse.name)) {
      const use = block.toolUse;
      calls.push({ name: str(use.name)!, arguments: isObject(use.input) ? use.input : {}, ...(str(use.toolUseId) && { id: str(use.toolUseId) }) });
    }
  }
  const usage = isObject(body.usage) ? body.usage : {};
  return { response: responseOf({ text, calls, finish: converseStop(str(body.stopReason)), input: int(usage.inputTokens), output: int(usage.outputTokens), cache: converseCache(usage) }) };
}

/** ConverseStream: blocks by contentBlockIndex (text deltas; toolUse opened by contentBlockStart, its input as JSON text in pieces), messageStop, metadata. */
function converseStream(frames: readonly UpstreamFrame[]): Recording | undefined {
  const blocks = new Map<number, { text: string } | { id?: string; name: string; json: string }>();
  let stop: string | undefined;
  let input: number | undefined;
  let output: number | undefined;
  let cache: Decoded['cache'];
  let stopped = false;
  const contentAtMs: number[] = [];
  for (const frame of frames) {
    // An exception (or error) message inside the stream: the answer failed.
    if (frame.event === 'exception' || frame.event === 'error') return undefined;
    const event = parse(frame.data);
    if (!event) continue;
    if (frame.event === 'contentBlockStart' && isObject(event.start) && isObject(event.start.toolUse)) {
      const use = event.start.toolUse;
      blocks.set(int(event.contentBlockIndex) ?? blocks.size, { name: str(use.name) ?? '', json: '', ...(str(use.toolUseId) && { id: str(use.toolUseId) }) });
    } else if (frame.event === 'contentBlockDelta' && isObject(event.delta)) {
      const index = int(event.contentBlockIndex) ?? 0;
      const delta = event.delta;
      let block = blocks.get(index);
      if (typeof delta.text === 'string') {
        // A text block has no contentBlockStart: its first delta opens it.
        if (!block) blocks.set(index, (block = { text: '' }));
        if ('text' in block) block.text += delta.text;
        if (delta.text !== '') contentAtMs.push(frame.atMs);
      } else if (isObject(delta.toolUse) && block && 'json' in block) {
        const piece = str(delta.toolUse.input) ?? '';
        block.json += piece;
        if (piece !== '') contentAtMs.push(frame.atMs);
      }
    } else if (frame.event === 'messageStop') {
      stop = str(event.stopReason);
      stopped = true;
    } else if (frame.event === 'metadata' && isObject(event.usage)) {
      input = int(event.usage.inputTokens);
      output = int(event.usage.outputTokens);
      cache = converseCache(event.usage);
    }
  }
  if (!stopped) return undefined;
  let text: string | undefined;
  const calls: ToolCallSpec[] = [];
  for (const [, block] of [...blocks.entries()].sort(([a], [b]) => a - b)) {
    if ('text' in block) text = (text ?? '') + block.text;
    else if (block.name !== '') calls.push({ name: block.name, arguments: parse(block.json || '{}') ?? {}, ...(block.id && { id: block.id }) });
  }
  return { response: responseOf({ text, calls, finish: converseStop(stop), input, output, cache }), contentAtMs };
}

/**
 * InvokeModelWithResponseStream: each `chunk` event's `bytes` is one of Anthropic's stream events
 * (base64 JSON), decoded as Anthropic's own stream is; an exception in the stream fails it.
 */
function* invokeEvents(frames: readonly UpstreamFrame[]): Generator<TimedEvent> {
  for (const frame of frames) {
    if (frame.event === 'exception' || frame.event === 'error') {
      yield { event: { type: 'error' }, atMs: frame.atMs };
      return;
    }
    if (frame.event !== 'chunk') continue;
    const chunk = parse(frame.data);
    const bytes = chunk && str(chunk.bytes);
    const event = bytes === undefined ? undefined : parse(Buffer.from(bytes, 'base64').toString('utf8'));
    if (event) yield { event, atMs: frame.atMs };
  }
}

export const bedrockRecorder: ProviderRecorder = {
  decode(answer: UpstreamAnswer): Recording | undefined {
    const streamed = answer.frames !== undefined;
    if (answer.endpoint.endsWith('/converse') || answer.endpoint.endsWith('/converse-stream')) {
      if (streamed) return converseStream(answer.frames!);
      const body = parse(answer.body);
      return body && converseJson(body);
    }
    if (answer.endpoint.endsWith('/invoke') || answer.endpoint.endsWith('/invoke-with-response-stream')) {
      if (streamed) return decodeMessageEvents(invokeEvents(answer.frames!));
      const body = parse(answer.body);
      return body && decodeMessage(body);
    }
    return undefined;
  },
};
