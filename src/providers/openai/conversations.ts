// OpenAI Conversations API (docs/endpoints.md; ../shared API-FORMATS §19): conversations and their
// items, kept in the server's state (state/types.ts ConversationStore, memory or Redis), shared
// with POST /v1/responses `conversation`. Object shapes follow the openai SDK's types
// (resources/conversations): `{id: "conv_…", object: "conversation", created_at, metadata}`, item
// lists `{object: "list", data, first_id, last_id, has_more}`.
import type { Context } from 'koa';
import { ApiError, invalidRequest } from '../../http/errors.ts';
import { hex } from '../../http/ids.ts';
import { historyOfItems } from '../openai-format/responses-request.ts';
import { describeValue, listValues } from '../openai-format/validation.ts';
import type { ProviderRoute, RouteRequest } from '../provider.ts';
import type { StoredConversation, StoredItem } from '../../state/types.ts';

/** The most items one request may add, as the SDK documents for `items` ("up to 20 items at a time"). */
export const MAX_ITEMS_PER_REQUEST = 20;
const MAX_METADATA_PAIRS = 16;

// Ids minted for items a client sends without one, by item type (the API's own prefixes where its
// objects show them: msg_, fc_, rs_; `fco_` for tool outputs is this mock's choice).
const ID_PREFIX: Record<string, string> = { message: 'msg', function_call: 'fc', function_call_output: 'fco', reasoning: 'rs' };

const now = () => Math.floor(Date.now() / 1000);

export function conversationNotFound(id: string, param: string | null = null): ApiError {
  return new ApiError({ status: 404, kind: 'not_found', message: `Conversation with id '${id}' not found.`, param });
}

function itemNotFound(id: string): ApiError {
  return new ApiError({ status: 404, kind: 'not_found', message: `Item with id '${id}' not found.` });
}

export function conversationJson(conversation: StoredConversation): Record<string, unknown> {
  return { id: conversation.id, object: 'conversation', created_at: conversation.created_at, metadata: conversation.metadata };
}

/** An item as the API keeps and lists it: its `id` (minted when absent), `status`, and message content as parts. */
export function storedItem(item: Readonly<Record<string, unknown>>): StoredItem {
  const type = typeof item.type === 'string' ? item.type : 'message';
  const id = typeof item.id === 'string' && item.id !== '' ? item.id : `${ID_PREFIX[type] ?? 'item'}_${hex(48)}`;
  if (type === 'message') {
    const { role, content } = item;
    const parts =
      typeof content === 'string'
        ? [role === 'assistant' ? { type: 'output_text', text: content, annotations: [], logprobs: [] } : { type: 'input_text', text: content }]
        : content;
    return { type: 'message', id, status: item.status ?? 'completed', role, content: parts };
  }
  return { ...item, type, id, ...(item.status === undefined && { status: 'completed' }) };
}

/** Checks `items` as input items are checked (roles, required fields), then gives them ids. */
export function storedItems(items: unknown, param: string): StoredItem[] {
  if (items === undefined || items === null) return [];
  if (!Array.isArray(items)) throw invalidRequest(`Invalid type for '${param}': expected an array, but got ${describeValue(items)} instead.`, param, 'invalid_type');
  if (items.length > MAX_ITEMS_PER_REQUEST) {
    throw invalidRequest(
      `Invalid '${param}': array too long. Expected an array with maximum length ${MAX_ITEMS_PER_REQUEST}, but got an array with length ${items.length} instead.`,
      param,
      'array_above_max_length',
    );
  }
  items.forEach((item: unknown, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw invalidRequest(`Invalid type for '${param}[${i}]': expected an object, but got ${describeValue(item)} instead.`, `${param}[${i}]`, 'invalid_type');
    }
  });
  const records = items as Record<string, unknown>[];
  historyOfItems(records, param);
  return records.map(storedItem);
}

function metadataOf(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalidRequest(`Invalid type for 'metadata': expected an object, but got ${describeValue(value)} instead.`, 'metadata', 'invalid_type');
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_METADATA_PAIRS) {
    throw invalidRequest(
      `Invalid 'metadata': too many properties. Expected an object with at most ${MAX_METADATA_PAIRS} properties, but got an object with ${entries.length} properties instead.`,
      'metadata',
      'object_above_max_properties',
    );
  }
  for (const [key, text] of entries) {
    if (key.length > 64) throw invalidRequest(`Invalid 'metadata': key '${key.slice(0, 64)}…' is longer than 64 characters.`, 'metadata', 'invalid_value');
    if (typeof text !== 'string') {
      throw invalidRequest(`Invalid type for 'metadata.${key}': expected a string, but got ${describeValue(text)} instead.`, `metadata.${key}`, 'invalid_type');
    }
    if (text.length > 512) {
      throw invalidRequest(`Invalid 'metadata.${key}': string too long. Expected a string with maximum length 512, but got a string with length ${text.length} instead.`, `metadata.${key}`, 'string_above_max_length');
    }
  }
  return value as Record<string, string>;
}

function objectBody(request: RouteRequest, known: readonly string[]): Record<string, unknown> {
  const body = request.body ?? {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw invalidRequest(`Invalid type for body: expected an object, but got ${describeValue(body)} instead.`, null, 'invalid_type');
  }
  if (request.strict) {
    const unknown = Object.keys(body).find((key) => !known.includes(key));
    if (unknown !== undefined) throw invalidRequest(`Unknown parameter: '${unknown}'.`, unknown, 'unknown_parameter');
  }
  return body as Record<string, unknown>;
}

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/**
 * One page of a list: `limit` (1–100, default 20), `order` (`asc` oldest first, or `desc`, the
 * default), `after` (an item id: the page starts after it). `include` only asks for extra fields
 * this mock does not keep, so it is accepted and changes nothing.
 */
export function listPage(items: readonly StoredItem[], query: RouteRequest['query']): Record<string, unknown> {
  const limitText = first(query.limit);
  const limit = limitText === undefined ? 20 : Number(limitText);
  if (!Number.isInteger(limit)) throw invalidRequest(`Invalid 'limit': expected an integer, but got '${limitText}' instead.`, 'limit', 'invalid_type');
  if (limit < 1) throw invalidRequest(`Invalid 'limit': integer below minimum value. Expected a value >= 1, but got ${limit} instead.`, 'limit', 'integer_below_min_value');
  if (limit > 100) throw invalidRequest(`Invalid 'limit': integer above maximum value. Expected a value <= 100, but got ${limit} instead.`, 'limit', 'integer_above_max_value');
  const order = first(query.order) ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw invalidRequest(`Invalid value: '${order}'. Supported values are: ${listValues(['asc', 'desc'])}.`, 'order', 'invalid_value');
  const ordered = order === 'asc' ? items : [...items].reverse();
  const after = first(query.after);
  let start = 0;
  if (after !== undefined && after !== '') {
    const at = ordered.findIndex((item) => item.id === after);
    if (at < 0) throw invalidRequest(`Invalid 'after': no item with id '${after}' in this list.`, 'after', 'invalid_value');
    start = at + 1;
  }
  const data = ordered.slice(start, start + limit);
  return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + limit < ordered.length };
}

function route(method: ProviderRoute['method'], path: string, handle: (ctx: Context, request: RouteRequest, deps: Parameters<ProviderRoute['handle']>[2]) => Promise<unknown>): ProviderRoute {
  return {
    method,
    path,
    async handle(ctx, request, deps) {
      ctx.body = await handle(ctx, request, deps);
    },
  };
}

export const conversationRoutes: readonly ProviderRoute[] = [
  route('POST', '/v1/conversations', async (_ctx, request, { conversations }) => {
    const body = objectBody(request, ['items', 'metadata']);
    const metadata = metadataOf(body.metadata);
    const items = storedItems(body.items, 'items');
    const conversation: StoredConversation = { id: `conv_${hex(48)}`, created_at: now(), metadata };
    await conversations.create(conversation, items);
    return conversationJson(conversation);
  }),
  route('GET', '/v1/conversations/{id}', async (_ctx, { params }, { conversations }) => {
    const conversation = await conversations.get(params.id!);
    if (!conversation) throw conversationNotFound(params.id!);
    return conversationJson(conversation);
  }),
  route('POST', '/v1/conversations/{id}', async (_ctx, request, { conversations }) => {
    const body = objectBody(request, ['metadata']);
    if (!('metadata' in body)) throw invalidRequest("Missing required parameter: 'metadata'.", 'metadata', 'missing_required_parameter');
    const updated = await conversations.update(request.params.id!, metadataOf(body.metadata));
    if (!updated) throw conversationNotFound(request.params.id!);
    return conversationJson(updated);
  }),
  route('DELETE', '/v1/conversations/{id}', async (_ctx, { params }, { conversations }) => {
    if (!(await conversations.delete(params.id!))) throw conversationNotFound(params.id!);
    return { id: params.id, object: 'conversation.deleted', deleted: true };
  }),
  route('GET', '/v1/conversations/{id}/items', async (_ctx, { params, query }, { conversations }) => {
    const items = await conversations.items(params.id!);
    if (!items) throw conversationNotFound(params.id!);
    return listPage(items, query);
  }),
  route('POST', '/v1/conversations/{id}/items', async (_ctx, request, { conversations }) => {
    const body = objectBody(request, ['items']);
    if (body.items === undefined) throw invalidRequest("Missing required parameter: 'items'.", 'items', 'missing_required_parameter');
    const items = storedItems(body.items, 'items');
    if (!(await conversations.append(request.params.id!, items))) throw conversationNotFound(request.params.id!);
    return { object: 'list', data: items, first_id: items[0]?.id ?? null, last_id: items.at(-1)?.id ?? null, has_more: false };
  }),
  route('GET', '/v1/conversations/{id}/items/{item_id}', async (_ctx, { params }, { conversations }) => {
    const items = await conversations.items(params.id!);
    if (!items) throw conversationNotFound(params.id!);
    const item = items.find((candidate) => candidate.id === params.item_id);
    if (!item) throw itemNotFound(params.item_id!);
    return item;
  }),
  // The API answers a deleted item with the conversation it was removed from (the SDK's return type).
  route('DELETE', '/v1/conversations/{id}/items/{item_id}', async (_ctx, { params }, { conversations }) => {
    const conversation = await conversations.get(params.id!);
    if (!conversation) throw conversationNotFound(params.id!);
    if (!(await conversations.deleteItem(params.id!, params.item_id!))) throw itemNotFound(params.item_id!);
    return conversationJson(conversation);
  }),
];
