import type { Context } from 'koa';
import type { Conversation } from '../engine/conversation.ts';
import type { Reply } from '../engine/reply-plan.ts';
import type { RuleStore } from '../engine/store.ts';
import type { ApiError } from '../http/errors.ts';
import type { StreamItem } from '../http/sse.ts';

/** What a provider's handlers may use from the server around them. */
export interface ProviderDeps {
  store: RuleStore;
  /** Strict validation, from MOCKLLM_STRICT when set, else the config's `settings.strict`. */
  strictOverride: boolean | undefined;
  /** Told when an SSE stream starts and ends (the active-streams gauge). */
  streams: { opened(): void; closed(): void };
}

export interface RequestInfo {
  header(name: string): string | undefined;
  strict: boolean;
}

/** What an adapter's parse makes of a request. */
export interface ParsedChat<Request> {
  request: Request;
  conversation: Conversation;
  /**
   * Further prompts answered in the same response, each matched and answered on its own (a legacy
   * completions `prompt` array). Latency and faults follow the first prompt's answer.
   */
  more?: Conversation[];
}

/** The answer to one of a request's further prompts (see ParsedChat.more). */
export interface MoreReply {
  conversation: Conversation;
  reply: Reply;
}

/** A provider's request/response codec for one chat-like endpoint. */
export interface ChatAdapter<Request> {
  /** Validates the body (throwing ApiError in the provider's words) and normalises it. */
  parse(body: unknown, info: RequestInfo): ParsedChat<Request>;
  renderJson(reply: Reply, conversation: Conversation, request: Request, more: readonly MoreReply[]): unknown;
  renderStream(reply: Reply, conversation: Conversation, request: Request, more: readonly MoreReply[]): Iterator<StreamItem>;
  /**
   * The provider's in-stream error frame, for a rule's mid-stream fault. Built when the fault fires,
   * with the frames of the stream it interrupts (from renderStream), for encoders whose error frame
   * depends on what was sent: the Responses API numbers every event.
   */
  renderStreamError(message: string, frames: Iterator<StreamItem>): string;
  /** Whether the client asked for a stream. */
  streams(request: Request): boolean;
}

export interface ProviderRoute {
  method: 'GET' | 'POST';
  path: string;
  handle(ctx: Context, deps: ProviderDeps): Promise<void>;
}

export interface Provider {
  name: string;
  routes: readonly ProviderRoute[];
  /** Whether a request for a path nobody serves should get this provider's error shape. */
  claims(path: string, header: (name: string) => string | undefined): boolean;
  newRequestId(): string;
  /** Headers the real API sends on every answer, errors included. */
  responseHeaders(requestId: string): Record<string, string>;
  /** A header that carries the processing time in ms, as OpenAI's `openai-processing-ms` does. */
  timingHeader?: string;
  errorBody(error: ApiError, requestId: string): unknown;
  /** The provider's words for a request body that is not JSON. */
  malformedJsonMessage: string;
  /** The provider's words for a path it does not serve. */
  unknownRouteMessage(method: string, path: string): string;
}
