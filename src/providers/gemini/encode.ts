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
import { geminiCandidatesTokens, usageMetadata, type UsageMetadata } from './usage.ts';
import { promptFigures } from '../../engine/prompt-cache.ts';
import type { ThinkingReply } from '../../engine/reply-plan.ts';
import { reasoningTokens, thinkingOf, thinkingSignature } from '../../engine/thinking.ts';

// Real response ids are 20-odd URL-safe characters (e.g. `mR8pZ-abcdEFgh0123456`).
const responseId = () => alnum(23);

/** The prompt's token figure, the same for usageMetadata and countTokens. */
export function promptTokens(reply: Reply | undefined, request: Pick<GenerateRequest, 'promptTokens'>): number {
  return promptFigures(reply, request.promptTokens).total;
}

/** What `generationConfig.thinkingConfig` asks: thinking on (a budget other than 0, a level, or thoughts included), and the thoughts shown. */
function thinkingAsked(request: GenerateRequest): { enabled: boolean; include: boolean } {
  const config = request.body.generationConfig?.thinkingConfig;
  if (config === null || typeof config !== 'object') return { enabled: false, include: false };
  const { includeThoughts, thinkingBudget, thinkingLevel } = config as { includeThoughts?: unknown; thinkingBudget?: unknown; thinkingLevel?: unknown };
  // A budget of 0 turns thinking off, thoughts included or not.
  if (thinkingBudget === 0) return { enabled: false, include: false };
  const include = includeThoughts === true;
  return { enabled: include || typeof thinkingBudget === 'number' || typeof thinkingLevel === 'string', include };
}

/** The thinking (the rule's, or the mock's own when the request turns thinking on), and whether its summary is shown as thought parts. */
function thinkingFor(reply: Reply, conversation: Conversation, request: GenerateRequest): { thinking: ThinkingReply | undefined; shown: boolean } {
  const asked = thinkingAsked(request);
  const thinking = thinkingOf(reply, conversation, asked.enabled);
  return { thinking, shown: thinking !== undefined && asked.include && !thinking.redacted };
}

function usageOf(reply: Reply, request: GenerateRequest, thinking: ThinkingReply | undefined, final: boolean): UsageMetadata {
  const prompt = promptFigures(reply, request.promptTokens);
  const thoughts = reasoningTokens(reply, thinking);
  return usageMetadata(undefined, prompt.total, final ? geminiCandidatesTokens(reply) : undefined, { cached: prompt.cacheRead, thoughts: final ? thoughts : 0 });
}

function functionCallPart(call: Reply['toolCalls'][number]['call'], signature?: string): unknown {
  return { functionCall: { ...(call.id !== undefined && { id: call.id }), name: call.name, args: call.input }, ...(signature !== undefined && { thoughtSignature: signature }) };
}

/** Gemini 3 puts the thought signature on the first function call part (API-FORMATS §11). */
function signatureOf(thinking: ThinkingReply | undefined): string | undefined {
  return thinking && thinkingSignature(thinking.text.text);
}

function partsOf(reply: Reply, thinking: ThinkingReply | undefined, shown: boolean): unknown[] {
  const parts: unknown[] = [];
  if (shown) parts.push({ text: thinking!.text.text, thought: true });
  if (reply.text && (reply.text.text !== '' || reply.toolCalls.length === 0)) parts.push({ text: reply.text.text });
  reply.toolCalls.forEach(({ call }, i) => parts.push(functionCallPart(call, i === 0 ? signatureOf(thinking) : undefined)));
  return parts;
}

export function renderGenerateContent(reply: Reply, conversation: Conversation, request: GenerateRequest): unknown {
  const { thinking, shown } = thinkingFor(reply, conversation, request);
  return {
    candidates: [{ content: { parts: partsOf(reply, thinking, shown), role: 'model' }, finishReason: geminiFinishReason(reply.delivery.finish.reason), index: 0 }],
    usageMetadata: usageOf(reply, request, thinking, true),
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

function* streamElements(reply: Reply, conversation: Conversation, request: GenerateRequest): Generator<StreamItem> {
  const frame = request.sse ? (json: string) => `data: ${json}\r\n\r\n` : (json: string) => json;
  const { thinking, shown } = thinkingFor(reply, conversation, request);
  const identity = `,"modelVersion":${JSON.stringify(request.model)},"responseId":${JSON.stringify(responseId())}}`;
  // Every chunk carries the usage so far; only the last one's is final (API-FORMATS §11).
  const tail = `,"usageMetadata":${JSON.stringify(usageOf(reply, request, thinking, false))}${identity}`;
  const open = '{"candidates":[{"content":{"parts":[';
  const close = '],"role":"model"},"index":0}]';
  // Thought summaries stream first, in their own elements; they are not content chunks (pacing and faults count the answer's).
  if (shown) for (const chunk of thinking!.text.chunksJson(reply.delivery.chunking)) yield frame(`${open}{"text":${chunk},"thought":true}${close}${tail}`);
  if (reply.text && (reply.text.text !== '' || reply.toolCalls.length === 0)) {
    for (const chunk of reply.textChunksJson) {
      yield CONTENT_CHUNK;
      yield frame(`${open}{"text":${chunk}}${close}${tail}`);
    }
  }
  // A function call arrives whole, in one chunk; the writer still counts its argument pieces, so a
  // rule's fault or pacing that counts them applies before the call is sent.
  for (const [index, plan] of reply.toolCalls.entries()) {
    for (let i = 0; i < Math.max(plan.fragmentsJson.length, 1); i++) yield CONTENT_CHUNK;
    yield frame(`${open}${JSON.stringify(functionCallPart(plan.call, index === 0 ? signatureOf(thinking) : undefined))}${close}${tail}`);
  }
  const last = {
    candidates: [{ content: { parts: [{ text: '' }], role: 'model' }, finishReason: geminiFinishReason(reply.delivery.finish.reason), index: 0 }],
    usageMetadata: usageOf(reply, request, thinking, true),
  };
  yield frame(JSON.stringify(last).slice(0, -1) + identity);
}

export function renderGenerateStream(reply: Reply, conversation: Conversation, request: GenerateRequest): Iterator<StreamItem> {
  return new GeminiStream(request.sse, streamElements(reply, conversation, request));
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
