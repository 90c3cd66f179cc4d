import type { ErrorObject } from 'ajv';
import { schemaValidator } from '../../http/schema-validator.ts';
import { withoutClientReminders, type Conversation, type ConversationMessage, type ToolResult } from '../../engine/conversation.ts';
import { invalidRequest, type ApiError } from '../../http/errors.ts';
import type { RequestInfo } from '../provider.ts';
import { anthropicStructure } from '../structured-fields.ts';
import { checkThinking } from './thinking.ts';

export interface ContentBlock {
  type: string;
  text?: string;
  content?: string | ContentBlock[];
  /** tool_use blocks (assistant). */
  id?: string;
  name?: string;
  /** tool_result blocks (user). */
  tool_use_id?: string;
}

export interface AnthropicMessage {
  role: 'user' | 'assistant' | 'system';
  content: string | ContentBlock[];
}

export interface MessagesRequest {
  model: string;
  messages: AnthropicMessage[];
  max_tokens?: number;
  system?: string | ContentBlock[];
  stream?: boolean;
  tools?: { name?: string }[];
  /** Extended thinking (thinking.ts) and automatic prompt caching (usage.ts), read as sent. */
  thinking?: unknown;
  tool_choice?: unknown;
  cache_control?: unknown;
}

export const ANTHROPIC_VERSIONS = ['2023-06-01', '2026-10-21'];
// Sampling parameters that API version 2026-10-21 removed (400 if sent under it).
const REMOVED_IN_2026_10_21 = ['temperature', 'top_p', 'top_k'];

const KNOWN_FIELDS = [
  'model', 'messages', 'max_tokens', 'system', 'stop_sequences', 'stream', 'tools', 'tool_choice', 'thinking',
  'metadata', 'service_tier', 'output_config', 'temperature', 'top_p', 'top_k', 'container', 'mcp_servers',
  'context_management', 'inference_geo',
];

// What a `role: "system"` message may hold: TextBlockParam, and in the beta API the mid-conversation
// tool changes (BetaRequestToolAdditionBlock, BetaRequestToolRemovalBlock in @anthropic-ai/sdk 1.x).
const SYSTEM_MESSAGE_BLOCKS = ['text', 'tool_addition', 'tool_removal'];

const textBlocks = {
  type: 'array',
  items: {
    type: 'object',
    required: ['type'],
    properties: { type: { type: 'string' }, text: { type: 'string' } },
    // A tool_result's content is text or blocks (lastToolResult reads it); other blocks' content
    // (server tool results) may be an object.
    if: { properties: { type: { const: 'tool_result' } } },
    then: { properties: { content: { type: ['string', 'array'], items: { type: 'object' } } } },
  },
};

function messagesRequestSchema(strict: boolean) {
  return {
    type: 'object',
    required: strict ? ['model', 'messages', 'max_tokens'] : ['model', 'messages'],
    additionalProperties: strict ? false : true,
    properties: {
      ...Object.fromEntries(KNOWN_FIELDS.map((f) => [f, {}])),
      model: { type: 'string' },
      max_tokens: { type: 'integer', minimum: 1 },
      messages: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['role', 'content'],
          properties: {
            // The SDK's MessageParam (1.x) includes SystemMessageParam, and Claude Code sends a
            // `system` turn inside `messages` on every request (test/agents/captures/): the API
            // accepts it, so strict mode does too; its blocks are text (or the beta tool changes).
            role: { enum: ['user', 'assistant', 'system'] },
            content: { type: ['string', 'array'], items: textBlocks.items },
          },
          if: { properties: { role: { const: 'system' } } },
          then: strict ? { properties: { content: { type: ['string', 'array'], items: { type: 'object', properties: { type: { enum: SYSTEM_MESSAGE_BLOCKS } } } } } } : {},
        },
      },
      system: { type: ['string', 'array'], items: textBlocks.items },
      stream: { type: 'boolean' },
      stop_sequences: { type: 'array', items: { type: 'string' } },
      temperature: { type: 'number', minimum: 0, maximum: 1 },
      top_p: { type: 'number', minimum: 0, maximum: 1 },
      top_k: { type: 'integer', minimum: 0 },
      tools: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
    },
  };
}

// Compiled on first use, or precompiled in dist/ (src/http/schema-validator.ts).
const OPTIONS = { allErrors: false, strict: true, allowUnionTypes: true };
const validateLenient = schemaValidator<MessagesRequest>('anthropic-messages-lenient', OPTIONS, messagesRequestSchema(false));
const validateStrict = schemaValidator<MessagesRequest>('anthropic-messages-strict', OPTIONS, messagesRequestSchema(true));

/** `/messages/0/role` → `messages.0.role`, the way the Anthropic API names a location. */
function locationOf(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').slice(1);
  if (extra !== undefined) parts.push(extra);
  return parts.join('.');
}

const TYPE_WORDS: Record<string, string> = {
  array: 'a valid list', object: 'a valid dictionary', string: 'a valid string', integer: 'a valid integer',
  number: 'a valid number', boolean: 'a valid boolean',
};

/** The API's pydantic-style wording (API-FORMATS §7), e.g. `max_tokens: Field required`. */
function toAnthropicError(error: ErrorObject): ApiError {
  const at = locationOf(error.instancePath);
  switch (error.keyword) {
    case 'required':
      return invalidRequest(`${locationOf(error.instancePath, String(error.params.missingProperty))}: Field required`);
    case 'type': {
      if (at === '') return invalidRequest('The request body must be a JSON object.');
      const expected = String(error.params.type).split(',').map((t) => TYPE_WORDS[t] ?? t).join(' or ');
      return invalidRequest(`${at}: Input should be ${expected}`);
    }
    case 'minItems':
      return invalidRequest(`${at}: List should have at least ${error.params.limit} item after validation, not 0`);
    case 'enum':
      return invalidRequest(`${at}: Input should be ${(error.params.allowedValues as string[]).map((v) => `'${v}'`).join(' or ')}`);
    case 'maximum':
      return invalidRequest(`${at}: Input should be less than or equal to ${error.params.limit}`);
    case 'minimum':
      return invalidRequest(`${at}: Input should be greater than or equal to ${error.params.limit}`);
    case 'additionalProperties':
      return invalidRequest(`${locationOf(error.instancePath, String(error.params.additionalProperty))}: Extra inputs are not permitted`);
    default:
      return invalidRequest(`${at}: ${error.message}`);
  }
}

function textOf(content: string | ContentBlock[] | undefined): string {
  if (typeof content === 'string') return content;
  if (!content) return '';
  return content
    .filter((block) => block.type === 'text' && typeof block.text === 'string')
    .map((block) => block.text)
    .join('\n');
}

const isToolResult = (block: ContentBlock) => block.type === 'tool_result';

/** The last turn as a tool result, named by the assistant tool_use block it answers. */
function lastToolResult(messages: AnthropicMessage[]): ToolResult | undefined {
  const last = messages[messages.length - 1];
  if (!last || last.role !== 'user' || typeof last.content === 'string') return undefined;
  const result = [...last.content].reverse().find(isToolResult);
  if (!result) return undefined;
  let name: string | undefined;
  for (const message of messages) {
    if (typeof message.content === 'string') continue;
    for (const block of message.content) if (block.type === 'tool_use' && block.id === result.tool_use_id) name = block.name;
  }
  return { name, content: textOf(result.content), ...(result.tool_use_id !== undefined && { callId: result.tool_use_id }) };
}

export function parseMessagesRequest(body: unknown, info: RequestInfo, endpoint: string): { request: MessagesRequest; conversation: Conversation } {
  const version = info.header('anthropic-version');
  if (info.strict) {
    if (!version) throw invalidRequest('anthropic-version: header is required');
    if (!ANTHROPIC_VERSIONS.includes(version)) throw invalidRequest(`anthropic-version: "${version}" is not a valid version`);
  }
  const validate = info.strict ? validateStrict : validateLenient;
  if (!validate(body)) throw toAnthropicError(validate.errors![0]!);
  const request = body;
  if (info.strict && version === '2026-10-21') {
    const removed = REMOVED_IN_2026_10_21.find((field) => field in request);
    if (removed) throw invalidRequest(`${removed}: Extra inputs are not permitted`);
  }
  if (info.strict) checkThinking(request as unknown as Record<string, unknown>);
  const systemParts = [textOf(request.system)];
  const messages: ConversationMessage[] = [];
  for (const m of request.messages) {
    // Lenient mode takes a `system` turn inside `messages` as an instruction, as older mocks did.
    if (m.role === 'system') systemParts.push(textOf(m.content));
    else messages.push({ role: m.role, text: textOf(m.content) });
  }
  // A user turn that only carries tool results is the tool talking, not the user: the prompt is the
  // last turn the user wrote, as with OpenAI, where tool results have a role of their own.
  let prompt = '';
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i]!;
    if (m.role !== 'user') continue;
    // Claude Code sends a turn's tool results with reminder text blocks after them: still the tool's turn.
    const prose = withoutClientReminders(textOf(m.content));
    if (typeof m.content !== 'string' && m.content.some(isToolResult) && m.content.every((b) => isToolResult(b) || b.type === 'text') && prose === '') continue;
    prompt = prose;
    break;
  }
  return {
    request,
    conversation: {
      provider: 'anthropic',
      endpoint,
      model: request.model,
      system: systemParts.filter((s) => s !== '').join('\n'),
      messages,
      prompt,
      tools: (request.tools ?? []).map((t) => t.name).filter((name): name is string => typeof name === 'string'),
      toolResult: lastToolResult(request.messages),
      stream: request.stream === true,
      header: info.header,
      ...anthropicStructure(request, info.strict),
    },
  };
}
