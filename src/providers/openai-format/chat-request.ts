import { schemaValidator } from '../../http/schema-validator.ts';
import { withoutClientReminders, type Conversation, type ConversationMessage, type Role, type ToolResult } from '../../engine/conversation.ts';
import { invalidRequest } from '../../http/errors.ts';
import type { RequestInfo } from '../provider.ts';
import { openAiChatStructure } from './structured.ts';
import { openAiValidationError } from './validation.ts';

export interface ChatContentPart {
  type: string;
  text?: string;
}

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function';
  content?: string | ChatContentPart[] | null;
  name?: string;
  tool_call_id?: string;
  tool_calls?: { id?: string; function?: { name?: string } }[] | null;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  n?: number | null;
  tools?: { type?: string; function?: { name?: string } }[] | null;
  functions?: { name?: string }[] | null;
}

const ROLES = ['system', 'user', 'assistant', 'tool', 'function', 'developer'];

// Fields the real endpoint accepts; strict mode rejects anything else, as the real API does.
const KNOWN_FIELDS = [
  'model', 'messages', 'stream', 'stream_options', 'n', 'max_tokens', 'max_completion_tokens', 'temperature',
  'top_p', 'stop', 'tools', 'tool_choice', 'parallel_tool_calls', 'response_format', 'logprobs', 'top_logprobs',
  'seed', 'user', 'service_tier', 'reasoning_effort', 'frequency_penalty', 'presence_penalty', 'logit_bias',
  'functions', 'function_call', 'metadata', 'store', 'modalities', 'audio', 'prediction', 'web_search_options',
  'verbosity', 'prompt_cache_key', 'prompt_cache_retention', 'safety_identifier',
];

function chatRequestSchema(strict: boolean) {
  return {
    type: 'object',
    required: ['model', 'messages'],
    additionalProperties: strict ? false : true,
    properties: {
      ...Object.fromEntries(KNOWN_FIELDS.map((f) => [f, {}])),
      model: { type: 'string' },
      messages: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['role'],
          properties: {
            role: { enum: ROLES },
            content: {
              type: ['string', 'array', 'null'],
              items: { type: 'object', required: ['type'], properties: { type: { type: 'string' }, text: { type: 'string' } } },
            },
            name: { type: 'string' },
            tool_call_id: { type: 'string' },
            tool_calls: { type: ['array', 'null'] },
          },
        },
      },
      stream: { type: ['boolean', 'null'] },
      stream_options: { type: ['object', 'null'], properties: { include_usage: { type: ['boolean', 'null'] } } },
      n: { type: ['integer', 'null'], minimum: 1, maximum: 128 },
      max_tokens: { type: ['integer', 'null'], minimum: 1 },
      max_completion_tokens: { type: ['integer', 'null'], minimum: 1 },
      temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
      top_p: { type: ['number', 'null'], minimum: 0, maximum: 1 },
      stop: { type: ['string', 'array', 'null'], maxItems: 4, items: { type: 'string' } },
      tools: {
        type: ['array', 'null'],
        items: { type: 'object', properties: { function: { type: 'object', properties: { name: { type: 'string' } } } } },
      },
    },
  };
}

// Compiled on first use, or precompiled in dist/ (src/http/schema-validator.ts).
const OPTIONS = { allErrors: false, strict: true, allowUnionTypes: true };
const validateLenient = schemaValidator<ChatRequest>('openai-chat-lenient', OPTIONS, chatRequestSchema(false));
const validateStrict = schemaValidator<ChatRequest>('openai-chat-strict', OPTIONS, chatRequestSchema(true));

function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!content) return '';
  return content
    .filter((part) => part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text)
    .join('\n');
}

const ROLE_OF: Record<ChatMessage['role'], Role> = {
  system: 'system',
  developer: 'system',
  user: 'user',
  assistant: 'assistant',
  tool: 'tool',
  function: 'tool',
};

/** The last message as a tool result, named by the assistant tool call it answers. */
function lastToolResult(messages: ChatMessage[]): ToolResult | undefined {
  const last = messages[messages.length - 1];
  if (!last || (last.role !== 'tool' && last.role !== 'function')) return undefined;
  if (last.role === 'function') return { name: last.name, content: textOf(last.content) };
  let name: string | undefined;
  for (const message of messages) {
    for (const call of message.tool_calls ?? []) if (call.id === last.tool_call_id) name = call.function?.name;
  }
  return { name, content: textOf(last.content), ...(last.tool_call_id !== undefined && { callId: last.tool_call_id }) };
}

function offeredTools(request: ChatRequest): string[] {
  // A loop, not spread, map and filter: most requests offer no tools, and those four arrays were
  // 1% of a chat request's allocations.
  const names: string[] = [];
  if (request.tools) for (const tool of request.tools) if (typeof tool.function?.name === 'string') names.push(tool.function.name);
  if (request.functions) for (const fn of request.functions) if (typeof fn.name === 'string') names.push(fn.name);
  return names;
}

/** `provider` and `endpoint` name who asked (OpenAI, Azure) and by which route, for matching and the journal. */
export function parseChatRequest(body: unknown, info: RequestInfo, endpoint: string, provider: string): { request: ChatRequest; conversation: Conversation } {
  const validate = info.strict ? validateStrict : validateLenient;
  if (!validate(body)) throw openAiValidationError(validate.errors![0]!, body);
  const request = body;
  if (info.strict && request.stream_options != null && request.stream !== true) {
    throw invalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
  }
  const messages: ConversationMessage[] = request.messages.map((m) => {
    const message: ConversationMessage = { role: ROLE_OF[m.role], text: textOf(m.content) };
    if (m.name) message.name = m.name;
    return message;
  });
  let prompt = '';
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === 'user') {
      prompt = withoutClientReminders(messages[i]!.text);
      break;
    }
  }
  return {
    request,
    conversation: {
      provider,
      endpoint,
      model: request.model,
      system: messages.filter((m) => m.role === 'system').map((m) => m.text).join('\n'),
      messages,
      prompt,
      tools: offeredTools(request),
      toolResult: lastToolResult(request.messages),
      stream: request.stream === true,
      header: info.header,
      ...openAiChatStructure(request, info.strict),
    },
  };
}
