// Decodes Anthropic Messages answers into rule responses for `--record` (src/proxy/record.ts): the
// message object (https://docs.anthropic.com/en/api/messages) and its event stream
// (https://docs.anthropic.com/en/docs/build-with-claude/streaming), which is whole only once
// `message_stop` has come.
import type { AnthropicStopReason, ResponseObject, ToolCallSpec } from '../../config/schema.ts';
import type { ProviderRecorder, Recording, UpstreamAnswer, UpstreamFrame } from '../provider.ts';
import { int, isObject, parseJsonObject as parse, str, type Json } from '../recorded-json.ts';

const STOP_REASONS: readonly string[] = ['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'refusal', 'pause_turn'];

interface Decoded {
  text: string | undefined;
  calls: ToolCallSpec[];
  stop: string | undefined;
  input: number | undefined;
  output: number | undefined;
}

function responseOf({ text, calls, stop, input, output }: Decoded): ResponseObject {
  const response: ResponseObject = {};
  if (text !== undefined || calls.length === 0) response.text = text ?? '';
  if (calls.length > 0) response.tool_calls = calls;
  if (stop !== undefined && STOP_REASONS.includes(stop)) response.stop_reason = stop as AnthropicStopReason;
  if (input !== undefined || output !== undefined) response.usage = { ...(input !== undefined && { input_tokens: input }), ...(output !== undefined && { output_tokens: output }) };
  return response;
}

function messageJson(body: Json): Recording | undefined {
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
  const usage = isObject(body.usage) ? body.usage : {};
  return { response: responseOf({ text, calls, stop: str(body.stop_reason), input: int(usage.input_tokens), output: int(usage.output_tokens) }) };
}

/** The event ladder reassembled: blocks by index (text deltas, tool_use with its input as partial JSON), message_delta's stop reason and usage. */
function messageStream(frames: readonly UpstreamFrame[]): Recording | undefined {
  const blocks = new Map<number, { type: 'text'; text: string } | { type: 'tool_use'; id?: string; name: string; json: string }>();
  let stop: string | undefined;
  let input: number | undefined;
  let output: number | undefined;
  let stopped = false;
  const contentAtMs: number[] = [];
  for (const frame of frames) {
    const event = parse(frame.data);
    if (!event) continue;
    const type = str(event.type) ?? frame.event;
    if (type === 'error') return undefined;
    if (type === 'message_start' && isObject(event.message) && isObject(event.message.usage)) {
      input = int(event.message.usage.input_tokens);
      output = int(event.message.usage.output_tokens);
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
        if (delta.text !== '') contentAtMs.push(frame.atMs);
      } else if (block?.type === 'tool_use' && delta.type === 'input_json_delta' && typeof delta.partial_json === 'string') {
        block.json += delta.partial_json;
        if (delta.partial_json !== '') contentAtMs.push(frame.atMs);
      }
    } else if (type === 'message_delta') {
      if (isObject(event.delta)) stop = str(event.delta.stop_reason) ?? stop;
      if (isObject(event.usage)) {
        output = int(event.usage.output_tokens) ?? output;
        input = int(event.usage.input_tokens) ?? input;
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
  return { response: responseOf({ text, calls, stop, input, output }), contentAtMs };
}

export const anthropicRecorder: ProviderRecorder = {
  decode(answer: UpstreamAnswer): Recording | undefined {
    if (!answer.endpoint.endsWith('/messages')) return undefined;
    if (answer.frames !== undefined) return messageStream(answer.frames);
    const body = parse(answer.body);
    return body && messageJson(body);
  },
};
