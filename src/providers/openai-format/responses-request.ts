import { schemaValidator } from '../../http/schema-validator.ts';
import { withoutClientReminders, type Conversation, type ConversationMessage, type Role, type ToolResult } from '../../engine/conversation.ts';
import { invalidRequest } from '../../http/errors.ts';
import type { Parsed, RequestInfo } from '../provider.ts';
import { openAiResponsesStructure } from './structured.ts';
import type { HistoryItem } from '../../state/response-history.ts';
import type { ResponseHistoryStore } from '../../state/types.ts';
import { describeValue, listValues, nestsDeeperThan, openAiValidationError } from './validation.ts';

export interface ResponsesTool {
  type: string;
  name?: string;
}

export interface ResponsesBody {
  model: string;
  input?: string | Record<string, unknown>[];
  instructions?: string | null;
  previous_response_id?: string | null;
  stream?: boolean | null;
  store?: boolean | null;
  tools?: ResponsesTool[] | null;
  tool_choice?: unknown;
  parallel_tool_calls?: boolean | null;
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  text?: unknown;
  truncation?: string | null;
  metadata?: Record<string, string> | null;
  reasoning?: unknown;
  user?: string | null;
  service_tier?: string | null;
  background?: boolean | null;
  conversation?: string | { id: string } | null;
}

/** The parsed request: the body as sent, and the whole conversation with earlier responses resolved. */
export interface ResponsesRequest {
  body: ResponsesBody;
  /** Earlier responses' conversation (previous_response_id, item_reference) followed by this input. */
  history: HistoryItem[];
  /** Where this response is kept for later `previous_response_id` (unless `store: false`). */
  store: ResponseHistoryStore;
  /**
   * Told the finished response (non-stream body, or the terminal stream event's `response`) before
   * it is sent: the OpenAI provider stores it for GET /v1/responses/{id} and appends the turn to
   * its conversation (providers/openai/responses-routes.ts).
   */
  onCompleted?: (response: Record<string, unknown>) => void;
  /** Store writes this answer started; awaited before its last byte (AnswerAdapter.settled). */
  writes: Promise<unknown>[];
}

// Every parameter of ResponseCreateParams (openai 7.x), and `client_metadata`, a map of strings Codex CLI
// sends on every request (codex-rs ResponsesApiRequest; test/agents/captures/codex-*.json); strict
// mode rejects anything else, as the real API does.
const KNOWN_FIELDS = [
  'access_programs', 'background', 'client_metadata', 'context_management', 'conversation', 'image', 'include', 'input', 'instructions',
  'max_output_tokens', 'max_tool_calls', 'metadata', 'model', 'moderation', 'parallel_tool_calls', 'previous_response_id',
  'prompt', 'prompt_cache_key', 'prompt_cache_options', 'prompt_cache_retention', 'reasoning', 'safety_identifier',
  'service_tier', 'store', 'stream', 'stream_options', 'temperature', 'text', 'tool_choice', 'tools', 'top_logprobs',
  'top_p', 'truncation', 'user',
];

function responsesSchema(strict: boolean) {
  return {
    type: 'object',
    required: ['model'],
    additionalProperties: !strict,
    properties: {
      ...Object.fromEntries(KNOWN_FIELDS.map((f) => [f, {}])),
      model: { type: 'string' },
      input: { type: ['string', 'array'], items: { type: 'object' } },
      instructions: { type: ['string', 'null'] },
      previous_response_id: { type: ['string', 'null'] },
      stream: { type: ['boolean', 'null'] },
      store: { type: ['boolean', 'null'] },
      tools: { type: ['array', 'null'], items: { type: 'object', required: ['type'], properties: { type: { type: 'string' }, name: { type: 'string' } } } },
      parallel_tool_calls: { type: ['boolean', 'null'] },
      max_output_tokens: { type: ['integer', 'null'], minimum: 16 },
      temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
      top_p: { type: ['number', 'null'], minimum: 0, maximum: 1 },
      // As the real API: at most 16 pairs of strings (keys up to 64 characters, values up to 512).
      truncation: { enum: ['auto', 'disabled', null] },
      user: { type: ['string', 'null'] },
      client_metadata: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
      metadata: { type: ['object', 'null'], maxProperties: 16, propertyNames: { maxLength: 64 }, additionalProperties: { type: 'string', maxLength: 512 } },
    },
  };
}

const ECHOED_FIELDS = ['tools', 'tool_choice', 'text', 'metadata'] as const;
const MAX_ECHOED_DEPTH = 64;

// Compiled on first use, or precompiled in dist/ (src/http/schema-validator.ts).
const OPTIONS = { allErrors: false, strict: true, allowUnionTypes: true };
const validateLenient = schemaValidator<ResponsesBody>('openai-responses-lenient', OPTIONS, responsesSchema(false));
const validateStrict = schemaValidator<ResponsesBody>('openai-responses-strict', OPTIONS, responsesSchema(true));

const MESSAGE_ROLES = ['user', 'assistant', 'system', 'developer'] as const;
type MessageRole = (typeof MESSAGE_ROLES)[number];
// Content parts whose text a rule may match: the user's, and the assistant's own when echoed back.
const TEXT_PARTS = new Set(['input_text', 'output_text', 'text', 'refusal']);

function textOf(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) {
    throw invalidRequest(`Invalid type for '${param}': expected one of a string or array of input items, but got ${describeValue(content)} instead.`, param, 'invalid_type');
  }
  const texts: string[] = [];
  content.forEach((part: unknown, i) => {
    if (part === null || typeof part !== 'object' || typeof (part as { type?: unknown }).type !== 'string') {
      throw invalidRequest(`Missing required parameter: '${param}[${i}].type'.`, `${param}[${i}].type`, 'missing_required_parameter');
    }
    const { type, text, refusal } = part as { type: string; text?: unknown; refusal?: unknown };
    if (!TEXT_PARTS.has(type)) return;
    const value = type === 'refusal' ? refusal : text;
    if (typeof value !== 'string') {
      const field = type === 'refusal' ? 'refusal' : 'text';
      throw invalidRequest(`Missing required parameter: '${param}[${i}].${field}'.`, `${param}[${i}].${field}`, 'missing_required_parameter');
    }
    texts.push(value);
  });
  return texts.join('\n');
}

function requiredString(item: Record<string, unknown>, field: string, at: string): string {
  const value = item[field];
  if (typeof value !== 'string') {
    if (value === undefined) throw invalidRequest(`Missing required parameter: '${at}.${field}'.`, `${at}.${field}`, 'missing_required_parameter');
    throw invalidRequest(`Invalid type for '${at}.${field}': expected a string, but got ${describeValue(value)} instead.`, `${at}.${field}`, 'invalid_type');
  }
  return value;
}

/** One input item in the engine's terms; undefined for items that carry nothing to match (reasoning, built-in tool calls). */
function historyItem(item: Record<string, unknown>, at: string, referenced: ReadonlyMap<string, HistoryItem | undefined>): HistoryItem | undefined {
  const type = item.type ?? 'message';
  switch (type) {
    case 'message': {
      const role = item.role;
      if (role === undefined) throw invalidRequest(`Missing required parameter: '${at}.role'.`, `${at}.role`, 'missing_required_parameter');
      if (typeof role !== 'string') {
        throw invalidRequest(`Invalid type for '${at}.role': expected a string, but got ${describeValue(role)} instead.`, `${at}.role`, 'invalid_type');
      }
      if (!MESSAGE_ROLES.includes(role as MessageRole)) {
        throw invalidRequest(`Invalid value: '${String(role)}'. Supported values are: ${listValues(MESSAGE_ROLES)}.`, `${at}.role`, 'invalid_value');
      }
      if (item.content === undefined) throw invalidRequest(`Missing required parameter: '${at}.content'.`, `${at}.content`, 'missing_required_parameter');
      return { type: 'message', role: role as MessageRole, text: textOf(item.content, `${at}.content`) };
    }
    case 'function_call':
      return {
        type: 'function_call',
        call_id: requiredString(item, 'call_id', at),
        name: requiredString(item, 'name', at),
        arguments: requiredString(item, 'arguments', at),
      };
    case 'function_call_output': {
      const output = item.output;
      if (output === undefined) throw invalidRequest(`Missing required parameter: '${at}.output'.`, `${at}.output`, 'missing_required_parameter');
      return { type: 'function_call_output', call_id: requiredString(item, 'call_id', at), output: textOf(output, `${at}.output`) };
    }
    case 'item_reference': {
      const id = requiredString(item, 'id', at);
      const found = referenced.get(id);
      if (!found) throw new ItemNotFound(id);
      return found;
    }
    default:
      return undefined;
  }
}

class ItemNotFound extends Error {
  readonly id: string;
  constructor(id: string) {
    super(id);
    this.id = id;
  }
}

const ROLE_OF: Record<MessageRole, Role> = { user: 'user', assistant: 'assistant', system: 'system', developer: 'system' };

/** The engine's view: messages in order (instructions first), the last user text, the tool result that ends it. */
export function conversationOf(history: readonly HistoryItem[], instructions: string | undefined): { messages: ConversationMessage[]; prompt: string; toolResult: ToolResult | undefined } {
  const messages: ConversationMessage[] = [];
  if (instructions) messages.push({ role: 'system', text: instructions });
  let prompt = '';
  for (const item of history) {
    if (item.type === 'message') {
      messages.push({ role: ROLE_OF[item.role], text: item.text });
      if (item.role === 'user') prompt = withoutClientReminders(item.text);
    } else if (item.type === 'function_call') messages.push({ role: 'assistant', text: '' });
    else messages.push({ role: 'tool', text: item.output });
  }
  const last = history.at(-1);
  let toolResult: ToolResult | undefined;
  if (last?.type === 'function_call_output') {
    const call = history.findLast((item) => item.type === 'function_call' && item.call_id === last.call_id);
    toolResult = { name: call?.type === 'function_call' ? call.name : undefined, content: last.output, callId: last.call_id };
  }
  return { messages, prompt, toolResult };
}

/**
 * Items given or stored elsewhere (a conversation's items, POST /v1/conversations `items`) in the
 * engine's terms, validated as input items are; `param` names them in errors (`items`).
 */
export function historyOfItems(items: readonly Record<string, unknown>[], param: string): HistoryItem[] {
  const history: HistoryItem[] = [];
  items.forEach((item, i) => {
    try {
      const normal = historyItem(item, `${param}[${i}]`, new Map());
      if (normal) history.push(normal);
    } catch (error) {
      if (error instanceof ItemNotFound) throw invalidRequest(`Item with id '${error.id}' not found.`, `${param}[${i}].id`, 'item_not_found');
      throw error;
    }
  });
  return history;
}

/** `prior`: history that comes before this request's input (a conversation's items). */
export async function parseResponsesRequest(body: unknown, info: RequestInfo, endpoint: string, store: ResponseHistoryStore, provider: string, prior?: readonly HistoryItem[]): Promise<Parsed<ResponsesRequest>> {
  const validate = info.strict ? validateStrict : validateLenient;
  if (!validate(body)) throw openAiValidationError(validate.errors![0]!, body, { missingModel: 'param', unknownField: 'unknown_parameter' });

  // These are echoed back in the response: nesting JSON.stringify cannot handle is refused here.
  for (const field of ECHOED_FIELDS) {
    if (nestsDeeperThan(body[field], MAX_ECHOED_DEPTH)) {
      throw invalidRequest(`Invalid '${field}': nested too deeply. Expected at most ${MAX_ECHOED_DEPTH} levels of nesting.`, field, 'invalid_value');
    }
  }

  const history: HistoryItem[] = [...(prior ?? [])];
  const previous = body.previous_response_id;
  if (previous != null) {
    const earlier = await store.get(previous);
    if (!earlier) throw invalidRequest(`Previous response with id '${previous}' not found.`, 'previous_response_id', 'previous_response_not_found');
    history.push(...earlier);
  }
  const input = body.input;
  if (typeof input === 'string') history.push({ type: 'message', role: 'user', text: input });
  else if (input) {
    // Stored items are looked up first (a networked store answers asynchronously), then the input is read in order.
    const referenced = new Map<string, HistoryItem | undefined>();
    for (const item of input) {
      if (item.type === 'item_reference' && typeof item.id === 'string' && !referenced.has(item.id)) referenced.set(item.id, await store.item(item.id));
    }
    input.forEach((item, i) => {
      try {
        const normal = historyItem(item, `input[${i}]`, referenced);
        if (normal) history.push(normal);
      } catch (error) {
        if (error instanceof ItemNotFound) throw invalidRequest(`Item with id '${error.id}' not found.`, `input[${i}].id`, 'item_not_found');
        throw error;
      }
    });
  }

  const instructions = body.instructions ?? undefined;
  const { messages, prompt, toolResult } = conversationOf(history, instructions);
  return {
    request: { body, history, store, writes: [] },
    conversation: {
      provider,
      endpoint,
      model: body.model,
      system: messages.filter((m) => m.role === 'system').map((m) => m.text).join('\n'),
      messages,
      prompt,
      tools: (body.tools ?? []).map((t) => t.name ?? t.type),
      toolResult,
      stream: body.stream === true,
      header: info.header,
      ...openAiResponsesStructure(body, info.strict),
    },
  };
}
