// GenerateContentResponse, whole or streamed (API-FORMATS §11 "Response", "Streaming"): one
// candidate whose `content.parts` hold the text and one `functionCall` part (args an object) per
// tool call; `finishReason`; `usageMetadata`; `modelVersion`; `responseId`.
import type { Conversation } from '../../engine/conversation.ts';
import type { Reply } from '../../engine/reply-plan.ts';
import { alnum } from '../../http/ids.ts';
import { CONTENT_CHUNK, type StreamItem } from '../../http/stream-writer.ts';
import { streamErrorJson } from './errors.ts';
import { geminiFinishReason } from './finish.ts';
import type { GenerateRequest } from './request.ts';
import { geminiCandidatesTokens, usageMetadata } from './usage.ts';

// Real response ids are 20-odd URL-safe characters (e.g. `mR8pZ-abcdEFgh0123456`).
const responseId = () => alnum(23);

/** The prompt's token figure, the same for usageMetadata and countTokens. */
export function promptTokens(reply: Reply | undefined, request: Pick<GenerateRequest, 'promptTokens'>): number {
  return reply?.delivery.usage?.input ?? request.promptTokens;
}

function functionCallPart(call: Reply['toolCalls'][number]['call']): unknown {
  return { functionCall: { ...(call.id !== undefined && { id: call.id }), name: call.name, args: call.input } };
}

function partsOf(reply: Reply): unknown[] {
  const parts: unknown[] = [];
  if (reply.text && (reply.text.text !== '' || reply.toolCalls.length === 0)) parts.push({ text: reply.text.text });
  for (const { call } of reply.toolCalls) parts.push(functionCallPart(call));
  return parts;
}

export function renderGenerateContent(reply: Reply, _conversation: Conversation, request: GenerateRequest): unknown {
  return {
    candidates: [{ content: { parts: partsOf(reply), role: 'model' }, finishReason: geminiFinishReason(reply.delivery.finish.reason), index: 0 }],
    usageMetadata: usageMetadata(undefined, promptTokens(reply, request), geminiCandidatesTokens(reply)),
    modelVersion: request.model,
    responseId: responseId(),
  };
}

/**
 * A stream of GenerateContentResponse objects, each a whole JSON object: an SSE `data:` frame
 * (`alt=sse`) or one element of the JSON array. It remembers how many it has yielded, so an
 * in-stream error knows whether the array was opened.
 */
export class GeminiStream implements Iterator<StreamItem> {
  readonly sse: boolean;
  elements = 0;
  readonly #inner: Iterator<StreamItem>;

  constructor(sse: boolean, inner: Iterator<StreamItem>) {
    this.sse = sse;
    this.#inner = inner;
  }

  next(): IteratorResult<StreamItem> {
    const item = this.#inner.next();
    if (!item.done && item.value !== CONTENT_CHUNK) this.elements++;
    return item;
  }

  return(): IteratorResult<StreamItem> {
    this.#inner.return?.();
    return { done: true, value: undefined };
  }
}

function* streamElements(reply: Reply, request: GenerateRequest): Generator<StreamItem> {
  const frame = request.sse ? (json: string) => `data: ${json}\r\n\r\n` : (json: string) => json;
  const prompt = promptTokens(reply, request);
  const identity = `,"modelVersion":${JSON.stringify(request.model)},"responseId":${JSON.stringify(responseId())}}`;
  // Every chunk carries the usage so far; only the last one's is final (API-FORMATS §11).
  const tail = `,"usageMetadata":${JSON.stringify(usageMetadata(undefined, prompt, undefined))}${identity}`;
  const open = '{"candidates":[{"content":{"parts":[';
  const close = '],"role":"model"},"index":0}]';
  if (reply.text && (reply.text.text !== '' || reply.toolCalls.length === 0)) {
    for (const chunk of reply.textChunksJson) {
      yield CONTENT_CHUNK;
      yield frame(`${open}{"text":${chunk}}${close}${tail}`);
    }
  }
  // A function call arrives whole, in one chunk; the writer still counts its argument pieces, so a
  // rule's fault or pacing that counts them applies before the call is sent.
  for (const plan of reply.toolCalls) {
    for (let i = 0; i < Math.max(plan.fragmentsJson.length, 1); i++) yield CONTENT_CHUNK;
    yield frame(`${open}${JSON.stringify(functionCallPart(plan.call))}${close}${tail}`);
  }
  const last = {
    candidates: [{ content: { parts: [{ text: '' }], role: 'model' }, finishReason: geminiFinishReason(reply.delivery.finish.reason), index: 0 }],
    usageMetadata: usageMetadata(undefined, prompt, geminiCandidatesTokens(reply)),
  };
  yield frame(JSON.stringify(last).slice(0, -1) + identity);
}

export function renderGenerateStream(reply: Reply, _conversation: Conversation, request: GenerateRequest): Iterator<StreamItem> {
  return new GeminiStream(request.sse, streamElements(reply, request));
}

/**
 * A rule's mid-stream fault: a google.rpc.Status element, which @google/genai raises as ApiError
 * and the AI SDK reports as an error part. In a JSON array it is the next element (the array is
 * opened first if nothing was sent yet) and closes the array.
 */
export function renderGeminiStreamError(message: string, frames: Iterator<StreamItem>): string {
  const json = streamErrorJson(message);
  if (!(frames instanceof GeminiStream)) return `data: ${json}\r\n\r\n`;
  if (frames.sse) return `data: ${json}\r\n\r\n`;
  return `${frames.elements === 0 ? '[' : ',\r\n'}${json}]`;
}
