// The provider seam: what one API (OpenAI, Anthropic, …) declares to be served. A provider is a
// folder under providers/ plus one line in providers/index.ts; nothing else names providers.
import type { Context } from 'koa';
import type { Clock } from '../engine/clock.ts';
import type { Conversation } from '../engine/conversation.ts';
import type { MoreReply } from '../engine/decide.ts';
import type { Reply } from '../engine/reply-plan.ts';
import type { RuleStore } from '../engine/store.ts';
import type { ApiError } from '../http/errors.ts';
import type { Framing } from '../http/framing.ts';
import type { StreamItem } from '../http/stream-writer.ts';
import type { ConversationStore, PromptCacheStore, RequestJournal, ResponseHistoryStore, StoredResponseStore } from '../state/types.ts';
import type { PromptCacheQuery } from '../engine/prompt-cache.ts';

export type { MoreReply } from '../engine/decide.ts';

/** What a provider's handlers may use from the server around them. */
export interface ProviderDeps {
  store: RuleStore;
  /** Strict validation, from MOCKLLM_STRICT when set, else the config's `settings.strict`. */
  strictOverride: boolean | undefined;
  /** Told when a stream starts and ends (the active-streams gauge). */
  streams: { opened(): void; closed(): void };
  /** Stored responses (OpenAI Responses `previous_response_id`). */
  responses: ResponseHistoryStore;
  /** OpenAI Conversations, and stored Responses objects (GET /v1/responses/{id}). */
  conversations: ConversationStore;
  storedResponses: StoredResponseStore;
  /**
   * The request journal, for a route that serves several requests on one connection (each
   * `response.create` on a WebSocket is listed as a request of its own). HTTP requests are
   * journaled around the route, never by it.
   */
  journal?: RequestJournal;
  /** The prompt-cache simulation's live prefixes (`settings.prompt_cache`). */
  promptCache: PromptCacheStore;
  clock: Clock;
  /** Every registered provider (model catalogue, error shapes). */
  providers: readonly Provider[];
  /**
   * Proxy on a miss (src/proxy/, `--upstream`): answers a request no rule matched from the
   * provider's upstream. Resolves false, having done nothing, when the provider has no upstream.
   */
  upstream?: (ctx: Context, conversation: Conversation, stream: boolean, request: unknown) => Promise<boolean>;
}

/** A request as a route sees it: path parameters, query, headers and the parsed body. */
export interface RouteRequest {
  /** The route template's `{name}` parameters, URL-decoded. */
  params: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string | string[] | undefined>>;
  header(name: string): string | undefined;
  /** The parsed JSON body (undefined for methods without one). */
  body: unknown;
  /** Whether to reject what the real API rejects (unknown fields and the like). */
  strict: boolean;
}

/** What an adapter's parse makes of a request: the provider's own request, and the neutral conversation. */
export interface Parsed<Request> {
  request: Request;
  conversation: Conversation;
  /** Further prompts answered in the same response (see DecideOptions.more). */
  more?: Conversation[];
  /** Inputs tried in turn, only by rules naming the endpoint (see DecideOptions.inputs). */
  inputs?: Conversation[];
  /** Look at the answer without counting a sequence step (count_tokens). */
  peek?: boolean;
}

/**
 * A provider's codec for one endpoint that the core answers: parse the request, then render the
 * core's decision as JSON or as a stream. Errors, latency, faults, journal, logs and metrics are
 * handled around it (answer-route.ts), the same for every provider.
 */
export interface AnswerAdapter<Request> {
  /** Validates the request (throwing ApiError in the provider's words) and normalises it. */
  parse(request: RouteRequest, deps: ProviderDeps): Parsed<Request> | Promise<Parsed<Request>>;
  /** Whether the client asked for a stream. */
  streams(request: Request): boolean;
  /** The answer as one JSON body. `reply` is undefined only for `inputs` requests nothing matched. */
  renderJson(reply: Reply | undefined, conversation: Conversation, request: Request, more: readonly MoreReply[]): unknown;
  /** The answer as frames in `framing`, content chunks marked. */
  renderStream?(reply: Reply, conversation: Conversation, request: Request, more: readonly MoreReply[]): Iterator<StreamItem>;
  /**
   * The provider's in-stream error frame, for a rule's mid-stream fault. Built when the fault fires,
   * with the frames of the stream it interrupts (from renderStream), for encoders whose error frame
   * depends on what was sent: the Responses API numbers every event.
   */
  renderStreamError?(message: string, frames: Iterator<StreamItem>): string | Uint8Array;
  /**
   * The request's prompt as the prompt-cache simulation sees it (`settings.prompt_cache`): asked
   * only when the simulation is on and the request is answered; undefined when nothing is cacheable.
   */
  promptCache?(request: Request, conversation: Conversation): PromptCacheQuery | undefined;
  /** How the stream is framed (SSE unless said otherwise; may depend on the request, e.g. `?alt=sse`). */
  framing?(request: Request): Framing;
  /**
   * State writes rendering the answer started (a networked store writes in the background), awaited
   * before the answer's last byte: a client that reads the whole answer and asks another replica
   * next finds them there.
   */
  settled?(request: Request): Promise<unknown>;
}

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface ProviderRoute {
  method: HttpMethod;
  /**
   * The path, with `{name}` parameters: `/v1/messages`, `/v1/models/{id}`,
   * `/v1beta/models/{model}:generateContent`. A parameter matches within one path segment.
   */
  path: string;
  /**
   * Set on a route that serves only requests to upgrade the connection to this protocol
   * (`Upgrade: websocket`): other requests for the method and path are not its own. Its handler
   * takes the connection over from `ctx.req.socket` and sets `ctx.respond = false`; whatever it
   * throws before that is answered over HTTP as for any route (the server's upgrade hook runs the
   * request through the same middleware: CORS, journal, errors).
   */
  upgrade?: 'websocket';
  /**
   * Whether a request to this route asks for a stream, read from the raw body: what the journal
   * records for a request the parser refused (a parsed one says it itself). Without it: the body's
   * `stream` is true. Routes that stream by path (Gemini, Bedrock) or by default (Ollama) say so.
   */
  requestsStream?(body: unknown): boolean;
  handle(ctx: Context, request: RouteRequest, deps: ProviderDeps): Promise<void>;
}

/** A provider's models, for its own listing route and for `models:` entries that name it. */
export interface ProviderModels {
  /** What it lists when the config has no `models:`. */
  defaults: readonly import('../config/schema.ts').ModelSpec[];
  /** Whether a model id is this provider's when a `models:` entry does not say (`claude-*` → Anthropic). */
  owns(id: string): boolean;
}

export interface Provider {
  name: string;
  routes: readonly ProviderRoute[];
  /**
   * Whether a request is this provider's, by path and headers: decides whose error shape a request
   * for an unknown path gets, and which provider serves a path that several declare (`/v1/models`).
   * `query` reads the query string where one is known (Gemini's `?key=`).
   */
  claims(path: string, header: (name: string) => string | undefined, query?: (name: string) => string | undefined): boolean;
  newRequestId(): string;
  /** Headers the real API sends on every answer, errors included. */
  responseHeaders(requestId: string): Record<string, string>;
  /** A header that carries the processing time in ms, as OpenAI's `openai-processing-ms` does. */
  timingHeader?: string;
  errorBody(error: ApiError, requestId: string): unknown;
  /**
   * The headers an error goes out with, when the provider has its own (Bedrock's
   * `x-amzn-errortype`); by default the error's own (`retry-after`). Applies to every error of a
   * request the provider owns, those raised before its route runs (a body that is not JSON) too.
   */
  errorHeaders?(error: ApiError): Record<string, string>;
  /** The provider's words for a request body that is not JSON. */
  malformedJsonMessage: string;
  /** The provider's words for a path it does not serve. */
  unknownRouteMessage(method: string, path: string): string;
  /** Request headers its clients send (CORS preflight allow-list). */
  requestHeaders?: readonly string[];
  models?: ProviderModels;
  /** Turns an upstream's answer into a rule's response, for `--record` (src/proxy/record.ts). */
  recorder?: ProviderRecorder;
}

/** One frame of an upstream's stream (an SSE event, an NDJSON line), with when it arrived. */
export interface UpstreamFrame {
  event?: string;
  data: string;
  /** Milliseconds from sending the request upstream to this frame's arrival. */
  atMs: number;
}

/** What an upstream answered to a proxied request, complete, for a provider's recorder. */
export interface UpstreamAnswer {
  /** The route template that received the request, e.g. `/v1/chat/completions`. */
  endpoint: string;
  status: number;
  header(name: string): string | undefined;
  /** The whole body as text (for a stream, every frame). */
  body: string;
  /** For an SSE or NDJSON answer: its frames in order; undefined for one JSON body. */
  frames: readonly UpstreamFrame[] | undefined;
}

/** A rule's response decoded from an upstream's answer. */
export interface Recording {
  response: import('../config/schema.ts').ResponseObject;
  /** For a stream: when each content frame arrived (ms from the request), for the rule's latency. */
  contentAtMs?: readonly number[];
}

export interface ProviderRecorder {
  /**
   * A successful answer (2xx) as a rule's response: text, tool calls (names, arguments, ids),
   * finish reason and usage. Undefined when the endpoint is not recordable or the answer is not
   * whole (a stream that ended before its terminal event). Error answers are decoded in src/proxy/.
   */
  decode(answer: UpstreamAnswer): Recording | undefined;
  /**
   * Keeps what later requests may name from a proxied answer that completed (2xx), given the
   * adapter's parsed request: a Responses answer's id, so that a request continuing it with
   * `previous_response_id` is understood here, proxied and recorded in turn.
   */
  remember?(answer: UpstreamAnswer, request: unknown): void;
}
export type RequestInfo = Pick<RouteRequest, 'header' | 'strict'>;
