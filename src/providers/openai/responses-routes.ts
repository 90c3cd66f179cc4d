// POST /v1/responses with `conversation`, and the stored-response routes around it: GET and DELETE
// /v1/responses/{id}, POST …/cancel, GET …/input_items (docs/endpoints.md; ../shared API-FORMATS §19).
// A response is stored for them unless the request says `store: false`, as the real API does.
import type { Context } from 'koa';
import { ApiError, invalidRequest } from '../../http/errors.ts';
import type { HistoryItem } from '../../state/response-history.ts';
import type { StoredItem } from '../../state/types.ts';
import { renderResponse, renderResponseStream, renderResponsesStreamError, responsesCacheQuery } from '../openai-format/responses-encode.ts';
import { historyOfItems, parseResponsesRequest, type ResponsesRequest } from '../openai-format/responses-request.ts';
import { describeValue } from '../openai-format/validation.ts';
import type { AnswerAdapter, Parsed, ProviderDeps, ProviderRoute, RouteRequest } from '../provider.ts';
import { conversationNotFound, listPage, storedItem } from './conversations.ts';

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The conversation a request names (`"conv_…"` or `{id}`), checked against `previous_response_id`. */
function conversationIdOf(body: Record<string, unknown>): string | undefined {
  const ref = body.conversation;
  if (ref === undefined || ref === null) return undefined;
  const id = typeof ref === 'string' ? ref : isObject(ref) && typeof ref.id === 'string' ? ref.id : undefined;
  if (id === undefined) {
    throw invalidRequest(`Invalid type for 'conversation': expected a string or an object with a string 'id', but got ${describeValue(ref)} instead.`, 'conversation', 'invalid_type');
  }
  // The API takes one source of earlier turns (API-FORMATS §19: "cannot be combined").
  if (body.previous_response_id !== undefined && body.previous_response_id !== null) {
    throw invalidRequest("Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.", null, 'mutually_exclusive_parameters');
  }
  return id;
}

/**
 * POST /v1/responses (and each `response.create` on the WebSocket): a conversation's items come
 * before the input; once answered, the response is stored (unless `store: false`) with its input
 * items, and the turn's input and output items are appended to the conversation.
 */
export async function parseResponses(request: RouteRequest, deps: ProviderDeps, endpoint: string, provider: string): Promise<Parsed<ResponsesRequest>> {
  const body = request.body;
  let conversationId: string | undefined;
  let prior: HistoryItem[] | undefined;
  if (isObject(body)) {
    conversationId = conversationIdOf(body);
    if (conversationId !== undefined) {
      const items = await deps.conversations.items(conversationId);
      if (!items) throw conversationNotFound(conversationId, 'conversation');
      prior = historyOfItems(items, 'conversation.items');
    }
  }
  const parsed = await parseResponsesRequest(body, request, endpoint, deps.responses, provider, prior);
  const { input, store } = parsed.request.body;
  const inputItems: StoredItem[] =
    typeof input === 'string' ? [storedItem({ type: 'message', role: 'user', content: input })] : (input ?? []).map(storedItem);
  parsed.request.onCompleted = (response) => {
    // Not awaited here, as the history store's put: the route awaits them before the answer's last
    // byte (AnswerAdapter.settled), so another replica asked next has them.
    const writes = parsed.request.writes;
    if (store !== false) writes.push(deps.storedResponses.put(String(response.id), { response, inputItems }).catch(() => {}));
    if (conversationId !== undefined) {
      const output = Array.isArray(response.output) ? (response.output as StoredItem[]) : [];
      writes.push(deps.conversations.append(conversationId, [...inputItems, ...output]).catch(() => {}));
    }
  };
  return parsed;
}

export function responsesAdapter(endpoint: string, provider: string): AnswerAdapter<ResponsesRequest> {
  return {
    parse: (request, deps) => parseResponses(request, deps, endpoint, provider),
    renderJson: renderResponse,
    renderStream: renderResponseStream,
    renderStreamError: renderResponsesStreamError,
    streams: (request) => request.body.stream === true,
    promptCache: responsesCacheQuery,
    settled: (request) => Promise.all(request.writes),
  };
}

function responseNotFound(id: string): ApiError {
  return new ApiError({ status: 404, kind: 'not_found', message: `Response with id '${id}' not found.` });
}

function route(method: ProviderRoute['method'], path: string, handle: (request: RouteRequest, deps: ProviderDeps, ctx: Context) => Promise<unknown>): ProviderRoute {
  return {
    method,
    path,
    async handle(ctx, request, deps) {
      ctx.body = await handle(request, deps, ctx);
    },
  };
}

type Json = Record<string, unknown>;

/**
 * A stored response as the stream events that make it (API-FORMATS §3, §19: `stream=true` replays
 * them): created, in_progress, each output item's added / content / done events, and the terminal
 * event, numbered from 0. The text of a part comes as one delta (the pieces it was streamed in are
 * not kept).
 */
export function replayEvents(response: Json): Json[] {
  const events: Json[] = [];
  const add = (type: string, fields: Json) => events.push({ type, sequence_number: events.length, ...fields });
  const pending = { ...response, status: 'in_progress', completed_at: null, error: null, incomplete_details: null, output: [], usage: null };
  add('response.created', { response: pending });
  add('response.in_progress', { response: pending });
  const output = Array.isArray(response.output) ? (response.output as Json[]) : [];
  output.forEach((item, output_index) => {
    const item_id = item.id;
    if (item.type === 'message' && Array.isArray(item.content)) {
      add('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } });
      (item.content as Json[]).forEach((part, content_index) => {
        const ids = { item_id, output_index, content_index };
        if (part.type === 'output_text') {
          add('response.content_part.added', { ...ids, part: { ...part, text: '' } });
          add('response.output_text.delta', { ...ids, delta: part.text, logprobs: [] });
          add('response.output_text.done', { ...ids, text: part.text, logprobs: [] });
        } else add('response.content_part.added', { ...ids, part });
        add('response.content_part.done', { ...ids, part });
      });
    } else if (item.type === 'function_call') {
      add('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', arguments: '' } });
      add('response.function_call_arguments.delta', { item_id, output_index, delta: item.arguments });
      add('response.function_call_arguments.done', { item_id, output_index, name: item.name, arguments: item.arguments });
    } else add('response.output_item.added', { output_index, item });
    add('response.output_item.done', { output_index, item });
  });
  const status = response.status === 'incomplete' || response.status === 'failed' ? response.status : 'completed';
  add(`response.${status}`, { response });
  return events;
}

function replay(ctx: Context, response: Json, query: RouteRequest['query']): void {
  const text = [query.starting_after].flat()[0];
  const after = text === undefined ? -1 : Number(text);
  if (text !== undefined && !(Number.isInteger(after) && after >= 0)) {
    throw invalidRequest(`Invalid 'starting_after': expected a non-negative integer, but got '${text}' instead.`, 'starting_after', 'invalid_type');
  }
  ctx.type = 'text/event-stream; charset=utf-8';
  ctx.set('cache-control', 'no-cache');
  ctx.body = replayEvents(response)
    .filter((event) => (event.sequence_number as number) > after)
    .map((event) => `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`)
    .join('');
}

export function storedResponseRoutes(base: string): ProviderRoute[] {
  return [
    {
      method: 'GET',
      path: `${base}/{id}`,
      async handle(ctx, { params, query }, deps) {
        const stored = await deps.storedResponses.get(params.id!);
        if (!stored) throw responseNotFound(params.id!);
        if ([query.stream].flat()[0] === 'true') replay(ctx, stored.response, query);
        else ctx.body = stored.response;
      },
    },
    route('DELETE', `${base}/{id}`, async ({ params }, deps) => {
      const [removed] = await Promise.all([deps.storedResponses.delete(params.id!), deps.responses.delete(params.id!)]);
      if (!removed) throw responseNotFound(params.id!);
      return { id: params.id, object: 'response', deleted: true };
    }),
    // Only `background: true` responses can be cancelled (the SDK's doc comment); this mock answers
    // them at once, so a cancel finds one already finished and returns it as it is.
    route('POST', `${base}/{id}/cancel`, async ({ params }, deps) => {
      const stored = await deps.storedResponses.get(params.id!);
      if (!stored) throw responseNotFound(params.id!);
      if (stored.response.background !== true) throw invalidRequest('Cannot cancel a synchronous response.');
      return stored.response;
    }),
    route('GET', `${base}/{id}/input_items`, async ({ params, query }, deps) => {
      const stored = await deps.storedResponses.get(params.id!);
      if (!stored) throw responseNotFound(params.id!);
      return listPage(stored.inputItems, query);
    }),
  ];
}
