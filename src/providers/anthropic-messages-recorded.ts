// Anthropic Messages answers decoded into rule responses for `--record` (src/proxy/record.ts): the
// message object (https://docs.anthropic.com/en/api/messages) and its event stream
// (https://docs.anthropic.com/en/docs/build-with-claude/streaming), which is whole only once
// `message_stop` has come. Two providers answer with them: Anthropic, and Bedrock's InvokeModel
// (whose stream's `chunk` events carry the same events), so the decoding lives here, once.
import type { AnthropicStopReason, ResponseObject, ToolCallSpec } from '../config/schema.ts';
import type { Recording } from './provider.ts';
import { int, isObject, parseJsonObject as parse, str, type Json } from './recorded-json.ts';

const STOP_REASONS: readonly string[] = ['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'refusal', 'pause_turn'];

interface Usage {
  input: number | undefined;
  output: number | undefined;
  /** Prompt tokens read from and written to the prompt cache, when the upstream reports any. */
  cacheRead: number | undefined;
  cacheWrite: number | undefined;
}

function responseOf(text: string | undefined, calls: ToolCallSpec[], stop: string | undefined, usage: Usage): ResponseObject {
  const response: ResponseObject = {};
  if (text !== undefined || calls.length === 0) response.text = text ?? '';
  if (calls.length > 0) response.tool_calls = calls;
  if (stop !== undefined && STOP_REASONS.includes(stop)) response.stop_reason = stop as AnthropicStopReason;
  const { input, output, cacheRead, cacheWrite } = usage;
  if (input !== undefined || output !== undefined) {
    response.usage = { ...(input !== undefined && { input_tokens: input }), ...(output !== undefined && { output_tokens: output }) };
    // `input_tokens` leaves out the cached part, which these report (as the rule's usage means them).
    if (cacheRead) response.usage.cache_read_input_tokens = cacheRead;
    if (cacheWrite) response.usage.cache_creation_input_tokens = cacheWrite;
  }
  return response;
}

const usageOf = (usage: Json): Usage => ({
  input: int(usage.input_tokens),
  output: int(usage.output_tokens),
  cacheRead: int(usage.cache_read_input_tokens),
  cacheWrite: int(usage.cache_creation_input_tokens),
});

/** The message object: its text and tool_use blocks, stop_reason and usage. */
export function decodeMessage(body: Json): Recording | undefined {
  if (body.type !== 'message' || !Array.isArray(body.content)) return undefined;
  let text: string | undefined;
  const calls: ToolCallSpec[] = [];
  for (const block of body.content) {
    if (!isObject(block)) continue;
    if (block.type === 'text' && typeof block.text === 'string') text = (text ?? '') + block.text;
    else if (block.type === 'tool_use' && str(block.name)) {
      calls.push({ name: str(block.name)!, arguments: isObject(block.input) ? block.input : {}, ...(str(block.id) && { id: str(block.id) }) });
    }
  }
  return { response: responseOf(text, calls, str(body.stop_reason), usageOf(isObject(body.usage) ? body.usage : {})) };
}

/** One stream event, with when its frame arrived (for the recorded pace). */
export interface TimedEvent {
  event: Json;
  /** The SSE `event:` name, for an event whose data has no `type`. */
  name?: string;
  atMs: number;
}

/**
 * The event ladder reassembled: blocks by index (text deltas, tool_use with its input as partial
 * JSON), message_delta's stop reason and usage. Undefined for an `error` event or a stream that
 * never reached `message_stop`.
 */
export function decodeMessageEvents(events: Iterable<TimedEvent>): Recording | undefined {
  const blocks = new Map<number, { type: 'text'; text: string } | { type: 'tool_use'; id?: string; name: string; json: string }>();
  let stop: string | undefined;
  let usage: Usage = { input: undefined, output: undefined, cacheRead: undefined, cacheWrite: undefined };
  let stopped = false;
  const contentAtMs: number[] = [];
  for (const { event, name, atMs } of events) {
    const type = str(event.type) ?? name;
    if (type === 'error') return undefined;
    if (type === 'message_start' && isObject(event.message) && isObject(event.message.usage)) {
      usage = usageOf(event.message.usage);
    } else if (type === 'content_block_start' && isObject(event.content_block)) {
      const index = int(event.index) ?? blocks.size;
      const block = event.content_block;
      if (block.type === 'text') blocks.set(index, { type: 'text', text: str(block.text) ?? '' });
      else if (block.type === 'tool_use') blocks.set(index, { type: 'tool_use', name: str(block.name) ?? '', json: '', ...(str(block.id) && { id: str(block.id) }) });
    } else if (type === 'content_block_delta' && isObject(event.delta)) {
      const block = blocks.get(int(event.index) ?? -1);
      const delta = event.delta;
      if (block?.type === 'text' && delta.type === 'text_delta' && typeof delta.text === 'string') {
        block.text += delta.text;
        if (delta.text !== '') contentAtMs.push(atMs);
      } else if (block?.type === 'tool_use' && delta.type === 'input_json_delta' && typeof delta.partial_json === 'string') {
        block.json += delta.partial_json;
        if (delta.partial_json !== '') contentAtMs.push(atMs);
      }
    } else if (type === 'message_delta') {
      if (isObject(event.delta)) stop = str(event.delta.stop_reason) ?? stop;
      if (isObject(event.usage)) {
        usage.output = int(event.usage.output_tokens) ?? usage.output;
        usage.input = int(event.usage.input_tokens) ?? usage.input;
      }
    } else if (type === 'message_stop') {
      stopped = true;
      break;
    }
  }
  if (!stopped) return undefined;
  let text: string | undefined;
  const calls: ToolCallSpec[] = [];
  for (const [, block] of [...blocks.entries()].sort(([a], [b]) => a - b)) {
    if (block.type === 'text') text = (text ?? '') + block.text;
    else if (block.name !== '') calls.push({ name: block.name, arguments: parse(block.json || '{}') ?? {}, ...(block.id && { id: block.id }) });
  }
  return { response: responseOf(text, calls, stop, usage), contentAtMs };
}
