import type { Conversation } from '../../engine/conversation.ts';
import type { Reply } from '../../engine/reply-plan.ts';
import { chatPromptTokens, completionTokens, openAiCacheQuery } from './usage.ts';
import { promptFigures, type PromptCacheQuery } from '../../engine/prompt-cache.ts';
import type { ThinkingReply } from '../../engine/reply-plan.ts';
import { reasoningTokens, redactedThinkingData, thinkingOf } from '../../engine/thinking.ts';
import { alnum, hex } from '../../http/ids.ts';
import { CONTENT_CHUNK, type StreamItem } from '../../http/stream-writer.ts';
import type { ResponsesBody, ResponsesRequest } from './responses-request.ts';
import type { HistoryItem } from '../../state/response-history.ts';
import { openAiFinishReason } from './finish.ts';

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

type Status = 'completed' | 'incomplete';

/** One output item to send: the reasoning, the assistant's text, or one function call. */
type OutputPlan =
  | ReasoningPlan
  | { type: 'message'; id: string; text: string; chunksJson: readonly string[] }
  | { type: 'function_call'; id: string; callId: string; name: string; arguments: string; fragmentsJson: readonly string[] };

/**
 * A reasoning item (API-FORMATS §19): its summary is the thinking, shown only when the request
 * asks for one (`reasoning.summary`) and the thinking is not redacted; `encrypted_content` only
 * when `include` lists `reasoning.encrypted_content`.
 */
interface ReasoningPlan {
  type: 'reasoning';
  id: string;
  /** The summary text, or undefined when none is shown. */
  summary: string | undefined;
  chunksJson: readonly string[];
  encrypted: string | undefined;
}

interface Outcome {
  status: Status;
  incompleteDetails: { reason: string } | null;
}

/** What the request asks of reasoning: thinking on (an effort other than `none`, or a summary), a summary, the encrypted content. */
function reasoningAsked(body: ResponsesBody): { enabled: boolean; summary: boolean; encrypted: boolean } {
  const reasoning = body.reasoning !== null && typeof body.reasoning === 'object' ? (body.reasoning as { effort?: unknown; summary?: unknown; generate_summary?: unknown }) : undefined;
  const summary = reasoning !== undefined && (typeof reasoning.summary === 'string' || typeof reasoning.generate_summary === 'string');
  const enabled = reasoning !== undefined && reasoning.effort !== 'none' && (reasoning.effort != null || summary);
  const include = (body as { include?: unknown }).include;
  return { enabled, summary, encrypted: Array.isArray(include) && include.includes('reasoning.encrypted_content') };
}

function thinkingFor(reply: Reply, conversation: Conversation, body: ResponsesBody): ThinkingReply | undefined {
  return thinkingOf(reply, conversation, reasoningAsked(body).enabled);
}

/** `input_tokens` is the whole prompt, `cached_tokens` the part read from the cache; `output_tokens` holds the reasoning tokens. */
export function responsesUsage(reply: Reply, conversation: Conversation, body: ResponsesBody = { model: conversation.model }): ResponsesUsage {
  const prompt = promptFigures(reply, chatPromptTokens(conversation.messages));
  const reasoning = reasoningTokens(reply, thinkingFor(reply, conversation, body));
  const output = reply.delivery.usage?.output ?? completionTokens(reply) + reasoning;
  return {
    input_tokens: prompt.total,
    input_tokens_details: { cached_tokens: prompt.cacheRead },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: prompt.total + output,
  };
}

/** A rule's `length` finish is a response cut by max_output_tokens; `content_filter` one stopped by the filter. */
function outcomeOf(reply: Reply): Outcome {
  switch (openAiFinishReason(reply.delivery.finish)) {
    case 'length':
      return { status: 'incomplete', incompleteDetails: { reason: 'max_output_tokens' } };
    case 'content_filter':
      return { status: 'incomplete', incompleteDetails: { reason: 'content_filter' } };
    default:
      return { status: 'completed', incompleteDetails: null };
  }
}

function planOutput(reply: Reply, conversation: Conversation, body: ResponsesBody): OutputPlan[] {
  const plans: OutputPlan[] = [];
  const thinking = thinkingFor(reply, conversation, body);
  if (thinking) {
    // Reasoning comes first, before the message or calls it leads to.
    const asked = reasoningAsked(body);
    const shown = asked.summary && !thinking.redacted;
    plans.push({
      type: 'reasoning',
      id: `rs_${hex(48)}`,
      summary: shown ? thinking.text.text : undefined,
      chunksJson: shown ? thinking.text.chunksJson(reply.delivery.chunking) : [],
      encrypted: asked.encrypted ? redactedThinkingData(thinking.text.text) : undefined,
    });
  }
  if (reply.text && (reply.text.text !== '' || reply.toolCalls.length === 0)) {
    plans.push({ type: 'message', id: `msg_${hex(48)}`, text: reply.text.text, chunksJson: reply.textChunksJson });
  }
  for (const { call, fragmentsJson } of reply.toolCalls) {
    plans.push({
      type: 'function_call',
      id: `fc_${hex(48)}`,
      callId: call.id ?? `call_${alnum(24)}`,
      name: call.name,
      arguments: call.argumentsJson,
      fragmentsJson,
    });
  }
  return plans;
}

const textPart = (text: string) => ({ type: 'output_text', annotations: [], logprobs: [], text });

/** An output item as the API shows it: `sent` content chunks so far, or all of it once `done`. */
function itemJson(plan: OutputPlan, state: { done: boolean; sent?: number; status?: string }): Record<string, unknown> {
  const status = state.status ?? (state.done ? 'completed' : 'in_progress');
  const sentText = (pieces: readonly string[]) => pieces.slice(0, state.sent ?? 0).map((p) => JSON.parse(p) as string).join('');
  if (plan.type === 'reasoning') {
    // Reasoning items carry no status; a summary part appears once it has begun.
    const summary = plan.summary === undefined || (!state.done && state.sent === undefined) ? [] : [summaryPart(state.done ? plan.summary : sentText(plan.chunksJson))];
    return { id: plan.id, type: 'reasoning', summary, ...(plan.encrypted !== undefined && { encrypted_content: plan.encrypted }) };
  }
  if (plan.type === 'message') {
    const text = state.done ? plan.text : sentText(plan.chunksJson);
    return { id: plan.id, type: 'message', status, content: [textPart(text)], role: 'assistant' };
  }
  const args = state.done ? plan.arguments : sentText(plan.fragmentsJson);
  return { id: plan.id, type: 'function_call', status, arguments: args, call_id: plan.callId, name: plan.name };
}

const summaryPart = (text: string) => ({ type: 'summary_text', text });

/** What later turns see of an output item; reasoning is not matched on (nor counted as a turn). */
function historyOf(plan: Exclude<OutputPlan, ReasoningPlan>): HistoryItem {
  return plan.type === 'message'
    ? { type: 'message', role: 'assistant', text: plan.text }
    : { type: 'function_call', call_id: plan.callId, name: plan.name, arguments: plan.arguments };
}

function reasoningEcho(body: ResponsesBody): { effort: unknown; summary: unknown } {
  const reasoning = body.reasoning !== null && typeof body.reasoning === 'object' ? (body.reasoning as { effort?: unknown; summary?: unknown }) : {};
  return { effort: reasoning.effort ?? null, summary: reasoning.summary ?? null };
}

/** The response envelope: the request's settings echoed back, as the real API does. */
function envelope(
  id: string,
  createdAt: number,
  body: ResponsesBody,
  model: string,
  fields: { status: string; completedAt: number | null; error: unknown; incompleteDetails: unknown; output: unknown[]; usage: ResponsesUsage | null },
): Record<string, unknown> {
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status: fields.status,
    background: body.background === true,
    // The conversation a response belongs to (POST /v1/responses `conversation`), as the API echoes it.
    ...(body.conversation != null && { conversation: { id: typeof body.conversation === 'string' ? body.conversation : body.conversation.id } }),
    completed_at: fields.completedAt,
    error: fields.error,
    incomplete_details: fields.incompleteDetails,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    max_tool_calls: null,
    model,
    output: fields.output,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    prompt_cache_key: null,
    reasoning: reasoningEcho(body),
    safety_identifier: null,
    service_tier: 'default',
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: body.text ?? { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_logprobs: 0,
    top_p: body.top_p ?? 1,
    truncation: body.truncation ?? 'disabled',
    usage: fields.usage,
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  };
}

/** Keeps the finished conversation for `previous_response_id` and `item_reference`, unless `store: false`. */
function remember(id: string, request: ResponsesRequest, plans: readonly OutputPlan[]): void {
  if (request.body.store === false) return;
  const outputs = plans.filter((plan) => plan.type !== 'reasoning').map((plan) => [plan.id, historyOf(plan)] as const);
  // Not awaited here: an in-memory store has it at once; a networked one stores it in the
  // background, and the route awaits it before the answer's last byte (AnswerAdapter.settled).
  request.writes.push(request.store.put(id, [...request.history, ...outputs.map(([, item]) => item)], outputs).catch(() => {}));
}

const now = () => Math.floor(Date.now() / 1000);

export function renderResponse(reply: Reply, conversation: Conversation, request: ResponsesRequest): unknown {
  const id = `resp_${hex(48)}`;
  const plans = planOutput(reply, conversation, request.body);
  const { status, incompleteDetails } = outcomeOf(reply);
  const itemStatus = (plan: OutputPlan) => (status === 'incomplete' && plan.type === 'message' ? 'incomplete' : 'completed');
  const createdAt = now();
  remember(id, request, plans);
  const response = envelope(id, createdAt, request.body, conversation.model, {
    status,
    completedAt: status === 'completed' ? now() : null,
    error: null,
    incompleteDetails,
    output: plans.map((plan) => itemJson(plan, { done: true, status: itemStatus(plan) })),
    usage: responsesUsage(reply, conversation, request.body),
  });
  request.onCompleted?.(response);
  return response;
}

/**
 * The event ladder of API-FORMATS §3 with one `sequence_number` counter over the whole stream:
 * response.created, response.in_progress; per output item its added event, its content (a text
 * part's added/delta…/done, or a function call's argument deltas and done), its done event; then
 * response.completed (or .incomplete), the only event with usage. No `[DONE]`. It remembers how far
 * it got, so a fault can end it with a `response.failed` numbered after the last event sent.
 */
export class ResponsesStream implements Iterator<StreamItem> {
  readonly #reply: Reply;
  readonly #conversation: Conversation;
  readonly #request: ResponsesRequest;
  readonly #id = `resp_${hex(48)}`;
  readonly #createdAt = now();
  readonly #plans: OutputPlan[];
  readonly #frames: Generator<StreamItem>;
  #sequence = 0;
  /** Output items announced so far, with their content frames pulled and whether they are done. */
  readonly #progress: { plan: OutputPlan; sent: number; done: boolean }[] = [];

  constructor(reply: Reply, conversation: Conversation, request: ResponsesRequest) {
    this.#reply = reply;
    this.#conversation = conversation;
    this.#request = request;
    this.#plans = planOutput(reply, conversation, request.body);
    this.#frames = this.#generate();
  }

  next(): IteratorResult<StreamItem> {
    return this.#frames.next();
  }

  return(): IteratorResult<StreamItem> {
    return this.#frames.return(undefined);
  }

  /** `response.failed` for a fault at this point: the output as far as it got, and the error. */
  failed(message: string): string {
    const output = this.#progress.map(({ plan, sent, done }) => itemJson(plan, { done, sent, status: done ? 'completed' : 'incomplete' }));
    const response = this.#envelope({ status: 'failed', completedAt: null, error: { code: 'server_error', message }, incompleteDetails: null, output, usage: null });
    return this.#event('response.failed', `"response":${JSON.stringify(response)}`);
  }

  #envelope(fields: Parameters<typeof envelope>[4]): Record<string, unknown> {
    return envelope(this.#id, this.#createdAt, this.#request.body, this.#conversation.model, fields);
  }

  /** One frame; `fields` is the JSON after `type` and `sequence_number`, without braces. */
  #event(type: string, fields: string): string {
    return `event: ${type}\ndata: {"type":"${type}","sequence_number":${this.#sequence++},${fields}}\n\n`;
  }

  *#generate(): Generator<StreamItem> {
    const pending = { status: 'in_progress', completedAt: null, error: null, incompleteDetails: null, output: [], usage: null };
    yield this.#event('response.created', `"response":${JSON.stringify(this.#envelope(pending))}`);
    yield this.#event('response.in_progress', `"response":${JSON.stringify(this.#envelope(pending))}`);
    const { status, incompleteDetails } = outcomeOf(this.#reply);
    const finalItems: Record<string, unknown>[] = [];

    for (const [outputIndex, plan] of this.#plans.entries()) {
      const progress = { plan, sent: 0, done: false };
      this.#progress.push(progress);
      const at = `"output_index":${outputIndex}`;
      const ids = `"item_id":"${plan.id}",${at}`;
      const added = plan.type === 'message' ? { id: plan.id, type: 'message', status: 'in_progress', content: [], role: 'assistant' } : itemJson(plan, { done: false });
      yield this.#event('response.output_item.added', `${at},"item":${JSON.stringify(added)}`);
      if (plan.type === 'reasoning') {
        if (plan.summary !== undefined) {
          // One summary part; its deltas are not content chunks (pacing and faults count the answer's).
          const summary = `${ids},"summary_index":0`;
          yield this.#event('response.reasoning_summary_part.added', `${summary},"part":${JSON.stringify(summaryPart(''))}`);
          progress.sent = 0;
          for (const chunk of plan.chunksJson) {
            progress.sent++;
            yield this.#event('response.reasoning_summary_text.delta', `${summary},"delta":${chunk}`);
          }
          yield this.#event('response.reasoning_summary_text.done', `${summary},"text":${JSON.stringify(plan.summary)}`);
          yield this.#event('response.reasoning_summary_part.done', `${summary},"part":${JSON.stringify(summaryPart(plan.summary))}`);
        }
      } else if (plan.type === 'message') {
        yield this.#event('response.content_part.added', `${ids},"content_index":0,"part":${JSON.stringify(textPart(''))}`);
        for (const chunk of plan.chunksJson) {
          yield CONTENT_CHUNK;
          progress.sent++;
          yield this.#event('response.output_text.delta', `${ids},"content_index":0,"delta":${chunk},"logprobs":[]`);
        }
        const text = JSON.stringify(plan.text);
        yield this.#event('response.output_text.done', `${ids},"content_index":0,"text":${text},"logprobs":[]`);
        yield this.#event('response.content_part.done', `${ids},"content_index":0,"part":${JSON.stringify(textPart(plan.text))}`);
      } else {
        for (const fragment of plan.fragmentsJson) {
          yield CONTENT_CHUNK;
          progress.sent++;
          yield this.#event('response.function_call_arguments.delta', `${ids},"delta":${fragment}`);
        }
        yield this.#event('response.function_call_arguments.done', `${ids},"name":${JSON.stringify(plan.name)},"arguments":${JSON.stringify(plan.arguments)}`);
      }
      progress.done = true;
      const item = itemJson(plan, { done: true, status: status === 'incomplete' && plan.type === 'message' ? 'incomplete' : 'completed' });
      finalItems.push(item);
      yield this.#event('response.output_item.done', `${at},"item":${JSON.stringify(item)}`);
    }

    remember(this.#id, this.#request, this.#plans);
    const response = this.#envelope({
      status,
      completedAt: status === 'completed' ? now() : null,
      error: null,
      incompleteDetails,
      output: finalItems,
      usage: responsesUsage(this.#reply, this.#conversation, this.#request.body),
    });
    this.#request.onCompleted?.(response);
    yield this.#event(status === 'completed' ? 'response.completed' : 'response.incomplete', `"response":${JSON.stringify(response)}`);
  }
}

export function renderResponseStream(reply: Reply, conversation: Conversation, request: ResponsesRequest): ResponsesStream {
  return new ResponsesStream(reply, conversation, request);
}

/** The fault frame: `response.failed` numbered after what was sent; a top-level `error` event should the stream be another's. */
export function renderResponsesStreamError(message: string, frames: Iterator<StreamItem>): string {
  if (frames instanceof ResponsesStream) return frames.failed(message);
  return `event: error\ndata: ${JSON.stringify({ type: 'error', code: 'server_error', message, param: null, sequence_number: 0 })}\n\n`;
}

/** The prompt-cache simulation's view of a Responses request (`settings.prompt_cache`). */
export function responsesCacheQuery(request: ResponsesRequest, conversation: Conversation): PromptCacheQuery | undefined {
  const body = request.body as ResponsesBody & { prompt_cache_key?: unknown; prompt_cache_retention?: unknown };
  return openAiCacheQuery(conversation.model, conversation.messages, { promptCacheKey: body.prompt_cache_key, retention: body.prompt_cache_retention });
}
