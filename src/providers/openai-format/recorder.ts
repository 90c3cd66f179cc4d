// Decodes OpenAI-format answers (OpenAI, Azure OpenAI) into rule responses for `--record` (src/proxy/record.ts): Chat
// Completions (https://platform.openai.com/docs/api-reference/chat/object and the chunk object),
// Responses (https://platform.openai.com/docs/api-reference/responses/object and its streaming
// events) and legacy completions (https://platform.openai.com/docs/api-reference/completions/object),
// whole bodies and streams alike.
import type { OpenAiFinishReason, ResponseObject, ToolCallSpec } from '../../config/schema.ts';
import type { HistoryItem } from '../../state/response-history.ts';
import type { ProviderRecorder, Recording, UpstreamAnswer, UpstreamFrame } from '../provider.ts';
import type { CompletionsRequest } from './completions.ts';
import type { ResponsesRequest } from './responses-request.ts';
import { int, isObject, parseJsonObject as parse, str, type Json } from '../recorded-json.ts';

const FINISH_REASONS: readonly string[] = ['stop', 'length', 'tool_calls', 'content_filter'];

/** A response with text and/or tool calls, the finish reason and the real usage figures. */
function responseOf(text: string | undefined, calls: ToolCallSpec[], finish: string | undefined, usage: { input?: number; output?: number } | undefined, names: 'chat' | 'neutral'): ResponseObject {
  const response: ResponseObject = {};
  if (text !== undefined && (text !== '' || calls.length === 0)) response.text = text;
  if (calls.length > 0) response.tool_calls = calls;
  if (finish !== undefined && FINISH_REASONS.includes(finish)) response.finish_reason = finish as OpenAiFinishReason;
  if (usage && (usage.input !== undefined || usage.output !== undefined)) {
    response.usage =
      names === 'chat'
        ? { ...(usage.input !== undefined && { prompt_tokens: usage.input }), ...(usage.output !== undefined && { completion_tokens: usage.output }) }
        : { ...(usage.input !== undefined && { input_tokens: usage.input }), ...(usage.output !== undefined && { output_tokens: usage.output }) };
  }
  return response;
}

/** Tool call arguments as the upstream sent them, when they hold a JSON object (else an empty object: the rule must load). */
function argumentsOf(text: string): string {
  const parsed = parse(text);
  return parsed === undefined ? '{}' : text;
}

function chatJson(body: Json): Recording | undefined {
  const choice = Array.isArray(body.choices) ? (body.choices[0] as unknown) : undefined;
  if (!isObject(choice) || !isObject(choice.message)) return undefined;
  const message = choice.message;
  const calls: ToolCallSpec[] = [];
  for (const call of Array.isArray(message.tool_calls) ? message.tool_calls : []) {
    if (!isObject(call) || !isObject(call.function) || !str(call.function.name)) continue;
    calls.push({ name: str(call.function.name)!, arguments: argumentsOf(str(call.function.arguments) ?? '{}'), ...(str(call.id) && { id: str(call.id) }) });
  }
  const usage = isObject(body.usage) ? { input: int(body.usage.prompt_tokens), output: int(body.usage.completion_tokens) } : undefined;
  return { response: responseOf(str(message.content) ?? (calls.length === 0 ? '' : undefined), calls, str(choice.finish_reason), usage, 'chat') };
}

/** The chunk stream, reassembled: content deltas, tool calls by index (id and name in the first fragment), the finish, the usage chunk; whole only with `[DONE]`. */
function chatStream(frames: readonly UpstreamFrame[]): Recording | undefined {
  let text: string | undefined;
  const calls = new Map<number, { id?: string; name: string; arguments: string }>();
  let finish: string | undefined;
  let usage: { input?: number; output?: number } | undefined;
  let done = false;
  const contentAtMs: number[] = [];
  for (const frame of frames) {
    if (frame.data === '[DONE]') {
      done = true;
      break;
    }
    const chunk = parse(frame.data);
    if (!chunk) continue;
    if (isObject(chunk.error)) return undefined;
    if (isObject(chunk.usage)) usage = { input: int(chunk.usage.prompt_tokens), output: int(chunk.usage.completion_tokens) };
    const choice = Array.isArray(chunk.choices) ? (chunk.choices.find((c) => isObject(c) && (c.index ?? 0) === 0) as unknown) : undefined;
    if (!isObject(choice)) continue;
    finish = str(choice.finish_reason) ?? finish;
    const delta = isObject(choice.delta) ? choice.delta : {};
    const content = str(delta.content);
    if (content !== undefined) {
      text = (text ?? '') + content;
      if (content !== '') contentAtMs.push(frame.atMs);
    }
    for (const piece of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
      if (!isObject(piece)) continue;
      const index = int(piece.index) ?? 0;
      const fn = isObject(piece.function) ? piece.function : {};
      let call = calls.get(index);
      if (!call) calls.set(index, (call = { name: '', arguments: '' }));
      if (str(piece.id)) call.id = str(piece.id);
      if (str(fn.name)) call.name += str(fn.name);
      const args = str(fn.arguments);
      if (args) {
        call.arguments += args;
        contentAtMs.push(frame.atMs);
      }
    }
  }
  if (!done || finish === undefined) return undefined;
  const toolCalls = [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .filter(([, c]) => c.name !== '')
    .map(([, c]) => ({ name: c.name, arguments: argumentsOf(c.arguments || '{}'), ...(c.id && { id: c.id }) }));
  return { response: responseOf(text ?? (toolCalls.length === 0 ? '' : undefined), toolCalls, finish, usage, 'chat'), contentAtMs };
}

/**
 * A legacy completion is recordable when it answered one prompt with one choice: a rule answers one
 * prompt with one text, so several prompts or `n` > 1 (or `best_of`) are proxied, not recorded.
 * With `echo`, the upstream's text starts with the prompt, which the replay echoes itself.
 */
function completionShape(request: unknown): { echoed: string } | undefined {
  const completions = request as Partial<CompletionsRequest> | undefined;
  const body = completions?.body;
  if (!body || !Array.isArray(completions.prompts) || completions.prompts.length !== 1) return undefined;
  if ((body.n ?? 1) !== 1 || ((body as { best_of?: number | null }).best_of ?? 1) > 1) return undefined;
  return { echoed: body.echo === true ? completions.prompts[0]!.text : '' };
}

const withoutEcho = (text: string, echoed: string) => (echoed !== '' && text.startsWith(echoed) ? text.slice(echoed.length) : text);

function completionJson(body: Json, echoed: string): Recording | undefined {
  const choices = Array.isArray(body.choices) ? body.choices : [];
  const choice = choices[0] as unknown;
  if (choices.length !== 1 || !isObject(choice) || typeof choice.text !== 'string') return undefined;
  const usage = isObject(body.usage) ? { input: int(body.usage.prompt_tokens), output: int(body.usage.completion_tokens) } : undefined;
  return { response: responseOf(withoutEcho(choice.text, echoed), [], str(choice.finish_reason), usage, 'chat') };
}

/** The completion chunk stream: text pieces of choice 0, its finish_reason, the usage chunk; whole only with `[DONE]`. */
function completionStream(frames: readonly UpstreamFrame[], echoed: string): Recording | undefined {
  let text = '';
  let finish: string | undefined;
  let usage: { input?: number; output?: number } | undefined;
  let done = false;
  const contentAtMs: number[] = [];
  for (const frame of frames) {
    if (frame.data === '[DONE]') {
      done = true;
      break;
    }
    const chunk = parse(frame.data);
    if (!chunk) continue;
    if (isObject(chunk.error)) return undefined;
    if (isObject(chunk.usage)) usage = { input: int(chunk.usage.prompt_tokens), output: int(chunk.usage.completion_tokens) };
    for (const choice of Array.isArray(chunk.choices) ? chunk.choices : []) {
      if (!isObject(choice)) continue;
      if ((int(choice.index) ?? 0) !== 0) return undefined;
      finish = str(choice.finish_reason) ?? finish;
      const piece = str(choice.text);
      if (piece === undefined || piece === '') continue;
      // The echoed prompt comes first, before any of the model's text: not content, not timed.
      if (echoed !== '' && text === '' && piece === echoed) {
        echoed = '';
        continue;
      }
      text += piece;
      contentAtMs.push(frame.atMs);
    }
  }
  if (!done || finish === undefined) return undefined;
  return { response: responseOf(withoutEcho(text, echoed), [], finish, usage, 'chat'), contentAtMs };
}

/** A Responses API response object: message text and function calls (call_id is what the client sends back), status, usage. */
function responsesObject(body: Json): ResponseObject | undefined {
  const status = str(body.status);
  if (status !== 'completed' && status !== 'incomplete') return undefined;
  let text: string | undefined;
  const calls: ToolCallSpec[] = [];
  for (const item of Array.isArray(body.output) ? body.output : []) {
    if (!isObject(item)) continue;
    if (item.type === 'message') {
      for (const part of Array.isArray(item.content) ? item.content : []) {
        if (isObject(part) && part.type === 'output_text' && typeof part.text === 'string') text = (text ?? '') + part.text;
      }
    } else if (item.type === 'function_call' && str(item.name)) {
      calls.push({ name: str(item.name)!, arguments: argumentsOf(str(item.arguments) ?? '{}'), ...(str(item.call_id) && { id: str(item.call_id) }) });
    }
  }
  const reason = isObject(body.incomplete_details) ? str(body.incomplete_details.reason) : undefined;
  const finish = status === 'incomplete' ? (reason === 'content_filter' ? 'content_filter' : 'length') : calls.length > 0 ? 'tool_calls' : 'stop';
  const usage = isObject(body.usage) ? { input: int(body.usage.input_tokens), output: int(body.usage.output_tokens) } : undefined;
  return responseOf(text ?? (calls.length === 0 ? '' : undefined), calls, finish, usage, 'neutral');
}

/** The Responses event stream: the final `response.completed` (or `.incomplete`) event carries the whole response. */
function responsesStream(frames: readonly UpstreamFrame[]): Recording | undefined {
  const contentAtMs: number[] = [];
  for (const frame of frames) {
    const event = parse(frame.data);
    if (!event) continue;
    const type = str(event.type) ?? frame.event;
    if (type === 'response.output_text.delta' || type === 'response.function_call_arguments.delta') {
      if (str(event.delta)) contentAtMs.push(frame.atMs);
    } else if ((type === 'response.completed' || type === 'response.incomplete') && isObject(event.response)) {
      const response = responsesObject(event.response);
      return response && { response, contentAtMs };
    } else if (type === 'response.failed' || type === 'error') return undefined;
  }
  return undefined;
}

/** The Responses API response object of an answer: the body, or the stream's final event's `response`. */
function responsesBody(answer: UpstreamAnswer): Json | undefined {
  if (answer.frames === undefined) return parse(answer.body);
  for (const frame of answer.frames) {
    const event = parse(frame.data);
    const type = event && (str(event.type) ?? frame.event);
    if (event && (type === 'response.completed' || type === 'response.incomplete') && isObject(event.response)) return event.response;
  }
  return undefined;
}

/**
 * A proxied Responses answer kept as if this mock had given it (unless `store: false`): its
 * conversation under the upstream's response id, its output items under theirs, so a later
 * `previous_response_id` or `item_reference` naming them is understood here.
 */
function rememberResponse(answer: UpstreamAnswer, request: ResponsesRequest): void {
  if (request.body.store === false) return;
  const body = responsesBody(answer);
  const id = body && str(body.id);
  if (!body || !id) return;
  const outputs: [string, HistoryItem][] = [];
  for (const item of Array.isArray(body.output) ? body.output : []) {
    if (!isObject(item) || !str(item.id)) continue;
    if (item.type === 'message') {
      const text = (Array.isArray(item.content) ? item.content : [])
        .filter((part): part is Json => isObject(part) && part.type === 'output_text' && typeof part.text === 'string')
        .map((part) => part.text as string)
        .join('');
      outputs.push([str(item.id)!, { type: 'message', role: 'assistant', text }]);
    } else if (item.type === 'function_call' && str(item.call_id) && str(item.name)) {
      outputs.push([str(item.id)!, { type: 'function_call', call_id: str(item.call_id)!, name: str(item.name)!, arguments: str(item.arguments) ?? '{}' }]);
    }
  }
  void request.store.put(id, [...request.history, ...outputs.map(([, item]) => item)], outputs).catch(() => {});
}

export const openAiRecorder: ProviderRecorder = {
  remember(answer: UpstreamAnswer, request: unknown): void {
    if (!answer.endpoint.endsWith('/responses') || answer.status >= 300) return;
    const responses = request as Partial<ResponsesRequest> | undefined;
    if (responses?.body && Array.isArray(responses.history) && responses.store) rememberResponse(answer, responses as ResponsesRequest);
  },
  /** `request`: the adapter's parsed request (src/proxy/upstream.ts passes it), for a legacy completion's prompts, `n` and `echo`. */
  decode(answer: UpstreamAnswer, request?: unknown): Recording | undefined {
    const streamed = answer.frames !== undefined;
    if (answer.endpoint.endsWith('/chat/completions')) {
      if (streamed) return chatStream(answer.frames!);
      const body = parse(answer.body);
      return body && chatJson(body);
    }
    if (answer.endpoint.endsWith('/completions')) {
      const shape = completionShape(request);
      if (!shape) return undefined;
      if (streamed) return completionStream(answer.frames!, shape.echoed);
      const body = parse(answer.body);
      return body && completionJson(body, shape.echoed);
    }
    if (answer.endpoint.endsWith('/responses')) {
      if (streamed) return responsesStream(answer.frames!);
      const body = parse(answer.body);
      const response = body && responsesObject(body);
      return response && { response };
    }
    return undefined;
  },
};
