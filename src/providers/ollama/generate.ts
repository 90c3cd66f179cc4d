// POST /api/generate (API-FORMATS §15): a prompt (and an optional system) in; `response` pieces out,
// streamed as NDJSON by default, then the `done` line. A raw completion has no tool calls: a rule
// that answers with calls gives its text, if any.
import type { Conversation, ConversationMessage } from '../../engine/conversation.ts';
import type { Reply } from '../../engine/reply-plan.ts';
import { CONTENT_CHUNK, type StreamItem } from '../../http/stream-writer.ts';
import type { Parsed, RouteRequest } from '../provider.ts';
import { ollamaStructure } from './structured.ts';
import { bodyObject, checkFields, createdAt, doneReason, modelNotFound, ollamaPromptTokens, ollamaStats, statsJson } from './wire.ts';
import { invalidRequest } from '../../http/errors.ts';

export const GENERATE = '/api/generate';

export interface GenerateRequest {
  stream: boolean;
  promptTokens: number;
}

export function parseGenerate(request: RouteRequest): Parsed<GenerateRequest> {
  const body = bodyObject(request.body, 'GenerateRequest');
  checkFields(body, 'GenerateRequest', {
    model: 'string', prompt: 'string', suffix: 'string', system: 'string', template: 'string', context: 'array', stream: 'bool',
    raw: 'bool', images: 'array', options: 'object', think: ['bool', 'string'], keep_alive: ['string', 'number'], format: ['string', 'object'],
  });
  const model = (body.model as string | undefined) ?? '';
  // The real handler looks the name up before anything else: an empty one is a model it cannot find.
  if (model === '') throw modelNotFound(model);
  if (body.raw === true && (body.template || body.system || (Array.isArray(body.context) && body.context.length > 0))) {
    throw invalidRequest('raw mode does not support template, system, or context');
  }
  const prompt = (body.prompt as string | undefined) ?? '';
  const system = (body.system as string | undefined) ?? '';
  const messages: ConversationMessage[] = [];
  if (system) messages.push({ role: 'system', text: system });
  messages.push({ role: 'user', text: prompt });
  const stream = body.stream !== false;
  const conversation: Conversation = {
    provider: 'ollama',
    endpoint: GENERATE,
    model,
    system,
    messages,
    prompt,
    tools: [],
    toolResult: undefined,
    stream,
    header: request.header,
    ...ollamaStructure(body, request.strict),
  };
  return { request: { stream, promptTokens: ollamaPromptTokens(messages, undefined) }, conversation };
}

export function renderGenerate(reply: Reply | undefined, conversation: Conversation, request: GenerateRequest): unknown {
  const answer = reply!;
  return {
    model: conversation.model,
    created_at: createdAt(),
    response: answer.text?.text ?? '',
    done: true,
    done_reason: doneReason(answer),
    ...ollamaStats(answer, request.promptTokens),
  };
}

export function* renderGenerateStream(reply: Reply, conversation: Conversation, request: GenerateRequest): Generator<StreamItem> {
  const head = `{"model":${JSON.stringify(conversation.model)},"created_at":"`;
  for (const chunk of reply.textChunksJson) {
    yield CONTENT_CHUNK;
    yield `${head}${createdAt()}","response":${chunk},"done":false}\n`;
  }
  yield `${head}${createdAt()}","response":"","done":true,"done_reason":"${doneReason(reply)}",${statsJson(ollamaStats(reply, request.promptTokens))}}\n`;
}

/** An empty prompt only loads the model (`done_reason: load`), or with `keep_alive: 0` unloads it; no rule is consulted. */
export function loadGenerateAnswer(body: unknown): unknown {
  const { model, keep_alive } = body as { model: string; keep_alive?: unknown };
  return { model, created_at: createdAt(), response: '', done: true, done_reason: keep_alive === 0 || keep_alive === '0' ? 'unload' : 'load' };
}
