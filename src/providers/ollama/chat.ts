// POST /api/chat (API-FORMATS §15): messages, tools and tool results in; the answer as one object
// with `stream: false`, else (by default) as NDJSON lines: the text pieces, each tool call whole in
// its own line, then the `done` line with done_reason and the stats.
import { withoutClientReminders, type Conversation, type ConversationMessage, type Role } from '../../engine/conversation.ts';
import type { Reply } from '../../engine/reply-plan.ts';
import { invalidRequest } from '../../http/errors.ts';
import { alnum } from '../../http/ids.ts';
import { CONTENT_CHUNK, type StreamItem } from '../../http/stream-writer.ts';
import type { Parsed, RouteRequest } from '../provider.ts';
import { ollamaStructure } from './structured.ts';
import { bodyObject, checkFields, createdAt, doneReason, modelRequired, ollamaPromptTokens, ollamaStats, statsJson, wrongType } from './wire.ts';

export const CHAT = '/api/chat';

interface OllamaToolCall {
  id?: string;
  function?: { name?: string };
}

interface OllamaMessage {
  role: string;
  content?: string;
  tool_calls?: OllamaToolCall[];
  tool_name?: string;
  tool_call_id?: string;
}

export interface ChatRequest {
  model: string;
  messages: OllamaMessage[];
  stream: boolean;
  promptTokens: number;
}

// Any other role reaches the template as written; the rules see it as a user turn.
const ROLE_OF = new Map<string, Role>([['system', 'system'], ['user', 'user'], ['assistant', 'assistant'], ['tool', 'tool']]);

/** Go's decoding of one message: every field optional, each of its type. */
function checkMessage(message: unknown): OllamaMessage {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) throw wrongType('ChatRequest', 'messages', message, 'api.Message');
  const fields = message as Record<string, unknown>;
  for (const [field, kind] of [['role', 'string'], ['content', 'string'], ['tool_name', 'string'], ['thinking', 'string'], ['tool_call_id', 'string']] as const) {
    const value = fields[field];
    if (value !== undefined && value !== null && typeof value !== kind) throw wrongType('ChatRequest', `messages.${field}`, value, kind);
  }
  for (const field of ['images', 'tool_calls']) {
    const value = fields[field];
    if (value !== undefined && value !== null && !Array.isArray(value)) throw wrongType('ChatRequest', `messages.${field}`, value, '[]');
  }
  return fields as unknown as OllamaMessage;
}

/**
 * The tool a trailing tool message answers: its `tool_name`, else the id it names among the last
 * assistant message's calls, else the call in the same position (LangChain sends neither).
 */
function toolNameOf(messages: readonly OllamaMessage[]): string | undefined {
  const last = messages.at(-1);
  if (!last || last.role !== 'tool') return undefined;
  if (last.tool_name) return last.tool_name;
  let position = 0;
  let i = messages.length - 2;
  for (; i >= 0 && messages[i]!.role === 'tool'; i--) position++;
  const calls = i >= 0 ? (messages[i]!.tool_calls ?? []) : [];
  const byId = last.tool_call_id === undefined ? undefined : calls.find((call) => call?.id === last.tool_call_id);
  return (byId ?? calls[position])?.function?.name;
}

export function parseChat(request: RouteRequest): Parsed<ChatRequest> {
  const body = bodyObject(request.body, 'ChatRequest');
  checkFields(body, 'ChatRequest', { model: 'string', messages: 'array', stream: 'bool', tools: 'array', options: 'object', think: ['bool', 'string'], keep_alive: ['string', 'number'], format: ['string', 'object'], logprobs: 'bool', top_logprobs: 'number' });
  const top = body.top_logprobs;
  if (typeof top === 'number' && (top < 0 || top > 20)) throw invalidRequest('top_logprobs must be between 0 and 20');
  const model = (body.model as string | undefined) ?? '';
  if (model === '') throw modelRequired();
  const raw = (body.messages as unknown[] | undefined | null) ?? [];
  const messages = raw.map(checkMessage);
  const tools = (body.tools as { function?: { name?: unknown } }[] | undefined | null) ?? [];
  const conversationMessages: ConversationMessage[] = messages.map((m) => ({ role: ROLE_OF.get(m.role) ?? 'user', text: m.content ?? '' }));
  let prompt = '';
  for (let i = conversationMessages.length - 1; i >= 0; i--) {
    if (conversationMessages[i]!.role === 'user') {
      prompt = withoutClientReminders(conversationMessages[i]!.text);
      break;
    }
  }
  const last = messages.at(-1);
  const stream = body.stream !== false;
  const conversation: Conversation = {
    provider: 'ollama',
    endpoint: CHAT,
    model,
    system: conversationMessages.filter((m) => m.role === 'system').map((m) => m.text).join('\n'),
    messages: conversationMessages,
    prompt,
    tools: tools.map((t) => t?.function?.name).filter((name): name is string => typeof name === 'string'),
    toolResult: last?.role === 'tool' ? { name: toolNameOf(messages), content: last.content ?? '', ...(last.tool_call_id !== undefined && { callId: last.tool_call_id }) } : undefined,
    stream,
    header: request.header,
    ...ollamaStructure(body, request.strict),
  };
  const promptTokens = ollamaPromptTokens(conversationMessages, tools.length > 0 ? JSON.stringify(tools) : undefined);
  return { request: { model, messages, stream, promptTokens }, conversation };
}

/** `call_` and 8 lowercase letters or digits, the ids Ollama gives tool calls, unless the rule fixes one. */
function toolCallId(): string {
  return `call_${alnum(8).toLowerCase()}`;
}

/** One call as Ollama writes it in a stream line: `arguments` an object (the rule's JSON text spliced as is). */
function toolCallJson(reply: Reply, index: number): string {
  const { call } = reply.toolCalls[index]!;
  return `{"id":${JSON.stringify(call.id ?? toolCallId())},"function":{"index":${index},"name":${JSON.stringify(call.name)},"arguments":${call.argumentsJson}}}`;
}

/** The one object `stream: false` gets: the whole text and every call, with the stats. */
export function renderChat(reply: Reply | undefined, conversation: Conversation, request: ChatRequest): unknown {
  const answer = reply!;
  const message: Record<string, unknown> = { role: 'assistant', content: answer.text?.text ?? '' };
  if (answer.toolCalls.length > 0) {
    message.tool_calls = answer.toolCalls.map(({ call }, index) => ({ id: call.id ?? toolCallId(), function: { index, name: call.name, arguments: call.input } }));
  }
  return {
    model: conversation.model,
    created_at: createdAt(),
    message,
    done_reason: doneReason(answer),
    done: true,
    ...ollamaStats(answer, request.promptTokens),
  };
}

/** NDJSON lines: a line per text piece, a line per tool call (whole), then the `done` line. */
export function* renderChatStream(reply: Reply, conversation: Conversation, request: ChatRequest): Generator<StreamItem> {
  const head = `{"model":${JSON.stringify(conversation.model)},"created_at":"`;
  for (const chunk of reply.textChunksJson) {
    yield CONTENT_CHUNK;
    yield `${head}${createdAt()}","message":{"role":"assistant","content":${chunk}},"done":false}\n`;
  }
  for (const [index, plan] of reply.toolCalls.entries()) {
    // The call goes out whole, as Ollama sends it; its argument pieces still count as content
    // chunks, so latency and faults counted in chunks behave as on the other providers.
    for (let i = 0; i < plan.fragmentsJson.length; i++) yield CONTENT_CHUNK;
    yield `${head}${createdAt()}","message":{"role":"assistant","content":"","tool_calls":[${toolCallJson(reply, index)}]},"done":false}\n`;
  }
  yield `${head}${createdAt()}","message":{"role":"assistant","content":""},"done_reason":"${doneReason(reply)}","done":true,${statsJson(ollamaStats(reply, request.promptTokens))}}\n`;
}

/** A request with no messages only loads the model (`done_reason: load`), or with `keep_alive: 0` unloads it; no rule is consulted. */
export function loadAnswer(body: unknown): unknown {
  const { model, keep_alive } = body as { model: string; keep_alive?: unknown };
  return { model, created_at: createdAt(), message: { role: 'assistant', content: '' }, done_reason: keep_alive === 0 || keep_alive === '0' ? 'unload' : 'load', done: true };
}
