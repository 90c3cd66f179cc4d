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

/** A provider's request/response codec for one chat-like endpoint. */
export interface ChatAdapter<Request> {
  /** Validates the body (throwing ApiError in the provider's words) and normalises it. */
  parse(body: unknown, info: RequestInfo): { request: Request; conversation: Conversation };
  renderJson(reply: Reply, conversation: Conversation, request: Request): unknown;
  renderStream(reply: Reply, conversation: Conversation, request: Request): Iterator<StreamItem>;
  /** The provider's in-stream error frame, for a rule's mid-stream fault. */
  renderStreamError(message: string): string;
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
